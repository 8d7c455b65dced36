"""Publish a demo storm's readings to the broker as devices do, at a chosen speed."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from gisapp.mqtt.address import MqttAddress
from gisapp.mqtt.broker import BrokerError
from gisapp.mqtt.storm import Stream, observation_payload, storm_readings
from gisapp.mqtt.topics import observations_topic


def replay_storm(address: MqttAddress, user: str, password: str, streams: list[Stream],
                 hours: float, speed: float) -> int:
    """Publish the storm ending now (QoS 1, one Observation a message); readings sent.

    `speed` is storm time per wall-clock time (0: as fast as the broker takes them). The
    readings are stamped from `hours` ago on, so none is ever in the future.
    """
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="gisapp-demo-simulator")
    client.username_pw_set(user, password)
    client.max_inflight_messages_set(500)
    try:
        client.connect(address.host, address.port)
    except OSError as exc:
        raise BrokerError(f"no broker at {address.listen} ({exc}): run `gisapp mqtt start` "
                          "first") from None
    client.loop_start()
    began = time.monotonic()
    start = datetime.now(timezone.utc) - timedelta(hours=hours)
    sent, last = 0, None
    try:
        for when, stream, result in storm_readings(streams, start, hours):
            if speed:
                ahead = (when - start).total_seconds() / speed - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
            last = client.publish(observations_topic(stream),
                                  observation_payload(when, result), qos=1)
            sent += 1
        if last is not None:
            last.wait_for_publish(120)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent
