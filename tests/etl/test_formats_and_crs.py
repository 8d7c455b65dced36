"""Every format and CRS lands the Dragon Bridge within 1 cm; a datum-less VN-2000 CRS is refused."""
from __future__ import annotations

import zipfile

import pytest
import shapely
from psycopg import sql
from pyproj import Geod, Transformer

from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers.city import CITY

DRAGON_LONLAT = (108.22705602, 16.06114045)
DRAGON_TM3 = (550846.113, 1776402.965)
DATUMLESS_TM3 = ("+proj=tmerc +lat_0=0 +lon_0=107.75 +k=0.9999 +x_0=500000 +y_0=0 "
                 "+ellps=WGS84 +units=m +no_defs")
GEOD = Geod(ellps="WGS84")
TM3_107_45 = ('PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],'
              'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.75],'
              'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],'
              'UNIT["Meter",1.0]]')
# .prj files as old software writes them: TM-3 107°45' on WGS 84 (no VN-2000 datum shift)
PRJ_SAYING_WGS84 = ('PROJCS["TM3_107_45",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
                    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
                    'UNIT["Degree",0.0174532925199433]],' + TM3_107_45)
PRJ_UNKNOWN_DATUM = ('PROJCS["TM3_107_45",GEOGCS["GCS_Unknown",DATUM["D_Unknown",'
                     'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
                     'UNIT["Degree",0.0174532925199433]],' + TM3_107_45)


def _source_xy(epsg: int) -> tuple[float, float]:
    if epsg == CITY.metric_srid:
        return DRAGON_TM3
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(*DRAGON_LONLAT)


def _loaded_point(db, layer) -> tuple[float, float]:
    return db.execute(sql.SQL("SELECT ST_X(geom), ST_Y(geom) FROM {}").format(
        sql.Identifier(layer.table))).fetchone()


def _metres_off(lonlat) -> float:
    return GEOD.inv(lonlat[0], lonlat[1], *DRAGON_LONLAT)[2]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "zip", "shp", "csv"])
@pytest.mark.parametrize("epsg", [CITY.metric_srid, 3405, 3406, 4326])
def test_dragon_bridge_lands_within_a_centimetre(fmt, epsg, scratch_url, db, point_layer,
                                                 make_frame, write_source):
    gdf = make_frame(point_layer, [shapely.Point(*_source_xy(epsg))], crs=f"EPSG:{epsg}",
                     short_names=fmt in ("zip", "shp"))
    path = write_source(gdf, fmt)
    # a WKT CSV carries no CRS: projected coordinates need --crs
    crs = f"EPSG:{epsg}" if fmt == "csv" and epsg != 4326 else None
    result = run_import(scratch_url, ImportRequest(point_layer.id, path, crs=crs))
    assert result.status == "succeeded" and result.rows_loaded == 1
    assert _metres_off(_loaded_point(db, point_layer)) < 0.01


def test_metric_test_point_matches_domain_facts():
    lon, lat = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True).transform(*DRAGON_TM3)
    assert _metres_off((lon, lat)) < 0.001


def test_csv_with_vietnamese_x_northing_columns_is_swapped(scratch_url, db, point_layer,
                                                           make_frame, tmp_path):
    frame = make_frame(point_layer, [shapely.Point(0, 0)]).drop(columns="geometry")
    frame["X"], frame["Y"] = DRAGON_TM3[1], DRAGON_TM3[0]  # X = northing, Y = easting
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    result = run_import(scratch_url, ImportRequest(point_layer.id, path, crs=CITY.metric_crs))
    assert any("swapped" in w for w in result.warnings)
    assert _metres_off(_loaded_point(db, point_layer)) < 0.01


def test_csv_lon_lat_with_decimal_commas_defaults_to_wgs84(scratch_url, db, point_layer,
                                                           make_frame, tmp_path):
    frame = make_frame(point_layer, [shapely.Point(0, 0)]).drop(columns="geometry")
    frame["lon"], frame["lat"] = "108,22705602", "16,06114045"
    path = tmp_path / "points.csv"
    frame.to_csv(path, index=False, sep=";")
    run_import(scratch_url, ImportRequest(point_layer.id, path))
    assert _metres_off(_loaded_point(db, point_layer)) < 0.01


def test_csv_with_projected_xy_and_no_crs_is_refused(scratch_url, point_layer, make_frame,
                                                     tmp_path):
    frame = make_frame(point_layer, [shapely.Point(0, 0)]).drop(columns="geometry")
    frame["x"], frame["y"] = DRAGON_TM3
    path = tmp_path / "projected.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ImportFailed, match="no CRS; give one with --crs"):
        run_import(scratch_url, ImportRequest(point_layer.id, path))


@pytest.mark.parametrize("prj,crs", [(PRJ_SAYING_WGS84, None), (PRJ_UNKNOWN_DATUM, None),
                                     (None, DATUMLESS_TM3)])
def test_datumless_vn2000_file_is_refused_and_layer_untouched(prj, crs, scratch_url, db,
                                                             point_layer, make_frame,
                                                             write_source):
    first = write_source(make_frame(point_layer, [shapely.Point(*DRAGON_LONLAT)]), "geojson",
                         name="first")
    run_import(scratch_url, ImportRequest(point_layer.id, first))
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_TM3)], crs=CITY.metric_crs,
                     short_names=True)
    gdf[point_layer.key[0]] = "other"
    path = write_source(gdf, "zip", prj=prj)
    with pytest.raises(ImportFailed, match="225 m") as info:
        run_import(scratch_url, ImportRequest(point_layer.id, path, crs=crs))
    assert info.value.result.status == "failed"
    status, error = db.execute("SELECT status, error FROM etl_runs WHERE id = %s",
                               (info.value.result.run_id,)).fetchone()
    assert status == "failed" and "datum shift" in error
    assert _metres_off(_loaded_point(db, point_layer)) < 0.01  # the earlier point, unchanged


def test_datumless_file_accepted_with_confirm_lands_225_m_off(scratch_url, db, point_layer,
                                                              make_frame, write_source):
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_TM3)], crs=CITY.metric_crs,
                     short_names=True)
    path = write_source(gdf, "zip", prj=PRJ_UNKNOWN_DATUM)
    result = run_import(scratch_url, ImportRequest(point_layer.id, path, confirm_crs=True))
    assert any("confirmed" in w for w in result.warnings)
    assert 200 < _metres_off(_loaded_point(db, point_layer)) < 250


def test_crs_override_replaces_the_files_crs(scratch_url, db, point_layer, make_frame,
                                             write_source):
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_TM3)], crs=CITY.metric_crs,
                     short_names=True)
    path = write_source(gdf, "zip", prj=PRJ_SAYING_WGS84)
    run_import(scratch_url, ImportRequest(point_layer.id, path, crs=CITY.metric_crs))
    assert _metres_off(_loaded_point(db, point_layer)) < 0.01


def test_tm3_parameters_deviating_from_the_city_zone_give_a_warning(scratch_url, point_layer,
                                                           make_frame, write_source):
    vn_ellipsoid_shifted = ("+proj=tmerc +lat_0=0 +lon_0=107.75 +k=0.9999 +x_0=500000 "
                            "+y_0=0 +ellps=GRS80 +towgs84=0,0,0 +units=m +no_defs")
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_TM3)], crs=vn_ellipsoid_shifted)
    path = write_source(gdf, "gpkg")
    result = run_import(scratch_url, ImportRequest(point_layer.id, path, confirm_crs=True))
    assert any(f"deviates from {CITY.metric_crs}" in w for w in result.warnings)


def test_geopackage_with_several_layers_needs_source_layer(scratch_url, db, point_layer,
                                                           make_frame, tmp_path):
    path = tmp_path / "two.gpkg"
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_LONLAT)])
    gdf.to_file(path, layer="first", driver="GPKG")
    gdf.to_file(path, layer="second", driver="GPKG")
    with pytest.raises(ImportFailed, match="several layers \\(first, second\\)"):
        run_import(scratch_url, ImportRequest(point_layer.id, path))
    result = run_import(scratch_url, ImportRequest(point_layer.id, path, source_layer="second"))
    assert result.rows_loaded == 1


def test_zip_with_two_shapefiles_is_refused_listing_them(scratch_url, point_layer, make_frame,
                                                         write_source, tmp_path):
    gdf = make_frame(point_layer, [shapely.Point(*DRAGON_LONLAT)], short_names=True)
    one = write_source(gdf, "zip", name="one")
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(one) as src, zipfile.ZipFile(two, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, data)
            dst.writestr(info.filename.replace("export/", "copy/"), data)
    with pytest.raises(ImportFailed, match="exactly one Shapefile.*export/2025/one.shp"):
        run_import(scratch_url, ImportRequest(point_layer.id, two))
