"""An MQTT message as a reading: the SensorThings MQTT extension's Observation on its topic.

A device publishes an Observation's JSON (`phenomenonTime`, `result`, optional `resultTime`
and `parameters`) to `v1.1/Datastreams(<id>)/Observations`, or to `v1.1/Observations` with
`"Datastream": {"@iot.id": <id>}` in it. The JSON is read by the same function as an HTTP
POST's (store.observation_json). What cannot be read is a `Malformed` with a kind (dead
letters are counted per kind) and a message naming what was wrong; whether the datastream
exists and the result fits it is the write path's to say (store.observations).
"""
from __future__ import annotations

from typing import NamedTuple

import orjson

from gisapp.mqtt.topics import VERSION, datastream_of
from store.observation_json import observation_from_json
from store.observations import ObservationRow

OBSERVATIONS_TOPIC = f"{VERSION}/Observations"
MAX_PAYLOAD_BYTES = 64 * 1024
# A reason starts with the member at fault (store.observation_json, store.observations):
# its dead-letter kind. resultTime before result: the longer name first.
KINDS_BY_MEMBER = (("datastream", "datastream"), ("Datastream", "topic"),
                   ("phenomenonTime", "time"), ("resultTime", "time"), ("result", "result"),
                   ("parameters", "parameters"), ("FeatureOfInterest", "feature"),
                   ("an observation", "json"))


class Malformed(ValueError):
    """A message that is not a reading; `kind` is its dead-letter kind."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Message(NamedTuple):
    """One received MQTT message."""

    topic: str
    payload: bytes


def reason_kind(reason: str) -> str:
    """The dead-letter kind of a refusal, from the member its reason names first."""
    for prefix, kind in KINDS_BY_MEMBER:
        if reason.startswith(prefix):
            return kind
    return "refused"


def read_observation(message: Message) -> ObservationRow:
    """The reading a message carries, or Malformed saying why it is none."""
    topic_stream = datastream_of(message.topic)
    if topic_stream is None and message.topic != OBSERVATIONS_TOPIC:
        raise Malformed("topic", f"topic {message.topic[:200]!r} is not "
                                 f"v1.1/Datastreams(<id>)/Observations")
    if len(message.payload) > MAX_PAYLOAD_BYTES:
        raise Malformed("json", f"payload of {len(message.payload)} bytes is over the "
                                f"{MAX_PAYLOAD_BYTES} allowed for one Observation")
    try:  # orjson: 0.4 µs where json took 2; it refuses NaN, bad UTF-8 and 65-bit integers
        body = orjson.loads(message.payload)
    except orjson.JSONDecodeError as exc:
        raise Malformed("json", f"payload is not JSON: {str(exc)[:200]}") from None
    try:
        return observation_from_json(body, topic_stream)
    except ValueError as exc:
        raise Malformed(reason_kind(str(exc)), str(exc)) from None
