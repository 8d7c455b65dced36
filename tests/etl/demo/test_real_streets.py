"""The loaded demo city (the test database, read only) on the real streets of Hải Châu."""
from __future__ import annotations

import subprocess
import unicodedata

import psycopg
import pyogrio
import pytest
import shapely

from etl.demo.osm_streets import BOUNDS, EXTRACT
from layers import LAYERS
from layers.city import CITY
from layers.sources import OPENSTREETMAP

# Carriageway widths (m) by class, for roads without a narrower right of way: 4 lanes of
# 3.5 m for a primary, 3 for a secondary, 2 for a tertiary, a kiệt (alley) for the rest.
CARRIAGEWAY_M = {"primary": 14.0, "secondary": 10.0, "tertiary": 7.0, "residential": 4.0}
ENVELOPE = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
METRIC = CITY.metric_srid  # areas and distances in metres


def rows(url: str, query: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _named_ways() -> dict[str, str]:
    """road_id -> name of every named road the roads layer's mapping takes from the extract."""
    wanted = dict(LAYERS["roads"].osm.select)["highway"]
    frame = pyogrio.read_dataframe(EXTRACT, layer="lines", columns=["osm_id", "name", "highway"],
                                   read_geometry=False)
    frame = frame[frame["highway"].isin(wanted) & frame["name"].notna()]
    return {f"way/{i}": unicodedata.normalize("NFC", n) for i, n in zip(frame["osm_id"],
                                                                        frame["name"])}


def test_a_point_on_hoang_dieu_lies_on_our_road_within_a_metre(test_url):
    # OSM way 35950868 is Đường Hoàng Diệu: a point half way along it, read by GDAL's own CLI
    out = subprocess.run(["ogrinfo", "-ro", "-q", str(EXTRACT), "-sql",
                          "SELECT osm_id FROM lines WHERE osm_id = '35950868'", "-geom=ISO_WKT"],
                         capture_output=True, text=True, check=True).stdout
    line = shapely.from_wkt(out[out.index("LINESTRING"):].splitlines()[0])
    point = line.interpolate(0.5, normalized=True)
    assert shapely.box(*BOUNDS).contains(point)
    (name, metres), = rows(
        test_url, "SELECT name, ST_Distance(ST_Transform(geom, %s), ST_Transform("
                  "ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s)) AS d FROM roads"
                  " ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326) LIMIT 1",
        METRIC, point.x, point.y, METRIC, point.x, point.y)
    assert name == "Đường Hoàng Diệu" and metres < 1.0


def test_streets_in_the_block_are_the_osm_streets_with_their_names(test_url):
    named = _named_ways()
    ours = dict(rows(test_url, "SELECT road_id, name FROM roads WHERE road_id LIKE 'way/%%'"
                               " AND name IS NOT NULL"))
    assert ours == named and len(named) > 500
    assert {"Đường Hoàng Diệu", "Đường Trần Phú", "Đường Nguyễn Văn Linh"} <= set(ours.values())
    generated = rows(test_url, "SELECT road_id FROM roads WHERE road_id NOT LIKE 'way/%%'"
                               f" AND ST_Intersects(geom, {ENVELOPE})", *BOUNDS)
    assert generated == []


def test_parcels_in_the_block_are_addressed_on_its_real_streets(test_url):
    names = {n.removeprefix("Đường ") for n in _named_ways().values()}
    found = rows(test_url, "SELECT street, address FROM parcels"
                           f" WHERE ST_Within(geom, {ENVELOPE})", *BOUNDS)
    assert len(found) > 5000
    assert {street for street, _ in found} <= names
    assert all(address.split(" ", 1)[1].startswith(street + ", phường ")
               for street, address in found)
    # one house number per lot along a street, odd on one side and even on the other
    numbers = rows(test_url, "SELECT street, split_part(address, ' ', 1)::int, count(*)"
                             " FROM parcels WHERE street = 'Hoàng Diệu' GROUP BY 1, 2")
    assert len(numbers) > 100 and max(n for _, _, n in numbers) == 1
    parity = {no % 2 for _, no, _ in numbers}
    assert parity == {0, 1}


def test_no_parcel_overlaps_another_parcel(test_url):
    (count, worst), = rows(
        test_url, "SELECT count(*), max(a) FROM (SELECT ST_Area(ST_Intersection("
                  "ST_Transform(p.geom, %s), ST_Transform(q.geom, %s))) AS a"
                  " FROM parcels p JOIN parcels q ON p.id < q.id AND p.geom && q.geom"
                  " AND ST_Intersects(p.geom, q.geom)) AS x WHERE a > 0.5", METRIC, METRIC)
    assert count == 0, f"{count} parcel pairs overlap, up to {worst} m²"


def test_no_parcel_overlaps_a_carriageway(test_url):
    width = "CASE r.road_class " + " ".join(
        f"WHEN '{c}' THEN {w}" for c, w in CARRIAGEWAY_M.items()) + " END"
    (count, sample), = rows(
        test_url, "SELECT count(*), min(uid) FROM (SELECT p.parcel_uid || ' / ' || r.road_id"
                  " AS uid, ST_Area(ST_Intersection(ST_Transform(p.geom, %s), ST_Buffer("
                  f"ST_Transform(r.geom, %s), LEAST({width}, coalesce(r.row_width, 99)) / 2,"
                  " 'endcap=flat'))) AS a FROM parcels p JOIN roads r"
                  " ON ST_DWithin(p.geom, r.geom, 0.0001)) AS x WHERE a > 0.5", METRIC, METRIC)
    assert count == 0, f"{count} parcels overlap a carriageway, e.g. {sample}"


def test_the_repaired_bow_tie_is_loaded_and_the_other_bad_rows_are_not(test_url):
    (loaded, rejected), = rows(test_url, "SELECT rows_loaded, rows_rejected FROM etl_runs"
                                         " WHERE layer = 'parcels' AND status = 'succeeded'"
                                         " ORDER BY id DESC LIMIT 1")
    (count,), = rows(test_url, "SELECT count(*) FROM parcels")
    assert count == loaded and rejected == 4  # number, duplicate key, 200 km away, land use


@pytest.mark.parametrize("layer_id", ["roads", "water", "buildings", "wifi_aps", "parcels",
                                      "drainage_pipes", "street_lights"])
def test_layers_made_from_openstreetmap_credit_it(client, layer_id):
    doc = client.get(f"/tiles/{layer_id}.json").get_json()
    assert OPENSTREETMAP.attribution in doc["attribution"]
