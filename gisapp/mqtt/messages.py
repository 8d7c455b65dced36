"""An MQTT message as a reading: the SensorThings MQTT extension's Observation on its topic.

A device publishes an Observation's JSON (`phenomenonTime`, `result`, optional `resultTime`
and `parameters`) to `v1.1/Datastreams(<id>)/Observations`, or to `v1.1/Observations` with
`"Datastream": {"@iot.id": <id>}` in it. What cannot be read is a `Malformed` with a kind
(counted per kind) and a message naming what was wrong; whether the datastream exists and
the result fits it is the write path's to say (store.observations).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from gisapp.mqtt.topics import VERSION, datastream_of
from store.observations import ObservationRow

OBSERVATIONS_TOPIC = f"{VERSION}/Observations"
MAX_PAYLOAD_BYTES = 64 * 1024


class Malformed(ValueError):
    """A message that is not a reading; `kind` is its dead-letter kind."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Message:
    """One received MQTT message."""

    topic: str
    payload: bytes


def read_observation(message: Message) -> ObservationRow:
    """The reading a message carries, or Malformed saying why it is none."""
    topic_stream = datastream_of(message.topic)
    if topic_stream is None and message.topic != OBSERVATIONS_TOPIC:
        raise Malformed("topic", f"topic {message.topic[:200]!r} is not "
                                 f"v1.1/Datastreams(<id>)/Observations")
    if len(message.payload) > MAX_PAYLOAD_BYTES:
        raise Malformed("json", f"payload of {len(message.payload)} bytes is over the "
                                f"{MAX_PAYLOAD_BYTES} allowed for one Observation")
    try:
        body = json.loads(message.payload)
    except (ValueError, RecursionError) as exc:
        raise Malformed("json", f"payload is not JSON: {str(exc)[:200]}") from None
    if not isinstance(body, dict):
        raise Malformed("json", "payload must be a JSON object (an Observation)")
    datastream_id = topic_stream if topic_stream is not None else _linked_datastream(body)
    if "result" not in body:
        raise Malformed("result", "the Observation has no result")
    parameters = body.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise Malformed("parameters", "parameters must be a JSON object")
    return ObservationRow(datastream_id=datastream_id,
                          phenomenon_time=_time(body, "phenomenonTime", required=True),
                          result=body["result"],
                          result_time=_time(body, "resultTime", required=False),
                          parameters=parameters)


def _linked_datastream(body: dict) -> int:
    link = body.get("Datastream")
    value = link.get("@iot.id") if isinstance(link, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Malformed("topic", "an Observation published to v1.1/Observations must name "
                                 "its datastream: \"Datastream\": {\"@iot.id\": <id>}")
    return value


def _time(body: dict, name: str, required: bool) -> datetime | None:
    """An ISO 8601 instant with a timezone (an interval's start/end is not accepted)."""
    value = body.get(name)
    if value is None:
        if required:
            raise Malformed("time", f"the Observation has no {name}")
        return None
    if not isinstance(value, str) or "/" in value:
        raise Malformed("time", f"{name} {str(value)[:60]!r} must be one ISO 8601 instant "
                                "with a timezone, like 2026-10-15T14:05:00+07:00")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise Malformed("time", f"{name} {value[:60]!r} is not an ISO 8601 instant with a "
                                "timezone, like 2026-10-15T14:05:00+07:00")
    return when
