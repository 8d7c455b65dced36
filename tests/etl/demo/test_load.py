"""`gisapp demo load`: the demo city goes through the ETL pipeline, once, with its rejects recorded."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl.demo import GENERATOR_VERSION
from etl.demo.generate import OSM_LAYERS
from etl.demo.load import ensure_generated
from etl.demo.osm_streets import EXTRACT
from layers import LAYERS, TABLES

PARCELS = 400
SEED = 5


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The small city's files, generated once for the module (16 s at load 10)."""
    city = tmp_path_factory.mktemp("generated") / "city"
    ensure_generated(city, SEED, PARCELS)
    return city


@pytest.fixture()
def load(runner, scratch_url: str, tmp_path: Path, generated: Path):
    """Run `gisapp demo load` on the scratch database with a copy of the small city in
    tmp_path (`demo load` finds it generated, as a second run would)."""
    city = tmp_path / "city"
    shutil.copytree(generated, city)

    def invoke(*extra: str):
        return runner("demo", "load", "--dir", str(city), "--seed", str(SEED),
                      "--parcels", str(PARCELS), *extra,
                      env={"DATABASE_URL": scratch_url, "GISAPP_DATA_DIR": str(tmp_path / "data")})

    invoke.city = city
    return invoke


def _count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def test_demo_load_fills_every_layer_and_records_rejects(load, scratch_url: str):
    result = load()
    assert result.exit_code == 0, result.output
    manifest = json.loads((load.city / "manifest.json").read_text(encoding="utf-8"))
    with psycopg.connect(scratch_url) as conn:
        runs, osm_loaded = {}, {}
        for layer, source, *row in conn.execute(
                "SELECT layer, source, id, rows_read, rows_loaded, rows_rejected,"
                " started_by FROM etl_runs WHERE status = 'succeeded'"):
            if Path(source).name == EXTRACT.name:  # upserted after the generated file
                osm_loaded[layer] = row[2]
            else:
                runs[layer] = row
        assert set(osm_loaded) == set(OSM_LAYERS)
        for layer_id in [*LAYERS, *TABLES]:
            run_id, read, loaded, rejected, started_by = runs[layer_id]
            assert started_by == f"demo {GENERATOR_VERSION}/{SEED}/{PARCELS}"
            assert read == manifest["counts"][layer_id]
            table = (LAYERS.get(layer_id) or TABLES[layer_id]).table
            assert _count(conn, table) == loaded + osm_loaded.get(layer_id, 0) > 0
        reasons = [r[0] for r in conn.execute(
            "SELECT j.reason FROM etl_rejects j JOIN etl_runs r ON r.id = j.run_id"
            " WHERE r.layer = 'parcels' ORDER BY j.row_number")]
        light_rejects = runs["street_lights"][3]
        rasters = {r[0] for r in conn.execute("SELECT name FROM rasters")}
    assert any("parcel_no" in r for r in reasons) and any("duplicate key" in r for r in reasons)
    assert any("outside" in r for r in reasons) and any("land_use" in r for r in reasons)
    assert light_rejects == 2
    assert rasters == {"elevation", "flood_depth"}
    assert "parcels" in result.output and "rejected" in result.output


def test_second_load_is_a_no_op_unless_forced(load, scratch_url: str):
    assert load().exit_code == 0
    again = load()
    assert again.exit_code == 0 and "demo city already loaded" in again.output
    with psycopg.connect(scratch_url) as conn:
        before = conn.execute("SELECT count(*) FROM etl_runs").fetchone()[0]
    forced = load("--force")
    assert forced.exit_code == 0, forced.output
    with psycopg.connect(scratch_url) as conn:
        after = conn.execute("SELECT count(*) FROM etl_runs").fetchone()[0]
    assert after == before + len(json.loads((load.city / "manifest.json").read_text())["entries"])


def test_failed_run_makes_the_load_fail_with_its_layer_named(load):
    assert load().exit_code == 0
    (load.city / "roads.geojson").write_text("this is not GeoJSON", encoding="utf-8")
    result = load("--force")
    assert result.exit_code != 0
    assert "roads" in result.output and "demo load failed" in result.output
