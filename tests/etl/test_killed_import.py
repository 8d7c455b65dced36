"""`gisapp etl import` killed with SIGKILL during the load leaves the layer exactly as it was."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from psycopg import sql

from etl.pipeline import ImportRequest, run_import
from etl.runs import ABANDONED

N_PARCELS = 20_000
GISAPP = Path(sys.executable).parent / "gisapp"


def _checksum(db, layer) -> tuple:
    return db.execute(sql.SQL(
        "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM {} t").format(
        sql.Identifier(layer.table))).fetchone()


def _grid(make_frame, layer, shift: float):
    i = np.arange(N_PARCELS)
    x0 = 108.15 + (i % 200) * 0.0003 + shift
    y0 = 16.0 + (i // 200) * 0.0003
    return make_frame(layer, list(shapely.box(x0, y0, x0 + 0.0002, y0 + 0.0002)))


def _wait_for_phase(db, run_after: int, phase: str, proc, seconds: float = 120) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = db.execute("SELECT id, phase FROM etl_runs WHERE id > %s ORDER BY id DESC LIMIT 1",
                         (run_after,)).fetchone()
        if row and row[1] == phase:
            return row[0]
        assert proc.poll() is None, f"import ended before phase {phase}: {proc.stderr.read()}"
        time.sleep(0.02)
    raise AssertionError(f"no run reached phase {phase} within {seconds} s")


def _wait_for_lock_release(db, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not db.execute("SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                          " AND database = (SELECT oid FROM pg_database"
                          " WHERE datname = current_database())").fetchone():
            return
        time.sleep(0.1)
    raise AssertionError("the killed import's session kept its lock")


def test_sigkill_during_load_leaves_data_unchanged(scratch_url, db, versioned_layer, make_frame,
                                                   write_source):
    first = run_import(scratch_url, ImportRequest(
        versioned_layer.id, write_source(_grid(make_frame, versioned_layer, 0.0), "gpkg", "a")))
    before = _checksum(db, versioned_layer)
    history = db.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(versioned_layer.versions_table))).fetchone()
    moved = write_source(_grid(make_frame, versioned_layer, 0.00005), "gpkg", "b")
    proc = subprocess.Popen([str(GISAPP), "etl", "import", versioned_layer.id, str(moved)],
                            env={**os.environ, "DATABASE_URL": scratch_url},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        killed_run = _wait_for_phase(db, first.run_id, "load", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    _wait_for_lock_release(db)
    assert _checksum(db, versioned_layer) == before
    assert db.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(versioned_layer.versions_table))).fetchone() == history
    assert db.execute("SELECT status FROM etl_runs WHERE id = %s", (killed_run,)).fetchone() == (
        "running",)

    again = run_import(scratch_url, ImportRequest(versioned_layer.id, moved))
    assert again.summary["updated"] == N_PARCELS
    assert db.execute("SELECT status, error FROM etl_runs WHERE id = %s",
                      (killed_run,)).fetchone() == ("failed", ABANDONED)
