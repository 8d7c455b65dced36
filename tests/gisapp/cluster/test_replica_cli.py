"""`gisapp replica start|status|url|stop` against a local cluster made by `gisapp db
provision` in a temp directory on free ports (never the shared cluster)."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.gisapp.etl_ops.conftest import GISAPP
from tests.pg_cluster import free_port, wait_for


def _gisapp(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GISAPP), *args], env=env, capture_output=True, text=True,
                          timeout=300)


pytestmark = pytest.mark.cluster


@pytest.fixture()
def local_cluster():
    """Environment for a gisapp-provisioned primary and replica of a temp directory."""
    root = Path(tempfile.mkdtemp(prefix="gisapp-local-"))
    os.chmod(root, 0o755)
    port = free_port()
    env = {**os.environ, "GISAPP_PGDATA": str(root / "pg15"), "GISAPP_PGPORT": str(port),
           "GISAPP_REPLICA_PGDATA": str(root / "pg15-replica"),
           "GISAPP_REPLICA_PGPORT": str(free_port()),
           "DATABASE_URL": f"postgresql://gisapp:gisapp@127.0.0.1:{port}/gisapp"}
    yield env
    for data in ("pg15-replica", "pg15"):
        if (root / data / "PG_VERSION").exists():
            subprocess.run(["runuser", "-u", "postgres", "--",
                            "/usr/lib/postgresql/15/bin/pg_ctl", "stop", "-m", "immediate",
                            "-D", str(root / data)], capture_output=True)
    subprocess.run(["rm", "-rf", str(root)])


def test_replica_commands_make_run_report_and_stop_a_standby(local_cluster: dict) -> None:
    env = local_cluster
    provisioned = _gisapp(env, "db", "provision")
    assert provisioned.returncode == 0, provisioned.stderr
    started = _gisapp(env, "replica", "start")
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url == f"postgresql://gisapp:gisapp@127.0.0.1:{env['GISAPP_REPLICA_PGPORT']}/gisapp"
    assert _gisapp(env, "replica", "url", "--if-running").stdout.strip() == url
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE probe AS SELECT 42 AS v")
    assert wait_for(lambda: _replica_value(url), 60) == 42
    status = _gisapp(env, "replica", "status")
    doc = json.loads(status.stdout)
    assert status.returncode == 0 and doc["running"] and doc["standby"], (doc, status.stderr)
    again = _gisapp(env, "replica", "start")  # idempotent: already made and running
    assert again.returncode == 0 and again.stdout.strip() == url, again.stderr
    stopping = _gisapp(env, "replica", "stop")
    assert stopping.stdout.strip() == "stopped", stopping.stderr
    stopped = _gisapp(env, "replica", "status")
    assert stopped.returncode == 1 and not json.loads(stopped.stdout)["running"]
    assert _gisapp(env, "replica", "url", "--if-running").stdout == ""


def test_replica_of_a_remote_primary_is_refused(local_cluster: dict) -> None:
    env = {**local_cluster, "DATABASE_URL": "postgresql://gisapp:gisapp@db.example.vn/gisapp"}
    refused = _gisapp(env, "replica", "start")
    assert refused.returncode != 0 and "local cluster only" in refused.stderr


def _replica_value(url: str) -> int | None:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute("SELECT v FROM probe").fetchone()[0]
    except psycopg.Error:
        return None
