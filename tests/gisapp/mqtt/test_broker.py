"""`gisapp mqtt`: Mosquitto started from a directory of its own, accounts required, ACLs."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from tests.mqtt_broker import DEVICE, Broker, connect, mqtt_broker, publish  # noqa: F401
from tests.pg_cluster import free_port, wait_for
from tests.served import GISAPP


def mqtt_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(GISAPP), "mqtt", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


@pytest.fixture()
def cli_env() -> Iterator[dict[str, str]]:
    """A broker directory mosquitto's user can enter (pytest's own temp root is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="gisapp-mqtt-cli-"))
    root.chmod(0o755)
    yield {"GISAPP_MQTT_DIR": str(root / "mqtt"),
           "MQTT_URL": f"mqtt://ingest:cli-secret@127.0.0.1:{free_port()}"}
    shutil.rmtree(root, ignore_errors=True)


def test_start_status_stop_from_its_own_directory(cli_env):
    started = mqtt_cli("start", env=cli_env)
    try:
        assert started.returncode == 0, started.stderr
        status = mqtt_cli("status", env=cli_env)
        assert status.returncode == 0 and "is running" in status.stdout
        conf = Path(cli_env["GISAPP_MQTT_DIR"], "mosquitto.conf").read_text()
        assert "allow_anonymous false" in conf
        port = int(cli_env["MQTT_URL"].rpartition(":")[2])
        client, reason = connect(port, "ingest", "cli-secret")
        client.disconnect()
        assert reason is not None and not reason.is_failure
        again = mqtt_cli("start", env=cli_env)
        assert again.returncode == 0 and "reloaded" in again.stderr
    finally:
        stopped = mqtt_cli("stop", env=cli_env)
    assert stopped.returncode == 0 and "stopped" in stopped.stderr
    status = mqtt_cli("status", env=cli_env)
    assert status.returncode == 3 and "not running" in status.stdout


def test_missing_mosquitto_is_a_clear_error(cli_env):
    result = mqtt_cli("start", env={**cli_env, "GISAPP_MOSQUITTO": "/nonexistent/mosquitto"})
    assert result.returncode != 0
    assert "not installed" in result.stderr and "apt-get install mosquitto" in result.stderr


def test_bad_mqtt_url_is_refused(cli_env):
    result = mqtt_cli("status", env={**cli_env, "MQTT_URL": "mqtt://127.0.0.1:1883"})
    assert result.returncode != 0
    assert "MQTT_URL must name the ingest account" in result.stderr


@pytest.mark.parametrize("user, password", [(None, None), (DEVICE, "wrong"),
                                            ("nobody", "x"), ("ingest", "")])
def test_an_account_without_its_password_is_refused(mqtt_broker: Broker, user, password):
    client, reason = connect(mqtt_broker.port, user, password)
    client.disconnect()
    client.loop_stop()
    assert reason is not None and reason.is_failure
    assert "not authorized" in str(reason).lower() or "bad user" in str(reason).lower()


def test_a_device_reaches_only_its_own_datastreams(mqtt_broker: Broker):
    ingest, reason = connect(mqtt_broker.port, "ingest", "ingest-secret")
    assert reason is not None and not reason.is_failure
    got: list[str] = []
    subscribed = threading.Event()
    ingest.on_message = lambda c, u, m: got.append(m.topic)
    ingest.on_subscribe = lambda *a: subscribed.set()
    ingest.subscribe("v1.1/#", qos=1)
    assert subscribed.wait(5)
    publish(mqtt_broker, [("v1.1/Datastreams(100)/Observations", b"{}"),
                          ("v1.1/Datastreams(101)/Observations", b"{}"),
                          ("v1.1/Things(1)", b"{}"),
                          ("v1.1/Datastreams(7)/Observations", b"{}")])
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # anything the ACL let through would have arrived by now
    ingest.disconnect()
    ingest.loop_stop()
    assert got == ["v1.1/Datastreams(100)/Observations", "v1.1/Datastreams(7)/Observations"]


def test_device_accounts_from_the_cli(cli_env):
    added = mqtt_cli("device", "add", "gauge-7", "--datastream", "7", env=cli_env)
    assert added.returncode == 0, added.stderr
    password = added.stdout.strip().splitlines()[-1]
    assert len(password) >= 20
    listed = mqtt_cli("device", "list", env=cli_env)
    assert '"v1.1/Datastreams(7)/Observations"' in listed.stdout
    refused = mqtt_cli("device", "remove", "ingest", env=cli_env)
    assert refused.returncode != 0 and "ingest account" in refused.stderr
    assert mqtt_cli("device", "remove", "gauge-7", env=cli_env).returncode == 0
    assert "gauge-7" not in mqtt_cli("device", "list", env=cli_env).stdout
    missing = mqtt_cli("device", "remove", "gauge-7", env=cli_env)
    assert missing.returncode != 0 and "no device account 'gauge-7'" in missing.stderr


def test_a_device_account_for_a_thing_gets_its_datastreams(cli_env, test_url):
    with psycopg.connect(test_url) as conn:
        thing, streams = conn.execute(
            "SELECT thing_id, array_agg(id ORDER BY id) FROM datastreams"
            " GROUP BY thing_id ORDER BY thing_id LIMIT 1").fetchone()
    env = {**cli_env, "DATABASE_URL": test_url}
    added = mqtt_cli("device", "add", "pump-1", "--thing", str(thing), env=env)
    assert added.returncode == 0, added.stderr
    listed = json.loads(mqtt_cli("device", "list", env=env).stdout)
    assert listed["pump-1"]["write"] == [f"v1.1/Datastreams({i})/Observations" for i in streams]
    missing = mqtt_cli("device", "add", "ghost", "--thing", "999999", env=env)
    assert missing.returncode != 0 and "thing 999999 does not exist" in missing.stderr
    neither = mqtt_cli("device", "add", "nothing", env=env)
    assert neither.returncode != 0 and "--datastream or --thing" in neither.stderr


def test_start_in_the_foreground_becomes_the_broker(cli_env):
    proc = subprocess.Popen([str(GISAPP), "mqtt", "start", "--foreground"],
                            env={**os.environ, **cli_env}, stderr=subprocess.PIPE, text=True)
    try:
        port = int(cli_env["MQTT_URL"].rpartition(":")[2])

        def answers() -> bool:
            client, reason = connect(port, "ingest", "cli-secret") if _listening(port) \
                else (None, None)
            if client is not None:
                client.disconnect()
                client.loop_stop()
            return reason is not None and not reason.is_failure

        assert wait_for(answers, 30)
        status = mqtt_cli("status", env=cli_env)
        assert f"(pid {proc.pid})" in status.stdout  # the command's own process, exec'd
    finally:
        proc.terminate()
        proc.wait(20)
    assert proc.returncode == 0


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
