"""Upload -> queued -> executed by a worker process -> loaded; dry run; lock; cancel; SIGKILL."""
from __future__ import annotations

import io
import os
import signal

import psycopg
from psycopg import sql

from tests.gisapp.etl_ops.conftest import geojson_points, point_layer, run_status, wait_for


def _upload(client, headers, body: bytes, name: str = "points.geojson", **fields):
    data = {"layer": point_layer().id, **fields, "file": (io.BytesIO(body), name)}
    return client.post("/api/etl/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


def _job(url: str, run_id: int) -> tuple[str, int] | None:
    """The status and finished attempts of the run's job."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, attempts FROM procrastinate_jobs"
                            " WHERE (args->>'run_id')::bigint = %s", (run_id,)).fetchone()


def _job_done(url: str, run_id: int) -> tuple[str, int] | None:
    """The job's (status, attempts) once the worker is done with it, post-load hooks included.

    A run is recorded (succeeded or failed) at its commit; the hooks after it (the drainage
    network check reads drainage_nodes) still run in the job, so the job finishes later.
    """
    job = _job(url, run_id)
    return job if job is not None and job[0] not in ("todo", "doing") else None


def _job_finished(url: str, run_id: int) -> bool:
    """Whether the worker is done with the run's job and it succeeded (a table lock taken
    before it ends would hold the job, and the layer's queue, until the test gives up)."""
    return (_job_done(url, run_id) or ("",))[0] == "succeeded"


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(point_layer().table))).fetchone()[0]


def test_upload_is_queued_then_loaded_by_a_worker_with_progress(ops_client, operator,
                                                                scratch_url, start_worker):
    resp = _upload(ops_client, operator, geojson_points(point_layer(), 40, bad=2))
    assert resp.status_code == 202, resp.json
    run_id = resp.json["run_id"]
    assert resp.json["status"] == "queued"
    assert resp.json["links"]["self"] == f"/api/etl/runs/{run_id}"
    assert ops_client.get(f"/api/etl/runs/{run_id}", headers=operator).json["status"] == "queued"
    start_worker()
    seen = set()

    def finished():
        body = ops_client.get(f"/api/etl/runs/{run_id}", headers=operator).json
        seen.add(body["phase"])
        return body if body["status"] in ("succeeded", "failed") else None

    body = wait_for(finished)
    assert body["status"] == "succeeded", body
    assert (body["rows_read"], body["rows_loaded"], body["rows_rejected"]) == (42, 40, 2)
    assert body["summary"]["added"] == 40 and body["started_by"] == "test-etl_operator"
    assert body["source"] == "upload:points.geojson" and body["extent"] is not None
    assert "done" in seen and _count(scratch_url) == 40
    rejects = ops_client.get(f"/api/etl/runs/{run_id}/rejects", headers=operator).json
    assert rejects["total"] == 2 and {r["row_number"] for r in rejects["rejects"]} == {41, 42}
    csv_text = ops_client.get(f"/api/etl/runs/{run_id}/rejects?f=csv",
                              headers=operator).get_data(as_text=True)
    assert csv_text.lstrip("\ufeff").startswith("row_number,reason,")
    assert len(csv_text.strip().splitlines()) == 3


def test_dry_run_validates_and_loads_nothing(ops_client, operator, scratch_url, start_worker):
    run_id = _upload(ops_client, operator, geojson_points(point_layer(), 10, bad=1),
                     dry_run="true").json["run_id"]
    start_worker()
    status = wait_for(lambda: (s := run_status(scratch_url, run_id))[0] in
                      ("succeeded", "failed") and s)
    assert status[0] == "succeeded" and status[2] == 11 and status[3] == 0
    assert _count(scratch_url) == 0
    listed = ops_client.get("/api/etl/runs?status=succeeded", headers=operator).json
    assert [r["id"] for r in listed["runs"]] == [run_id] and listed["runs"][0]["dry_run"]


def test_runs_of_one_layer_never_overlap(ops_client, operator, scratch_url, start_worker):
    ids = [_upload(ops_client, operator, geojson_points(point_layer(), 3000)).json["run_id"]
           for _ in range(3)]
    start_worker("--concurrency", "3")
    overlaps = []

    def all_done():
        with psycopg.connect(scratch_url) as conn:
            running = conn.execute("SELECT count(*) FROM etl_runs WHERE status = 'running'"
                                   ).fetchone()[0]
            overlaps.append(running)
            states = [r[0] for r in conn.execute(
                "SELECT status FROM etl_runs WHERE id = ANY(%s) ORDER BY id", (ids,))]
        return states if all(s in ("succeeded", "failed") for s in states) else None

    assert wait_for(all_done, timeout=120, interval=0.05) == ["succeeded"] * 3
    assert max(overlaps) == 1
    with psycopg.connect(scratch_url) as conn:
        spans = conn.execute("SELECT started_at, finished_at FROM etl_runs WHERE id = ANY(%s)"
                             " ORDER BY started_at", (ids,)).fetchall()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_a_queued_run_can_be_cancelled_and_is_never_executed(ops_client, operator,
                                                             scratch_url, start_worker):
    run_id = _upload(ops_client, operator, geojson_points(point_layer(), 5)).json["run_id"]
    resp = ops_client.post(f"/api/etl/runs/{run_id}/cancel", headers=operator)
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    again = ops_client.post(f"/api/etl/runs/{run_id}/cancel", headers=operator)
    assert again.status_code == 409 and "already cancelled" in again.json["error"]["message"]
    later = _upload(ops_client, operator, geojson_points(point_layer(), 5)).json["run_id"]
    start_worker()
    wait_for(lambda: run_status(scratch_url, later)[0] == "succeeded")
    assert run_status(scratch_url, run_id)[0] == "cancelled"


def test_sigkill_mid_load_leaves_the_layer_as_it_was_and_fails_the_run(
        ops_client, operator, scratch_url, start_worker):
    first = _upload(ops_client, operator, geojson_points(point_layer(), 50)).json["run_id"]
    worker = start_worker()
    wait_for(lambda: _job_finished(scratch_url, first))
    # Hold the layer table so the next load stops inside its transaction, then kill.
    blocker = psycopg.connect(scratch_url)
    blocker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
        sql.Identifier(point_layer().table)))
    second = _upload(ops_client, operator, geojson_points(point_layer(), 80)).json["run_id"]
    wait_for(lambda: run_status(scratch_url, second)[1] in ("stage", "load"))
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    blocker.rollback()
    blocker.close()
    assert run_status(scratch_url, second)[0] == "running"  # nobody has noticed yet
    start_worker()
    status = wait_for(lambda: (s := run_status(scratch_url, second))[0] != "running" and s,
                      timeout=60)
    assert status[0] == "failed" and status[4].startswith("abandoned")
    assert _count(scratch_url) == 50
    third = _upload(ops_client, operator, geojson_points(point_layer(), 70)).json["run_id"]
    wait_for(lambda: run_status(scratch_url, third)[0] == "succeeded")
    assert _count(scratch_url) == 70


def _blocked_load(ops_client, operator, scratch_url, start_worker, rows: int):
    """Start a worker and a run whose load waits on a lock the test holds."""
    first = _upload(ops_client, operator, geojson_points(point_layer(), 50)).json["run_id"]
    start_worker()
    wait_for(lambda: _job_finished(scratch_url, first))
    blocker = psycopg.connect(scratch_url)
    blocker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
        sql.Identifier(point_layer().table)))
    run_id = _upload(ops_client, operator, geojson_points(point_layer(), rows)).json["run_id"]
    wait_for(lambda: run_status(scratch_url, run_id)[1] in ("stage", "load"))
    return blocker, run_id


def test_a_dropped_database_connection_is_retried(ops_client, operator, scratch_url,
                                                  start_worker):
    blocker, run_id = _blocked_load(ops_client, operator, scratch_url, start_worker, 60)
    # The worker's load waits on the table lock (an autovacuum worker may wait too: skip it).
    waiting = wait_for(lambda: blocker.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND backend_type = 'client backend'").fetchall())
    blocker.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
    blocker.rollback()
    blocker.close()
    wait_for(lambda: run_status(scratch_url, run_id)[0] == "succeeded")
    assert _count(scratch_url) == 60
    # procrastinate counts finished attempts: one failed, one retry
    assert wait_for(lambda: _job_done(scratch_url, run_id)) == ("succeeded", 2)


def test_a_failing_source_is_not_retried(ops_client, operator, scratch_url, start_worker):
    body = geojson_points(point_layer(), 3).replace(b'"Point"', b'"LineString"')
    run_id = _upload(ops_client, operator, body).json["run_id"]
    start_worker()
    wait_for(lambda: run_status(scratch_url, run_id)[0] == "failed")
    # one attempt, finished after the run recorded its failure; the job is not retried
    assert wait_for(lambda: _job_done(scratch_url, run_id)) == ("succeeded", 1)


def test_a_running_run_can_be_cancelled_and_changes_nothing(ops_client, operator, scratch_url,
                                                            start_worker):
    blocker, run_id = _blocked_load(ops_client, operator, scratch_url, start_worker, 80)
    running = ops_client.get(f"/api/etl/runs/{run_id}", headers=operator).json
    assert (running["status"], running["rows_read"], running["rows_valid"]) == ("running", 80, 80)
    assert running["phase"] in ("stage", "load") and running["started_at"]
    resp = ops_client.post(f"/api/etl/runs/{run_id}/cancel", headers=operator)
    assert resp.json["status"] == "cancelling"
    blocker.rollback()
    blocker.close()
    wait_for(lambda: _job_finished(scratch_url, run_id))  # the run reads 'failed' a moment
    status = run_status(scratch_url, run_id)  # before the worker records it 'cancelled'
    assert status[0] == "cancelled" and "cancelled by test-etl_operator" in status[4]
    assert _count(scratch_url) == 50
