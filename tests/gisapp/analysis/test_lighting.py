"""Lighting analysis on ward 99999 (conftest.py ward_url)."""
import math

import pytest

from gisapp.analysis.lighting import (UnlitRequest, cabinet_lights, cabinet_loads,
                                      lights_out_of_service, unlit_streets)
from gisapp.errors import NotFound
from layers import levels_for

PUBLIC = levels_for("public")
HALF_CHORD = math.sqrt(25 ** 2 - 5 ** 2)  # L1 stands 5 m off the street and reaches 25 m


def test_unlit_stretches_are_the_street_beyond_the_working_lights_reach(ward_engine):
    with ward_engine.connect() as conn:
        fc = unlit_streets(conn, UnlitRequest.parse({"ward": "99999", "distance_m": "25",
                                                     "min_length_m": "0"}))
    lengths = sorted(f["properties"]["length_m"] for f in fc["features"])
    assert lengths == [pytest.approx(50 - HALF_CHORD, abs=0.05),
                       pytest.approx(150 - HALF_CHORD, abs=0.05)]
    assert fc["properties"]["unlit_length_m"] == pytest.approx(200 - 2 * HALF_CHORD, abs=0.1)


def test_short_stretches_are_left_out(ward_engine):
    with ward_engine.connect() as conn:
        fc = unlit_streets(conn, UnlitRequest.parse({"ward": "99999", "min_length_m": "30"}))
    assert [round(f["properties"]["length_m"]) for f in fc["features"]] == [126]


def test_lights_out_of_service_are_listed(ward_engine):
    with ward_engine.connect() as conn:
        fc = lights_out_of_service(conn, PUBLIC, "99999")
    assert [f["properties"]["light_id"] for f in fc["features"]] == ["L2"]


def test_cabinet_load_sums_the_wattage_it_feeds(ward_engine):
    with ward_engine.connect() as conn:
        props = {f["properties"]["cabinet_id"]: f["properties"]
                 for f in cabinet_loads(conn)["features"]}
        lights = cabinet_lights(conn, "K1", PUBLIC)
        with pytest.raises(NotFound):
            cabinet_lights(conn, "K9", PUBLIC)
    k1, k2 = props["K1"], props["K2"]
    assert (k1["lights"], k1["watts"], k1["working_watts"], k1["load_pct"]) == (2, 250, 100, 25.0)
    assert (k2["lights"], k2["watts"], k2["load_pct"]) == (0, 0, 0.0)
    assert sorted(f["properties"]["light_id"] for f in lights["features"]) == ["L1", "L2"]
