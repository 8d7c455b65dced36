"""A small demo city, generated once per test session."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.demo.generate import generate_city

SMALL_PARCELS = 1500
SEED = 7


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> Path:
    """Directory of a generated demo city with ~1,500 parcels."""
    out = tmp_path_factory.mktemp("demo-city")
    generate_city(out, seed=SEED, parcel_count=SMALL_PARCELS)
    return out


@pytest.fixture(scope="session")
def manifest(small_city: Path) -> dict:
    return json.loads((small_city / "manifest.json").read_text(encoding="utf-8"))
