"""Rejected rows are written to etl_rejects with a reason that says what is wrong."""
from __future__ import annotations

import pytest
import shapely
from psycopg import sql

from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers import LAYERS, FieldType


def _reasons(db, run_id: int) -> dict[int, str]:
    return dict(db.execute("SELECT row_number, reason FROM etl_rejects WHERE run_id = %s",
                           (run_id,)).fetchall())


def test_each_problem_is_rejected_with_its_reason(scratch_url, db, versioned_layer,
                                                  small_parcels, write_source):
    gdf = small_parcels(8)
    key = list(versioned_layer.key)
    required_text = next(f for f in versioned_layer.imported_fields
                         if f.required and f.type == FieldType.TEXT and f.name not in key)
    integer = next(f for f in versioned_layer.imported_fields if f.type == FieldType.INTEGER)
    gdf[integer.name] = gdf[integer.name].astype(object)
    gdf.loc[0, required_text.name] = None
    gdf.loc[1, integer.name] = "abc"
    gdf.loc[2, key] = gdf.loc[5, key].to_numpy()  # row 3 repeats row 6's key
    gdf.loc[3, "geometry"] = shapely.LineString([(108.2, 16.05), (108.21, 16.05)])
    gdf.loc[4, "geometry"] = shapely.box(105.0, 10.0, 105.001, 10.001)
    gdf.loc[6, "geometry"] = shapely.Polygon([(108.2, 16.05), (108.201, 16.051), (108.2, 16.05),
                                              (108.201, 16.051), (108.2, 16.05)])  # no area
    result = run_import(scratch_url, ImportRequest(versioned_layer.id,
                                                   write_source(gdf, "geojson")))
    reasons = _reasons(db, result.run_id)
    key_text = ", ".join(str(v) for v in gdf.loc[2, key])
    assert reasons == {
        1: f"missing required field {required_text.name}",
        2: f"{integer.name}: 'abc' is not an integer",
        6: f"duplicate key ({key_text}): first seen at row 3",
        4: f"geometry is LineString, layer needs {versioned_layer.geometry_type}",
        5: "outside the city extent",
        7: "invalid geometry (Self-intersection[108.201 16.051]) could not be repaired",
    }
    assert (result.rows_read, result.rows_valid, result.rows_rejected) == (8, 2, 6)


def test_reject_keeps_original_attributes_and_geometry(scratch_url, db, versioned_layer,
                                                       small_parcels, write_source):
    gdf = small_parcels(2)
    gdf.loc[1, "geometry"] = shapely.box(105.0, 10.0, 105.001, 10.001)
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, "gpkg")))
    attributes, wkt = db.execute("SELECT attributes, geometry_wkt FROM etl_rejects"
                                 " WHERE run_id = %s", (result.run_id,)).fetchone()
    key = versioned_layer.key[0]
    assert attributes[key] == gdf.loc[1, key]
    assert shapely.from_wkt(wkt).equals(gdf.loc[1, "geometry"])


def test_self_intersecting_polygon_is_repaired_and_counted(scratch_url, db, versioned_layer,
                                                           small_parcels, write_source):
    gdf = small_parcels(2)
    gdf.loc[1, "geometry"] = shapely.Polygon([(108.2, 16.05), (108.201, 16.051),
                                              (108.201, 16.05), (108.2, 16.051)])  # bow-tie
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, "gpkg")))
    assert (result.rows_loaded, result.rows_repaired, result.rows_rejected) == (2, 1, 0)
    assert db.execute(sql.SQL("SELECT bool_and(ST_IsValid(geom)) FROM {}").format(
        sql.Identifier(versioned_layer.table))).fetchone()[0]


@pytest.mark.parametrize("layer", [l for l in LAYERS.values()
                                   if any(f.choices for f in l.imported_fields)],
                         ids=lambda layer: layer.id)
def test_values_outside_declared_choices_are_rejected(layer, scratch_url, db, make_frame,
                                                      write_source):
    field = next(f for f in layer.imported_fields if f.choices)
    geom = {0: shapely.Point(108.2, 16.05),
            1: shapely.LineString([(108.2, 16.05), (108.201, 16.05)]),
            2: shapely.box(108.2, 16.05, 108.201, 16.051)}
    dim = 0 if layer.is_point else 1 if layer.is_line else 2
    gdf = make_frame(layer, [geom[dim], geom[dim]])
    gdf.loc[1, field.name] = "XYZ"
    result = run_import(scratch_url, ImportRequest(layer.id, write_source(gdf, "gpkg")))
    assert _reasons(db, result.run_id) == {
        2: f"{field.name}: 'XYZ' is not one of {', '.join(field.choices)}"}


def test_missing_required_column_fails_the_run_naming_accepted_names(scratch_url, db,
                                                                     versioned_layer,
                                                                     small_parcels,
                                                                     write_source):
    field = next(f for f in versioned_layer.imported_fields if f.required and f.sources)
    gdf = small_parcels(2).drop(columns=[field.name])
    with pytest.raises(ImportFailed, match=f"missing required column.*{field.sources[0]}") as info:
        run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, "gpkg")))
    assert db.execute("SELECT status FROM etl_runs WHERE id = %s",
                      (info.value.result.run_id,)).fetchone() == ("failed",)


def test_source_column_names_map_case_insensitively(scratch_url, db, versioned_layer,
                                                    small_parcels, write_source):
    gdf = small_parcels(2)
    renames = {f.name: f.sources[0].upper() for f in versioned_layer.imported_fields if f.sources}
    result = run_import(scratch_url, ImportRequest(versioned_layer.id,
                                                   write_source(gdf.rename(columns=renames),
                                                                "csv")))
    assert result.rows_loaded == 2 and not any("ignored" in w for w in result.warnings)


def test_duplicate_vertices_are_dropped_and_counted_as_repaired(scratch_url, db, versioned_layer,
                                                                small_parcels, write_source):
    gdf = small_parcels(2)
    gdf.loc[0, "geometry"] = shapely.Polygon([(108.2, 16.05), (108.201, 16.05), (108.201, 16.05),
                                              (108.201, 16.051), (108.2, 16.05)])
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, "gpkg")))
    assert result.rows_repaired == 1
    points = db.execute(sql.SQL("SELECT min(ST_NPoints(geom)) FROM {}").format(
        sql.Identifier(versioned_layer.table))).fetchone()
    assert points == (4,)
