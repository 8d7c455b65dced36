"""A failed run is recorded and leaves the layer exactly as it was; one run per layer at a time."""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from etl.pipeline import ImportFailed, ImportRequest, run_import
from etl.runs import ABANDONED


def _snapshot(db, layer) -> list[tuple]:
    return db.execute(sql.SQL("SELECT id, ST_AsBinary(geom), to_jsonb(t) - 'geom' - 'geom_3857'"
                              " FROM {} t ORDER BY id").format(sql.Identifier(layer.table))
                      ).fetchall()


@pytest.fixture()
def loaded(scratch_url, versioned_layer, small_parcels, write_source):
    """The layer holding three parcels from a first import."""
    run_import(scratch_url, ImportRequest(versioned_layer.id,
                                          write_source(small_parcels(3), "gpkg", "first")))
    return versioned_layer


def test_failure_inside_the_load_leaves_data_unchanged(scratch_url, db, loaded, small_parcels,
                                                       write_source):
    before = _snapshot(db, loaded)
    state = db.execute("SELECT * FROM layer_state").fetchall()
    path = write_source(small_parcels(5, shift=0.0002), "gpkg", "second")

    def fail_in_load(phase, done, total):
        if phase == "load" and done >= 3:  # after DELETE and UPDATE ran, before INSERT
            raise RuntimeError("disk full")

    with pytest.raises(ImportFailed, match="disk full") as info:
        run_import(scratch_url, ImportRequest(loaded.id, path), progress=fail_in_load)
    assert _snapshot(db, loaded) == before
    assert db.execute("SELECT * FROM layer_state").fetchall() == state
    status, error, extent = db.execute("SELECT status, error, extent FROM etl_runs WHERE id = %s",
                                       (info.value.result.run_id,)).fetchone()
    assert status == "failed" and "disk full" in error and extent is None


def test_database_error_during_merge_leaves_data_unchanged(scratch_url, db, loaded,
                                                           small_parcels, write_source):
    """Distinct keys whose generated uid collides make the INSERT fail inside the load."""
    uid = next((f for f in loaded.fields if f.generated), None)
    assert uid is not None, "the versioned layer derives a uid from its key"
    before = _snapshot(db, loaded)
    gdf = small_parcels(5)
    first, second = loaded.key[0], loaded.key[1]
    gdf.loc[3, [first, second]] = ["a-b", "c"]
    gdf.loc[4, [first, second]] = ["a", "b-c"]
    gdf.loc[4, list(loaded.key[2:])] = gdf.loc[3, list(loaded.key[2:])].to_numpy()
    with pytest.raises(ImportFailed, match="nothing was changed"):
        run_import(scratch_url, ImportRequest(loaded.id, write_source(gdf, "gpkg", "bad")))
    assert _snapshot(db, loaded) == before


def test_replace_with_no_valid_rows_is_refused(scratch_url, db, loaded, small_parcels,
                                               write_source):
    before = _snapshot(db, loaded)
    gdf = small_parcels(2)
    gdf["geometry"] = gdf.geometry.translate(xoff=-10)  # all outside the city
    with pytest.raises(ImportFailed, match="a replace never empties layer"):
        run_import(scratch_url, ImportRequest(loaded.id, write_source(gdf, "gpkg", "empty")))
    assert _snapshot(db, loaded) == before


def test_second_run_on_a_locked_layer_is_refused_with_the_holder(scratch_url, db, loaded,
                                                                 small_parcels, write_source):
    holder = db.execute("INSERT INTO etl_runs (layer, source, mode, status)"
                        " VALUES (%s, 'other.gpkg', 'replace', 'running') RETURNING id",
                        (loaded.id,)).fetchone()[0]
    with psycopg.connect(scratch_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext('gisapp.layer'), hashtext(%s))",
                      (loaded.id,))
        with pytest.raises(ImportFailed, match=f"layer {loaded.id} is being loaded by run "
                                               f"{holder}"):
            run_import(scratch_url, ImportRequest(loaded.id,
                                                  write_source(small_parcels(1), "gpkg")))
    assert db.execute("SELECT status FROM etl_runs WHERE id = %s", (holder,)).fetchone() == (
        "running",)


def test_a_run_left_running_without_its_lock_is_marked_abandoned(scratch_url, db, loaded,
                                                                 small_parcels, write_source):
    dead = db.execute("INSERT INTO etl_runs (layer, source, mode, status)"
                      " VALUES (%s, 'dead.gpkg', 'replace', 'running') RETURNING id",
                      (loaded.id,)).fetchone()[0]
    result = run_import(scratch_url, ImportRequest(loaded.id,
                                                   write_source(small_parcels(3), "gpkg")))
    assert result.status == "succeeded"
    assert db.execute("SELECT status, error FROM etl_runs WHERE id = %s", (dead,)).fetchone() == (
        "failed", ABANDONED)


def test_queued_run_is_executed_under_its_id(scratch_url, db, versioned_layer, small_parcels,
                                             write_source):
    path = write_source(small_parcels(2), "gpkg")
    queued = db.execute("INSERT INTO etl_runs (layer, source, mode, status)"
                        " VALUES (%s, %s, 'replace', 'queued') RETURNING id",
                        (versioned_layer.id, str(path))).fetchone()[0]
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, path, run_id=queued))
    assert result.run_id == queued
    assert db.execute("SELECT status, rows_loaded FROM etl_runs WHERE id = %s",
                      (queued,)).fetchone() == ("succeeded", 2)


@pytest.mark.parametrize("name,message", [("missing.gpkg", "no such file"),
                                          ("notes.txt", "unknown file type")])
def test_unreadable_source_fails_with_a_message(name, message, scratch_url, db,
                                                versioned_layer, tmp_path):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("hello")
    with pytest.raises(ImportFailed, match=message) as info:
        run_import(scratch_url, ImportRequest(versioned_layer.id, path))
    assert db.execute("SELECT status FROM etl_runs WHERE id = %s",
                      (info.value.result.run_id,)).fetchone() == ("failed",)


def test_unknown_layer_fails_listing_known_layers(scratch_url, tmp_path):
    with pytest.raises(ImportFailed, match="unknown layer 'nope'; known layers"):
        run_import(scratch_url, ImportRequest("nope", tmp_path / "x.gpkg"))
