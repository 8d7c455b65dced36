"""Sources unpacked by the spool load through the pipeline: nested zips, folders, GPKG layers."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio
from psycopg import sql
from shapely.geometry import Point

from etl.encodings import encode
from etl.pipeline import ImportRequest, run_import
from gisapp.etl_ops import sources
from gisapp.settings import Settings
from layers import FieldType
from layers.city import CITY
from tests.gisapp.etl_ops.conftest import point_layer
from tests.world import field_value

LAYER = point_layer()
TEXT = next(f for f in LAYER.imported_fields if f.type == FieldType.TEXT and not f.choices
            and not f.required)


def _frame(n: int, crs: str = CITY.metric_crs) -> gpd.GeoDataFrame:
    data = {f.name: [field_value(f, i) for i in range(n)]
            for f in LAYER.imported_fields if f.type == FieldType.TEXT}
    data[TEXT.name] = [encode("Đường Bạch Đằng", "tcvn3")] * n
    geoms = [Point(550846.113 + 10 * i, 1776402.965) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def _settings(tmp_path: Path) -> Settings:
    return Settings.load({"data_dir": tmp_path / "data", "max_upload_mb": 5})


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT {}, round(ST_X(geom)::numeric, 4) FROM {}").format(
            sql.Identifier(TEXT.name), sql.Identifier(LAYER.table))).fetchall()


def test_shapefile_in_nested_folders_inside_a_nested_zip_loads(scratch_url, tmp_path):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    pyogrio.write_dataframe(_frame(4), shp_dir / "Cống thoát.shp", encoding="ISO-8859-1")
    (shp_dir / "Cống thoát.cpg").unlink(missing_ok=True)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f"2024/quan Hai Chau/{f.name}")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("delivery/inner.zip", inner.getvalue())
        zf.writestr("delivery/readme.txt", "not imported")
    outer.seek(0)
    prepared = sources.prepare(_settings(tmp_path), upload=outer, filename="delivery.zip")
    assert prepared.path.suffix == ".shp" and prepared.path.is_relative_to(prepared.spool)
    assert all(p.name.isascii() for p in prepared.spool.rglob("*"))
    result = run_import(scratch_url, ImportRequest(layer=LAYER.id, path=prepared.path))
    assert result.rows_loaded == 4
    rows = _rows(scratch_url)
    assert {r[0] for r in rows} == {"Đường Bạch Đằng"} and min(r[1] for r in rows) > 108


def test_geopackage_layer_is_chosen_with_source_layer(scratch_url, tmp_path):
    gpkg = tmp_path / "weekly.gpkg"
    pyogrio.write_dataframe(_frame(3), gpkg, layer="nodes")
    pyogrio.write_dataframe(_frame(5), gpkg, layer="other", append=False)
    with open(gpkg, "rb") as fh:
        prepared = sources.prepare(_settings(tmp_path), upload=fh, filename="weekly.gpkg",
                                   source_layer="nodes")
    assert prepared.source_layer == "nodes"
    result = run_import(scratch_url, ImportRequest(layer=LAYER.id, path=prepared.path,
                                                   source_layer=prepared.source_layer))
    assert result.rows_loaded == 3
