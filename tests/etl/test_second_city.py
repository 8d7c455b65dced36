"""Another province is the city module and its data: Hà Nội in its own TM-3 zone (EPSG:5897)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import shapely
from pyproj import Transformer

from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers.city import CITY, DA_NANG, select_city
from tests.etl.second_city import HA_NOI

ROOT = Path(__file__).resolve().parents[2]
HOAN_KIEM = (105.8524, 21.0288)
TO_HANOI_TM3 = Transformer.from_crs(4326, HA_NOI.metric_srid, always_xy=True)


@pytest.fixture()
def hanoi_source(point_layer, make_frame, write_source) -> Path:
    """Two points at Hoàn Kiếm Lake, 50 m apart, written in Hà Nội's VN-2000 / TM-3."""
    e, n = TO_HANOI_TM3.transform(*HOAN_KIEM)
    gdf = make_frame(point_layer, [shapely.Point(e, n), shapely.Point(e + 50, n)],
                     crs=HA_NOI.metric_crs)
    return write_source(gdf, "gpkg", name="hanoi")


def test_the_default_city_is_da_nang_in_tm3_107_45():
    assert CITY is DA_NANG and DA_NANG.metric_crs == "EPSG:5899"
    assert DA_NANG.central_meridian == 107.75 and DA_NANG.timezone == "Asia/Ho_Chi_Minh"


def test_gisapp_city_naming_no_city_is_refused():
    with pytest.raises(ValueError, match="names no city"):
        select_city("tests.etl.second_city:NOWHERE")
    with pytest.raises(ValueError, match="not a City"):
        select_city("tests.etl.second_city:City")


def test_da_nang_refuses_the_hanoi_file_as_outside_the_city(scratch_url, point_layer,
                                                             hanoi_source):
    with pytest.raises(ImportFailed, match="2 rejected") as info:
        run_import(scratch_url, ImportRequest(point_layer.id, hanoi_source))
    with psycopg.connect(scratch_url) as conn:
        reasons = conn.execute("SELECT reason FROM etl_rejects WHERE run_id = %s",
                               (info.value.result.run_id,)).fetchall()
    assert reasons == [("outside the city extent",)] * 2


def test_hanoi_city_imports_serves_and_tiles_its_own_data(scratch_url, point_layer,
                                                          hanoi_source, tmp_path):
    env = {**os.environ, "GISAPP_CITY": "tests.etl.second_city:HA_NOI",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "tests.etl.second_city_probe", scratch_url, str(hanoi_source),
         point_layer.id, str(tmp_path / "data")],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    city = seen["city"]
    assert city["id"] == "ha_noi" and city["center"] == list(HOAN_KIEM) and city["zoom"] == 14
    assert city["bounds"] == list(HA_NOI.bounds) and city["timezone"] == "Asia/Ho_Chi_Minh"
    assert city["metric_crs"] == {"code": "EPSG:5897", "name": "VN-2000 / TM-3 105°00′",
                                  "central_meridian": 105.0}
    assert (seen["loaded"], seen["rejected"]) == (2, 0)
    # reprojected with the VN-2000 datum shift: back at the lake to the centimetre
    lon, lat = min(seen["lonlat"])
    assert abs(lon - HOAN_KIEM[0]) < 2e-7 and abs(lat - HOAN_KIEM[1]) < 2e-7
    # the features API serves the city's metric CRS: the points 50 m apart again
    (e0, n0), (e1, n1) = sorted(seen["metric"])
    assert abs((e1 - e0) - 50) < 0.01 and abs(n1 - n0) < 0.01
    assert abs(e0 - TO_HANOI_TM3.transform(*HOAN_KIEM)[0]) < 0.01
    assert seen["tile_status"] == 200 and seen["tile_features"] == 2
