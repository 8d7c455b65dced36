"""Tile fixtures: known features of every layer, written into the scratch database."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from etl.overviews import refresh_overview
from gisapp import create_app
from layers import LAYERS, Layer
from tests.shared_app import shared
from tests.world import insert_rows, row_values
from tiles.grid import Tile, tile_of

# Dragon Bridge, Da Nang (DOMAIN.md test point); features sit in its z16 tile.
CENTER = (108.22705602, 16.06114045)
ZOOM = 16


def center_tile(z: int = ZOOM) -> Tile:
    return Tile(z, *tile_of(*CENTER, z))


def _wkt(layer: Layer, lon: float, lat: float) -> str:
    d = 0.00005
    ring = f"{lon} {lat}, {lon + d} {lat}, {lon + d} {lat + d}, {lon} {lat + d}, {lon} {lat}"
    line = f"{lon} {lat}, {lon + d} {lat + d}"
    return {"Point": f"POINT({lon} {lat})", "MultiPoint": f"MULTIPOINT({lon} {lat})",
            "LineString": f"LINESTRING({line})", "MultiLineString": f"MULTILINESTRING(({line}))",
            "Polygon": f"POLYGON(({ring}))",
            "MultiPolygon": f"MULTIPOLYGON((({ring})))"}[layer.geometry_type]


def insert_features(url: str, layer: Layer, n: int, lon: float = CENTER[0],
                    lat: float = CENTER[1], start: int = 0, step: float = 0.0002) -> None:
    """n features of `layer`, every declared field filled, in a row eastwards from lon/lat."""
    rows = [row_values(layer, i) for i in range(start, start + n)]
    wkts = [_wkt(layer, lon + (i - start) * step, lat) for i in range(start, start + n)]
    with psycopg.connect(url) as conn:
        insert_rows(conn, layer, rows, wkts)


def fill_city(url: str) -> None:
    """3 features of every layer near the Dragon Bridge."""
    for layer in LAYERS.values():
        insert_features(url, layer, 3)
    with psycopg.connect(url) as conn:  # as an import does after its load
        for layer in LAYERS.values():
            refresh_overview(conn, layer)


@pytest.fixture(scope="session")
def city_url(own_database) -> str:
    """A database of our own (beside the test database) holding the small city; read-only.

    Built once per session; tests that write use `scratch_url` instead.
    """
    url = own_database("tilecity")
    fill_city(url)
    return url


@pytest.fixture()
def make_app(city_url: str, tmp_path: Path):
    """Build apps on the small city with extra settings; disposes their engines."""
    apps = []

    def make(**config):
        app = create_app({"DATABASE_URL": city_url, "TESTING": True, "SECRET_KEY": "test",
                          "DATA_DIR": tmp_path / "data", "PUBLIC_URL": "http://localhost",
                          **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["engine"].dispose()


@pytest.fixture(scope="session")
def city_app(city_url: str, tmp_path_factory):
    """One app over the small city for the session: its tests only read."""
    app = create_app({"DATABASE_URL": city_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("city-app") / "data",
                      "PUBLIC_URL": "http://localhost"})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def city_client(city_app):
    """A client of the session's small-city app (a test that changes the app fails)."""
    with shared(city_app):
        yield city_app.test_client()
