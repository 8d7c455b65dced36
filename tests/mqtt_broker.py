"""A Mosquitto broker of the test's own (gisapp.mqtt.broker), in a temp directory on a free
port, that a test may stop and start again (never the packaged daemon).

Fixture `mqtt_broker` (one per module): a running broker with the ingest account of its
`url`, one device account `device` allowed to publish to datastreams 1 to 100, and `tester`
that may publish to any `v1.1/` topic (to try wrong topics). `publish` and `connect` are
paho-mqtt clients as devices use them.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gisapp.mqtt import accounts, broker
from gisapp.mqtt.address import parse_mqtt_url
from tests.pg_cluster import free_port

DEVICE = "device"
DEVICE_DATASTREAMS = list(range(1, 101))
TESTER = "tester"


@dataclass
class Broker:
    cfg: broker.BrokerConfig
    url: str
    device_password: str
    tester_password: str

    @property
    def port(self) -> int:
        return self.cfg.address.port

    def start(self) -> None:
        broker.start(self.cfg)

    def stop(self) -> None:
        broker.stop(self.cfg)

    def is_running(self) -> bool:
        return broker.running_pid(self.cfg) is not None


def make_broker(root: Path) -> Broker:
    """A broker directory under `root` (world-enterable: mosquitto drops to its own user)."""
    root.chmod(0o755)
    url = f"mqtt://ingest:ingest-secret@127.0.0.1:{free_port()}"
    cfg = broker.BrokerConfig(directory=root / "mqtt", address=parse_mqtt_url(url))
    accounts.ensure_ingest_account(cfg)
    password = accounts.add_device(cfg, DEVICE, DEVICE_DATASTREAMS)
    tester = accounts.set_account(cfg, TESTER, write=["v1.1/#"])
    return Broker(cfg=cfg, url=url, device_password=password, tester_password=tester)


@pytest.fixture(scope="module")
def mqtt_broker() -> Iterator[Broker]:
    """A running broker of this module's own."""
    root = Path(tempfile.mkdtemp(prefix="gisapp-mqtt-"))
    made = make_broker(root)
    made.start()
    try:
        yield made
    finally:
        if made.is_running():
            made.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def running_broker(mqtt_broker: Broker) -> Iterator[Broker]:
    """`mqtt_broker`, started again after the test if the test left it stopped."""
    yield mqtt_broker
    if not mqtt_broker.is_running():
        mqtt_broker.start()


def connect(port: int, user: str | None, password: str | None,
            client_id: str = "") -> tuple[paho.Client, paho.ReasonCode | None]:
    """A connected, looping client and the broker's CONNACK reason (None without answer)."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    answers: list = []
    client.on_connect = lambda c, u, f, reason, p: answers.append(reason)
    if user is not None:
        client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not answers and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, (answers[0] if answers else None)


def publish(b: Broker, messages: list[tuple[str, bytes | str]], qos: int = 1,
            user: str = DEVICE) -> None:
    """Publish (topic, payload) pairs as the test device (or `user`); wait until the broker
    has them."""
    password = b.device_password if user == DEVICE else b.tester_password
    client, reason = connect(b.port, user, password)
    assert reason is not None and not reason.is_failure, reason
    try:
        infos = [client.publish(topic, payload, qos=qos) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()
