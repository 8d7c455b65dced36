"""The features API over the demo city (loaded by `make test` into the test database)."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote

import psycopg
import pytest
from pyproj import Transformer

from layers.city import CITY
from tests.gisapp.features.conftest import BRIDGE_LONLAT

TO_TM3 = Transformer.from_crs("OGC:CRS84", CITY.metric_crs, always_xy=True)


def scalar(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def walk(client, url: str) -> tuple[list[int], int]:
    """Follow next links from `url`; every id seen and the numberMatched of the first page.

    Later pages continue after the last id and are not counted (no numberMatched), or say
    the same count.
    """
    ids, matched = [], None
    while url:
        body = client.get(url).get_json()
        matched = body["numberMatched"] if matched is None else matched
        assert body.get("numberMatched", matched) == matched
        ids += [f["id"] for f in body["features"]]
        url = next((l["href"] for l in body["links"] if l["rel"] == "next"), None)
    return ids, matched


@pytest.mark.parametrize("layer_id, limit", [("roads", 50), ("drainage_nodes", 1000)])
def test_paging_walks_a_whole_demo_collection(client, test_url, layer_id, limit):
    total = scalar(test_url, f"SELECT count(*) FROM {layer_id}")  # test-side check, not app SQL
    assert total > limit
    ids, matched = walk(client, f"/collections/{layer_id}/items?limit={limit}")
    assert matched == total and len(ids) == total and len(set(ids)) == total


def test_sorted_paging_has_no_gaps_when_sort_keys_tie(client, test_url):
    ids, matched = walk(client, "/collections/parcels/items?limit=2500&properties=land_use"
                                "&sortby=land_use&filter=" + quote("land_use IN ('TMD','CLN')"))
    expected = scalar(test_url, "SELECT count(*) FROM parcels WHERE land_use IN ('TMD','CLN')")
    assert matched == expected == len(ids) == len(set(ids))


def test_cql2_text_and_json_agree_with_the_database(client, test_url):
    expected = scalar(test_url, "SELECT count(*) FROM parcels WHERE land_use = 'TMD' "
                                "AND legal_area > 200")
    text = client.get("/collections/parcels/items?limit=1&filter="
                      + quote("land_use = 'TMD' AND legal_area > 200")).get_json()
    tree = ('{"op":"and","args":[{"op":"=","args":[{"property":"land_use"},"TMD"]},'
            '{"op":">","args":[{"property":"legal_area"},200]}]}')
    json_ = client.get("/collections/parcels/items?limit=1&filter-lang=cql2-json&filter="
                       + quote(tree)).get_json()
    assert text["numberMatched"] == json_["numberMatched"] == expected > 0


def test_dwithin_on_demo_lights_matches_distances_computed_in_vn2000(client, test_url):
    lon, lat = BRIDGE_LONLAT
    with psycopg.connect(test_url) as conn:
        rows = conn.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM street_lights").fetchall()
    bx, by = TO_TM3.transform(lon, lat)
    near = set()
    for fid, x, y in rows:
        ex, ny = TO_TM3.transform(x, y)
        if ((ex - bx) ** 2 + (ny - by) ** 2) ** 0.5 <= 300:
            near.add(fid)
    body = client.get("/collections/street_lights/items?limit=1000&filter="
                      + quote(f"S_DWITHIN(geom, POINT({lon} {lat}), 300, meters)")).get_json()
    assert {f["id"] for f in body["features"]} == near and near


def test_bbox_on_demo_parcels_matches_the_database(client, test_url):
    lon, lat = BRIDGE_LONLAT
    box = (lon - .01, lat - .01, lon + .01, lat + .01)
    expected = scalar(test_url, "SELECT count(*) FROM parcels WHERE ST_Intersects(geom, "
                                "ST_MakeEnvelope(%s, %s, %s, %s, 4326))", *box)
    body = client.get("/collections/parcels/items?limit=1&bbox=" + ",".join(map(str, box)))
    assert body.get_json()["numberMatched"] == expected > 0


def test_demo_csv_has_one_row_per_matched_parcel(client):
    url = "/collections/parcels/items?f=csv&limit=10000&filter=" + quote("land_use = 'CLN'")
    rows = list(csv.reader(io.StringIO(client.get(url).get_data(as_text=True))))
    matched = client.get(url.replace("f=csv", "f=json")).get_json()["numberMatched"]
    assert len(rows) - 1 == matched > 0
    assert all(r[-1].startswith("MULTIPOLYGON") for r in rows[1:])
