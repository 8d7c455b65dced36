"""OGC SensorThings API 1.1 at /sta/v1.1/: read every entity set, create observations.

Reads are public (the monitored assets are public layers). POST Observations,
POST Datastreams(id)/Observations and POST CreateObservations need role etl_operator,
admin or device (a device only for its own thing's datastreams).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

import psycopg
from flask import Blueprint, Response, jsonify, request

from gisapp.audit import audit
from gisapp.auth import current_role, current_user, require_role
from gisapp.context import engine, settings
from gisapp.errors import BadRequest
from gisapp.public_url import base_url
from gisapp.read_routing import sensor_read_connection
from gisapp.sta import query, writes
from gisapp.sta.entities import SETS
from gisapp.sta.odata import parse_options
from store.observations import WritePolicy

bp = Blueprint("sta", __name__, url_prefix="/sta/v1.1")
DEFAULT_TOP = 100
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
]


def _base() -> str:
    return f"{base_url()}{bp.url_prefix}"


@contextmanager
def _db() -> Iterator[psycopg.Connection]:
    """A pooled connection's psycopg handle inside one transaction (committed on success)."""
    with engine().begin() as conn:
        yield conn.connection.driver_connection


def _audit(action: str, written: writes.Written, refused: int = 0) -> None:
    """People's and scripts' writes are audited; devices' telemetry is not (volume)."""
    if current_role() != "device":
        audit(action, None, {"inserted": written.counts.inserted,
                             "duplicates": written.counts.duplicates,
                             "refused": refused + len(written.reasons)})


def _policy() -> WritePolicy:
    return WritePolicy(retention=timedelta(days=settings().sensor_retention_days))


@bp.get("")
@bp.get("/")
def service_root():
    """The entity sets and the conformance classes served."""
    return jsonify({"value": [{"name": name, "url": f"{_base()}/{name}"} for name in SETS],
                    "serverSettings": {"conformance": CONFORMANCE}})


@bp.get("/<path:path>")
def read(path: str):
    """An entity, a collection or a navigation path, with the OData query options."""
    resource = query.resolve(path)
    raw = {k: v for k, v in request.args.items() if k.startswith("$")}
    options = parse_options(raw, settings().max_features_per_page)
    with sensor_read_connection() as conn:
        reader = query.Reader(conn, _base(), DEFAULT_TOP)
        if resource.single:
            text = reader.entity_json(resource, options)
        else:
            text = reader.collection_json(resource, options, raw)
    return Response(text, mimetype="application/json")  # JSON written by PostgreSQL


@bp.post("/Observations")
@bp.post("/Datastreams(<int:datastream_id>)/Observations")
@require_role(*writes.WRITER_ROLES)
def create_observation(datastream_id: int | None = None):
    """One observation: 201 with its Location, 200 when the same reading was stored before."""
    row = writes.one_observation(request.get_json(silent=True), datastream_id)
    with _db() as conn:
        written = writes.write(conn, [row], current_role(), current_user(), _policy())
    if written.reasons:
        raise BadRequest(written.reasons[0])
    _audit("sta.create_observation", written)
    ident = written.ids[0]
    location = f"{_base()}/Observations('{ident}')"
    with _db() as conn:
        doc = query.Reader(conn, _base(), DEFAULT_TOP).entity(
            query.resolve(f"Observations('{ident}')"), parse_options({}, 1))
    response = jsonify(doc)
    response.status_code = 201 if written.counts.inserted else 200
    response.headers["Location"] = location
    return response


@bp.post("/CreateObservations")
@require_role(*writes.WRITER_ROLES)
def create_observations():
    """A dataArray batch: one selfLink or "error: <reason>" per row, in order (201)."""
    parsed = writes.data_array_rows(request.get_json(silent=True))
    rows = [row for row, _ in parsed if row is not None]
    with _db() as conn:
        written = writes.write(conn, rows, current_role(), current_user(), _policy())
    stored = iter(zip(written.ids, range(len(rows))))
    answer = []
    for row, reason in parsed:
        if row is None:
            answer.append(f"error: {reason}")
            continue
        ident, index = next(stored)
        answer.append(f"error: {written.reasons[index]}" if ident is None
                      else f"{_base()}/Observations('{ident}')")
    _audit("sta.create_observations", written, refused=len(parsed) - len(rows))
    response = jsonify(answer)
    response.status_code = 201
    return response
