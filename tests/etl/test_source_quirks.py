"""Source quirks: Shapefile without .prj, Polygons mixed with MultiPolygons, Z and M values."""
from __future__ import annotations

import subprocess

import pytest
import shapely
from psycopg import sql
from pyproj import Geod

from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers import LAYERS
from layers.city import CITY
from tests.etl.conftest import DRAGON_TM3, DRAGON_LONLAT

GEOD = Geod(ellps="WGS84")
AREA_LAYER = next(layer for layer in LAYERS.values()
                  if layer.geometry_type == "MultiPolygon" and not layer.versioned)


def _box(dx: float, dy: float) -> shapely.Polygon:
    x, y = DRAGON_LONLAT[0] + dx, DRAGON_LONLAT[1] + dy
    return shapely.box(x, y, x + 1e-4, y + 1e-4)


def test_shapefile_without_prj_is_refused_unless_crs_is_given(scratch_url, db, point_layer,
                                                              make_frame, write_source):
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_TM3)], crs=CITY.metric_crs,
                     short_names=True)
    path = write_source(gdf, "shp")
    path.with_suffix(".prj").unlink()
    with pytest.raises(ImportFailed, match="has no CRS; give one with --crs"):
        run_import(scratch_url, ImportRequest(point_layer.id, path))
    result = run_import(scratch_url, ImportRequest(point_layer.id, path, crs=CITY.metric_crs))
    assert result.status == "succeeded" and result.rows_loaded == 1
    lon, lat = db.execute(sql.SQL("SELECT ST_X(geom), ST_Y(geom) FROM {}").format(
        sql.Identifier(point_layer.table))).fetchone()
    assert GEOD.inv(lon, lat, *DRAGON_LONLAT)[2] < 0.01


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_polygons_mixed_with_multipolygons_load_as_multipolygons(fmt, scratch_url, db,
                                                                 make_frame, write_source):
    two_parts = shapely.multipolygons([_box(0.001, 0), _box(0.002, 0)])
    gdf = make_frame(AREA_LAYER, [_box(0, 0), two_parts, _box(0, 0.001)])
    result = run_import(scratch_url, ImportRequest(AREA_LAYER.id, write_source(gdf, fmt)))
    assert result.status == "succeeded" and result.rows_loaded == 3
    loaded = db.execute(sql.SQL("SELECT GeometryType(geom), ST_NumGeometries(geom) FROM {}"
                                " ORDER BY ST_XMin(geom), ST_YMin(geom)").format(
        sql.Identifier(AREA_LAYER.table))).fetchall()
    assert loaded == [("MULTIPOLYGON", 1), ("MULTIPOLYGON", 1), ("MULTIPOLYGON", 2)]


WKT_ZM = ["POINT Z ({x} {y} 5)", "POINT M ({x} {y} 7)", "POINT ZM ({x} {y} 5 7)"]


def _points_zm(x: float, y: float) -> list[str]:
    return [w.format(x=x + i * 1e-4, y=y) for i, w in enumerate(WKT_ZM)]


def _zm_csv(make_frame, point_layer, tmp_path):
    frame = make_frame(point_layer, [shapely.Point(0, 0)] * 3).drop(columns="geometry")
    frame["wkt"] = _points_zm(*DRAGON_LONLAT)
    path = tmp_path / "zm.csv"
    frame.to_csv(path, index=False)
    return path


def _zm_gpkg(make_frame, point_layer, tmp_path):
    # GDAL writes a PointZM GeoPackage (geopandas cannot write M values).
    csv = _zm_csv(make_frame, point_layer, tmp_path)
    path = tmp_path / "zm.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(path), str(csv), "-oo",
                    "GEOM_POSSIBLE_NAMES=wkt", "-oo", "KEEP_GEOM_COLUMNS=NO",
                    "-a_srs", "EPSG:4326", "-nlt", "POINTZM", "-nln", "zm"],
                   check=True, capture_output=True)
    return path


@pytest.mark.parametrize("write", [_zm_csv, _zm_gpkg], ids=["csv", "gpkg"])
def test_z_and_m_values_are_dropped_with_a_warning(write, scratch_url, db, point_layer,
                                                   make_frame, tmp_path):
    path = write(make_frame, point_layer, tmp_path)
    result = run_import(scratch_url, ImportRequest(point_layer.id, path))
    assert result.status == "succeeded" and result.rows_loaded == 3, result.error
    assert "dropped Z/M values from 3 geometries" in result.warnings
    dims = db.execute(sql.SQL("SELECT DISTINCT ST_NDims(geom), ST_Zmflag(geom) FROM {}").format(
        sql.Identifier(point_layer.table))).fetchall()
    assert dims == [(2, 0)]
