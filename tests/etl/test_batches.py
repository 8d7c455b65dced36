"""A source read in several batches loads and rejects exactly as when read in one."""
from __future__ import annotations

import pytest
import shapely
from psycopg import sql

import etl.readers
from etl.pipeline import ImportRequest, run_import
from layers import FieldType


def _reasons(db, run_id: int) -> dict[int, str]:
    return dict(db.execute("SELECT row_number, reason FROM etl_rejects WHERE run_id = %s",
                           (run_id,)).fetchall())


@pytest.mark.parametrize("fmt", ["gpkg", "zip", "geojson", "csv"])
def test_rows_are_numbered_and_keys_checked_across_batches(fmt, scratch_url, db, monkeypatch,
                                                           versioned_layer, small_parcels,
                                                           write_source):
    monkeypatch.setattr(etl.readers, "BATCH_ROWS", 3)  # 10 rows: batches of 3, 3, 3 and 1
    gdf = small_parcels(10)
    key = list(versioned_layer.key)
    integer = next(f for f in versioned_layer.imported_fields if f.type == FieldType.INTEGER)
    gdf[integer.name] = gdf[integer.name].astype(object)
    gdf.loc[1, integer.name] = "abc"
    gdf.loc[7, key] = gdf.loc[2, key].to_numpy()  # row 8 (third batch) repeats row 3's key
    gdf.loc[9, key] = gdf.loc[7, key].to_numpy()  # row 10 (last batch) too
    gdf.loc[4, "geometry"] = shapely.box(105.0, 10.0, 105.001, 10.001)
    key_text = ", ".join(str(v) for v in gdf.loc[2, key])
    if fmt == "zip":  # Shapefile: 10-character names, taken from the declared sources
        gdf = gdf.rename(columns={f.name: min((f.name, *f.sources), key=len)
                                  for f in versioned_layer.imported_fields})
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, fmt),
                                                   crs="EPSG:4326" if fmt == "csv" else None))
    assert _reasons(db, result.run_id) == {
        2: f"{integer.name}: 'abc' is not an integer",
        5: "outside the city extent",
        8: f"duplicate key ({key_text}): first seen at row 3",
        10: f"duplicate key ({key_text}): first seen at row 3",
    }
    assert (result.rows_read, result.rows_valid, result.rows_loaded) == (10, 6, 6)
    assert result.summary["added"] == 6
    count = db.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(versioned_layer.table))).fetchone()[0]
    assert count == 6


def test_a_source_in_batches_loads_like_one_batch(scratch_url, db, monkeypatch, versioned_layer,
                                                  small_parcels, write_source):
    path = write_source(small_parcels(7), "gpkg")
    whole = run_import(scratch_url, ImportRequest(versioned_layer.id, path))
    monkeypatch.setattr(etl.readers, "BATCH_ROWS", 2)
    again = run_import(scratch_url, ImportRequest(versioned_layer.id, path))
    assert whole.summary["added"] == 7
    assert again.summary == {"added": 0, "updated": 0, "unchanged": 7, "removed": 0}
