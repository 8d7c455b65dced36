"""Creating observations over HTTP: one Observation, or a CreateObservations dataArray.

Who may write: `etl_operator` and `admin` to any datastream; a `device` user only to the
datastreams of the thing it is bound to (device_things). Rows go through the store's one
write path (store.observations), so HTTP and MQTT readings are checked, deduplicated and
aggregated alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from gisapp.errors import BadRequest, Forbidden
from gisapp.sta.entities import observation_id
from store.observation_json import observation_from_json
from store.observations import ObservationRow, WriteCounts, WritePolicy, write_observations

WRITER_ROLES = ("etl_operator", "admin", "device")
# dataArray components a row may carry, and the Observation member each one fills
COMPONENTS = {"phenomenonTime": "phenomenonTime", "result": "result",
              "resultTime": "resultTime", "parameters": "parameters",
              "FeatureOfInterest/id": "FeatureOfInterest"}


@dataclass(frozen=True)
class Written:
    """What one write did: the ids of the rows (None where refused) and the counts."""

    ids: list[str | None]
    reasons: dict[int, str]
    counts: WriteCounts


def device_thing(conn: psycopg.Connection, user: str) -> int:
    """The thing a device user is bound to; 403 when it is bound to none."""
    row = conn.execute("SELECT d.thing_id FROM device_things d JOIN users u ON u.id = d.user_id"
                       " WHERE u.name = %s", (user,)).fetchone()
    if row is None:
        raise Forbidden(f"device {user} is bound to no thing; bind it with "
                        "`gisapp sensors device <thing code>`")
    return row[0]


def check_device_streams(conn: psycopg.Connection, thing_id: int, rows: list[ObservationRow]):
    """403 naming the datastreams of the batch that are not the device's thing's."""
    wanted = sorted({r.datastream_id for r in rows})
    own = {r[0] for r in conn.execute("SELECT id FROM datastreams WHERE id = ANY(%s)"
                                      " AND thing_id = %s", (wanted, thing_id))}
    foreign = [ds for ds in wanted if ds not in own]
    if foreign:
        raise Forbidden(f"this device may write only to the datastreams of thing {thing_id}; "
                        f"not to datastream(s) {', '.join(map(str, foreign))}")


def write(conn: psycopg.Connection, rows: list[ObservationRow], role: str, user: str | None,
          policy: WritePolicy) -> Written:
    """Authorise and write rows; ids are '<datastream>-<microseconds>' for stored rows."""
    if role == "device":
        check_device_streams(conn, device_thing(conn, user), rows)
    counts = write_observations(conn, rows, policy)
    reasons = {r.index: r.reason for r in counts.refused}
    ids = [None if i in reasons else observation_id(r.datastream_id, r.phenomenon_time)
           for i, r in enumerate(rows)]
    return Written(ids, reasons, counts)


def one_observation(body: Any, datastream_id: int | None) -> ObservationRow:
    """The row of a POSTed Observation; 400 naming what is wrong."""
    try:
        return observation_from_json(body, datastream_id)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def data_array_rows(body: Any) -> list[tuple[ObservationRow | None, str | None]]:
    """(row, None) or (None, reason) for every dataArray row of a CreateObservations body.

    The body's shape (a list of {Datastream, components, dataArray}) must be right, else the
    whole request is a 400; a row that cannot be read is reported in its place.
    """
    if not isinstance(body, list) or not body:
        raise BadRequest("CreateObservations takes a JSON array of "
                         "{Datastream, components, dataArray} objects")
    out = []
    for n, group in enumerate(body):
        if not isinstance(group, dict):
            raise BadRequest(f"CreateObservations item {n} must be an object")
        components = group.get("components")
        if not isinstance(components, list) or not all(c in COMPONENTS for c in components):
            raise BadRequest(f"CreateObservations item {n}: components must be a list of "
                             f"{', '.join(COMPONENTS)}")
        data = group.get("dataArray")
        if not isinstance(data, list):
            raise BadRequest(f"CreateObservations item {n}: dataArray must be a list of rows")
        for values in data:
            if not isinstance(values, list) or len(values) != len(components):
                out.append((None, f"a dataArray row must list {len(components)} values"))
                continue
            payload: dict[str, Any] = {"Datastream": group.get("Datastream")}
            for name, value in zip(components, values):
                payload[COMPONENTS[name]] = {"@iot.id": value} if name.endswith("/id") else value
            try:
                out.append((observation_from_json(payload), None))
            except ValueError as exc:
                out.append((None, str(exc)))
    return out
