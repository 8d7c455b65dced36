"""A SensorThings Observation as JSON (HTTP body, MQTT payload, dataArray row) -> ObservationRow.

Both ingestion paths read observations in the same form, so a device may publish over MQTT
what it would POST. A malformed observation raises ValueError with a message naming the
member that is wrong; the caller turns it into a 400 or a dead letter.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from store.observations import ObservationRow

TIME_MEMBERS = ("phenomenonTime", "resultTime")


def parse_instant(value: Any, member: str) -> datetime:
    """An ISO 8601 date-time with a timezone ("2026-12-07T10:00:00Z"); intervals are refused."""
    if not isinstance(value, str):
        raise ValueError(f"{member} must be an ISO 8601 date-time string, not {value!r}")
    if "/" in value:
        raise ValueError(f"{member} {value!r} is a time interval; only instants are accepted")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{member} {value!r} is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        raise ValueError(f"{member} {value!r} needs a timezone (Z or +07:00)")
    return when


def entity_id(value: Any, member: str) -> int:
    """The integer id of a linked entity given as {"@iot.id": n}."""
    ident = value.get("@iot.id") if isinstance(value, dict) else None
    if isinstance(ident, bool) or not isinstance(ident, int):
        raise ValueError(f"{member} must be an object with an integer @iot.id")
    return ident


def observation_from_json(payload: Any, datastream_id: int | None = None) -> ObservationRow:
    """The reading a SensorThings Observation object describes.

    `datastream_id` comes from the URL or MQTT topic (Datastreams(7)/Observations); without
    it the object must link its Datastream. A missing phenomenonTime is refused rather than
    set to the time of arrival: a late reading must keep its own time to stay idempotent.
    """
    if not isinstance(payload, dict):
        raise ValueError("an observation must be a JSON object")
    if "Datastream" in payload:
        linked = entity_id(payload["Datastream"], "Datastream")
        if datastream_id is not None and linked != datastream_id:
            raise ValueError(f"Datastream {linked} differs from datastream {datastream_id} "
                             "of the URL or topic")
        datastream_id = linked
    if datastream_id is None:
        raise ValueError("Datastream is missing: link it as {\"@iot.id\": n} or post to "
                         "Datastreams(n)/Observations")
    if "phenomenonTime" not in payload:
        raise ValueError("phenomenonTime is missing")
    if "result" not in payload:
        raise ValueError("result is missing")
    result_time = payload.get("resultTime")
    parameters = payload.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise ValueError("parameters must be a JSON object")
    foi = payload.get("FeatureOfInterest")
    return ObservationRow(
        datastream_id=datastream_id,
        phenomenon_time=parse_instant(payload["phenomenonTime"], "phenomenonTime"),
        result=payload["result"],
        result_time=None if result_time is None else parse_instant(result_time, "resultTime"),
        parameters=parameters,
        feature_of_interest_id=None if foi is None else entity_id(foi, "FeatureOfInterest"))
