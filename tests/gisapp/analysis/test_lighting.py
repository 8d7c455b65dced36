"""Lighting analysis on ward 99999 (conftest.py ward_url)."""
import psycopg
import pytest
from shapely.geometry import LineString, Point

from gisapp.analysis.lighting import (UnlitRequest, cabinet_lights, cabinet_loads, dark_stretches,
                                      lights_out_of_service, unlit_streets)
from gisapp.errors import BadRequest, NotFound
from layers import levels_for
from tests.gisapp.analysis.conftest import E0, N0
from tests.world import FROM_METRIC

PUBLIC = levels_for("public")
G = FROM_METRIC


def unlit(engine, **args) -> dict:
    with engine.connect() as conn:
        return unlit_streets(conn, UnlitRequest.parse({"ward": "99999", "min_length_m": "0",
                                                       **args}))


def add_light(url: str, light_id: str, x: float, y: float) -> None:
    with psycopg.connect(url) as c:
        c.execute("INSERT INTO street_lights (light_id, status, wattage, geom) VALUES "
                  "(%s, 'working', 100, " + G + ")", (light_id, f"POINT({E0 + x} {N0 + y})"))


def lengths(fc: dict) -> list[float]:
    return sorted(round(f["properties"]["length_m"], 2) for f in fc["features"])


def test_a_light_lights_the_street_for_the_distance_either_side_along_it(ward_engine):
    # L1 stands 5 m off S1 at x = 50: x 25..75 is lit; the ward holds x 0..200 of S1
    fc = unlit(ward_engine, distance_m="25")
    assert lengths(fc) == [25.0, 125.0]
    assert fc["properties"]["unlit_length_m"] == pytest.approx(150.0, abs=0.01)
    assert (fc["properties"]["stretches"], fc["properties"]["offset_m"]) == (2, 15.0)


def test_short_stretches_are_left_out(ward_engine):
    fc = unlit(ward_engine, min_length_m="30")
    assert lengths(fc) == [125.0]


def test_a_light_beyond_the_offset_lights_nothing_of_the_street(ward_engine, ward_url):
    add_light(ward_url, "L3", 120, 70)  # 20 m off S1, e.g. beside a parallel lane
    assert lengths(unlit(ward_engine)) == [25.0, 125.0]
    # allowed 25 m off, it lights x 95..145 of S1
    assert lengths(unlit(ward_engine, offset_m="25")) == [20.0, 25.0, 55.0]


def test_a_light_outside_the_ward_lights_its_part_of_the_street_inside(ward_engine, ward_url):
    add_light(ward_url, "L4", -20, 48)  # lights x -45..5 of S1
    assert lengths(unlit(ward_engine)) == [20.0, 125.0]


def test_overlapping_reaches_merge_and_the_line_ends_clip_them():
    line = LineString([(0, 0), (100, 0)])
    lights = [Point(10, 2), Point(30, -2), Point(95, 0), Point(60, 40)]  # the last is 40 m off
    dark = dark_stretches(line, lights, reach=15, offset=15)
    assert [(d.coords[0][0], d.coords[-1][0]) for d in dark] == [(45.0, 80.0)]
    assert dark_stretches(line, [], reach=15, offset=15)[0].length == 100.0


@pytest.mark.parametrize("args", [{"ward": "99999", "offset_m": "60"},
                                  {"ward": "99999", "distance_m": "x"}, {}])
def test_bad_unlit_requests_are_refused(args):
    with pytest.raises(BadRequest):
        UnlitRequest.parse(args)


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
