"""Schedules: validation, API, CLI; firing exactly once (injected clock, two workers)."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from click.testing import CliRunner

from gisapp.cli import cli
from gisapp.etl_ops.queue import defer_run_job
from gisapp.etl_ops.schedules import create_schedule, enqueue_due, next_runs
from gisapp.settings import Settings
from tests.gisapp.etl_ops.conftest import geojson_points, point_layer, run_status, wait_for

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def _schedule(url: str, cron: str = "0 2 * * *", now: datetime = NOW, **extra) -> dict:
    with psycopg.connect(url) as conn, conn.transaction():
        return create_schedule(conn, {"layer": point_layer().id, "source": "weekly/p.geojson",
                                      "cron": cron, **extra}, "test", now,
                               Settings.load({"DATABASE_URL": url, "IMPORT_DIR": "/srv/in"}))


def _jobs(url: str) -> list:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT args FROM procrastinate_jobs WHERE task_name ="
                            " 'etl:execute_run' ORDER BY id").fetchall()


def test_next_runs_follow_the_timezone():
    # 02:00 in Asia/Ho_Chi_Minh (UTC+7) is 19:00 UTC the day before.
    runs = next_runs("0 2 * * *", "Asia/Ho_Chi_Minh", NOW)
    assert len(runs) == 5 and runs[0] == datetime(2026, 11, 23, 19, 0, tzinfo=timezone.utc)
    assert all(b - a == timedelta(days=1) for a, b in zip(runs, runs[1:]))


def test_a_due_schedule_fires_once_at_its_time(scratch_url):
    s = _schedule(scratch_url)
    due = datetime.fromisoformat(s["next_run_at"])
    assert enqueue_due(scratch_url, due - timedelta(seconds=1), defer_run_job) == []
    fired = enqueue_due(scratch_url, due, defer_run_job)
    assert len(fired) == 1 and enqueue_due(scratch_url, due, defer_run_job) == []
    assert run_status(scratch_url, fired[0])[0] == "queued"
    assert _jobs(scratch_url)[0][0]["options"]["reference"] == "weekly/p.geojson"
    with psycopg.connect(scratch_url) as conn:
        nxt, started_by = conn.execute("SELECT s.next_run_at, r.started_by FROM etl_schedules s,"
                                       " etl_runs r").fetchone()
    assert nxt == due + timedelta(days=1) and started_by == f"schedule:{s['id']}"


def test_missed_slots_fire_once_not_once_per_slot(scratch_url):
    s = _schedule(scratch_url, cron="*/5 * * * *")
    later = datetime.fromisoformat(s["next_run_at"]) + timedelta(days=3, minutes=2)
    assert len(enqueue_due(scratch_url, later, defer_run_job)) == 1
    assert enqueue_due(scratch_url, later, defer_run_job) == []
    assert len(_jobs(scratch_url)) == 1


def test_two_concurrent_tickers_fire_a_schedule_once(scratch_url):
    s = _schedule(scratch_url)
    due = datetime.fromisoformat(s["next_run_at"])
    barrier, results = threading.Barrier(4), []

    def tick():
        barrier.wait()
        results.append(enqueue_due(scratch_url, due, defer_run_job))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert len(_jobs(scratch_url)) == 1


def test_paused_schedules_do_not_fire(scratch_url):
    s = _schedule(scratch_url, enabled=False)
    assert enqueue_due(scratch_url, datetime.fromisoformat(s["next_run_at"]) + timedelta(days=1),
                       defer_run_job) == []


def test_schedule_fires_once_with_two_workers_running(scratch_url, ops_dirs, start_worker):
    (ops_dirs["imports"] / "weekly").mkdir()
    (ops_dirs["imports"] / "weekly" / "p.geojson").write_bytes(geojson_points(point_layer(), 7))
    # created now (not at the frozen NOW): its first slot must not already be past when the
    # workers start, or it fires once on its own before the test makes it due
    _schedule(scratch_url, cron="0 2 * * *", now=datetime.now(timezone.utc))
    start_worker("--name", "w1")
    start_worker("--name", "w2")
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        wait_for(lambda: conn.execute("SELECT count(*) FROM procrastinate_workers"
                                      ).fetchone()[0] == 2)
        conn.execute("UPDATE etl_schedules SET next_run_at = now()")  # its time has come
        run_id = wait_for(
            lambda: (r := conn.execute("SELECT id FROM etl_runs").fetchone()) and r[0])
        wait_for(lambda: run_status(scratch_url, run_id)[0] == "succeeded")
        time.sleep(3)  # three more ticks of both workers
        assert conn.execute("SELECT count(*) FROM etl_runs").fetchone()[0] == 1
        assert run_status(scratch_url, run_id)[3] == 7


@pytest.mark.parametrize("body, message", [
    ({"layer": "x", "source": "a.csv", "cron": "0 2 * * *"}, "x"),
    ({"source": "a.csv", "cron": "0 2 * * *"}, "missing fields: layer"),
    ({"cron": "61 * * * *"}, "is not valid"),
    ({"cron": "* * * *"}, "5 fields"),
    ({"timezone": "Mars/Olympus"}, "unknown timezone"),
    ({"options": {"mode": "merge"}}, "mode 'merge'"),
    ({"options": {"encoding": "koi8-r"}}, "unknown text encoding 'koi8-r'"),
    ({"options": {"colour": 1}}, "options must be"),
    ({"options": {"dry_run": "false"}}, "dry_run must be true or false"),
])
def test_invalid_schedules_are_refused(ops_client, operator, body, message):
    full = {"layer": point_layer().id, "source": "a.csv", "cron": "0 2 * * *", **body}
    if "layer" not in body and "missing" in message:
        full.pop("layer")
    resp = ops_client.post("/api/etl/schedules", json=full, headers=operator)
    assert resp.status_code in (400, 404) and message in resp.json["error"]["message"]


def test_schedule_api_create_list_patch_delete(ops_client, operator):
    created = ops_client.post("/api/etl/schedules", headers=operator, json={
        "layer": point_layer().id, "source": "nightly/lights.csv", "cron": "30 1 * * *",
        "options": {"mode": "upsert"}})
    assert created.status_code == 201
    body = created.json
    assert body["timezone"] == "Asia/Ho_Chi_Minh" and len(body["next_runs"]) == 5
    assert body["created_by"] == "test-etl_operator" and body["enabled"]
    sid = body["id"]
    paused = ops_client.patch(f"/api/etl/schedules/{sid}", json={"enabled": False},
                              headers=operator).json
    assert paused["enabled"] is False and paused["options"] == {"mode": "upsert"}
    moved = ops_client.patch(f"/api/etl/schedules/{sid}", json={"cron": "0 3 * * *"},
                             headers=operator).json
    assert moved["next_runs"][0].endswith("20:00:00+00:00")
    listed = ops_client.get("/api/etl/schedules", headers=operator).json["schedules"]
    assert [s["id"] for s in listed] == [sid]
    assert ops_client.delete(f"/api/etl/schedules/{sid}", headers=operator).status_code == 204
    assert ops_client.get(f"/api/etl/schedules/{sid}", headers=operator).status_code == 404


def test_schedule_cli_add_list_pause_resume_remove(scratch_url):
    runner = CliRunner()
    env = {"DATABASE_URL": scratch_url, "GISAPP_IMPORT_DIR": "/srv/in"}

    def run(*args):
        result = runner.invoke(cli, ["etl", "schedule", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    out = run("add", point_layer().id, "weekly/p.gpkg", "0 2 * * 1", "--mode", "upsert")
    assert out.split("next runs:")[1].count("T19:00:00+00:00") == 5
    sid = out.split()[0]
    assert "paused" in run("pause", sid) and "enabled" in run("resume", sid)
    assert point_layer().id in run("list")
    assert f"removed schedule {sid}" in run("remove", sid)
    bad = runner.invoke(cli, ["etl", "schedule", "add", point_layer().id, "x.csv", "bad cron"],
                        env=env)
    assert bad.exit_code == 1 and "5 fields" in bad.output
