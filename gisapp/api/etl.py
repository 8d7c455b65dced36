"""ETL API: queue imports, read run history and rejects, cancel runs, manage schedules."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import psycopg
from flask import Blueprint, Response, jsonify, request, url_for

from etl.rasters import check_raster_name
from gisapp.auth import current_levels, current_user, require_role
from gisapp.context import engine, settings
from gisapp.errors import BadRequest, note_body_limit
from gisapp.etl_ops import queue, raster_uploads, runs, schedules, sources, spool
from gisapp.etl_ops.runs import RunFilter
from gisapp.response_privacy import note_restricted
from layers import get_table
from store.run_lifecycle import queue_run

bp = Blueprint("etl", __name__, url_prefix="/api/etl")
OPERATORS = ("etl_operator", "admin")
TRUE = ("1", "true", "yes", "on")


@bp.record_once
def _cap_request_size(state) -> None:
    # Flask refuses larger bodies with 413 before anything parses them (CSRF checks included).
    if state.app.config.get("MAX_CONTENT_LENGTH") is None:
        cfg = state.app.extensions["settings"]
        state.app.config["MAX_CONTENT_LENGTH"] = max(cfg.max_upload_mb, cfg.max_raster_mb) << 20


@bp.url_value_preprocessor  # runs before any before_request (CSRF) could read the body
def _name_body_limit(endpoint: str | None, _values: dict | None) -> None:
    """A body over the limit is a 413 naming the setting that bounds this upload."""
    cfg = settings()
    note_body_limit(*((cfg.max_raster_mb, "GISAPP_MAX_RASTER_MB")
                      if endpoint == "etl.create_raster"
                      else (cfg.max_upload_mb, "GISAPP_MAX_UPLOAD_MB")))


@contextmanager
def _db() -> Iterator[psycopg.Connection]:
    """A pooled connection's psycopg handle inside one transaction (committed on success)."""
    with engine().begin() as conn:
        yield conn.connection.driver_connection


@dataclass(frozen=True)
class ImportParams:
    """POST /api/etl/imports fields (multipart form or JSON)."""

    layer: str
    mode: str = "replace"
    crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    confirm_crs: bool = False
    dry_run: bool = False
    path: str | None = None
    url: str | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> "ImportParams":
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise BadRequest(f"unknown fields {', '.join(sorted(unknown))}; allowed: "
                             f"{', '.join(cls.__dataclass_fields__)}")
        if not data.get("layer"):
            raise BadRequest("field 'layer' is required")
        mode = data.get("mode") or "replace"
        schedules.check_mode_and_encoding(mode, data.get("encoding"))
        return cls(layer=get_table(str(data["layer"])).id, mode=mode, crs=_text(data, "crs"),
                   encoding=_text(data, "encoding"), source_layer=_text(data, "source_layer"),
                   confirm_crs=_flag(data, "confirm_crs"), dry_run=_flag(data, "dry_run"),
                   path=_text(data, "path"), url=_text(data, "url"))


def _flag(data: dict, key: str) -> bool:
    value = data.get(key)
    return value is True or str(value).lower() in TRUE


def _text(data: dict, key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, "") else str(value)


def _links(run_id: int) -> dict:
    return {"self": url_for("etl.run", run_id=run_id),
            "rejects": url_for("etl.rejects", run_id=run_id),
            "cancel": url_for("etl.cancel", run_id=run_id)}


@bp.post("/imports")
@require_role(*OPERATORS)
def create_import():
    """Spool the source, queue a run and its job; the worker executes it."""
    cfg = settings()
    request.max_content_length = cfg.max_upload_mb << 20
    if request.is_json:
        data, upload = request.get_json(silent=True), None
        if not isinstance(data, dict):
            raise BadRequest("the JSON body must be an object")
    else:
        data = request.form.to_dict()
        upload = request.files.get("file")
        unknown_files = set(request.files) - {"file"}
        if unknown_files:
            raise BadRequest(f"only one upload field, 'file', is accepted; got "
                             f"{', '.join(sorted(unknown_files))}")
    params = ImportParams.parse(data)
    prepared = sources.prepare(cfg, upload=upload.stream if upload else None,
                               filename=upload.filename if upload else None,
                               reference=params.path, url=params.url,
                               source_layer=params.source_layer)
    source = sources.describe(filename=upload.filename if upload else None,
                              reference=params.path, url=params.url)
    options = {"path": str(prepared.path), "spool": str(prepared.spool), "crs": params.crs,
               "source_layer": prepared.source_layer, "confirm_crs": params.confirm_crs,
               "source_name": sources.describe_name(
                   filename=upload.filename if upload else None, reference=params.path,
                   url=params.url)}
    try:
        with _db() as conn:
            run_id = queue_run(conn, layer=params.layer, source=source,
                               source_format=prepared.path.suffix.lstrip(".").lower(),
                               mode=params.mode, encoding=params.encoding,
                               dry_run=params.dry_run, started_by=current_user())
            queue.defer_run_job(conn, run_id, params.layer, options)
    except BaseException:
        spool.remove_spool(prepared.spool)
        raise
    response = jsonify({"run_id": run_id, "status": "queued", "links": _links(run_id)})
    response.status_code = 202
    response.headers["Location"] = url_for("etl.run", run_id=run_id)
    return response


@bp.post("/rasters")
@require_role(*OPERATORS)
def create_raster():
    """Queue an uploaded GeoTIFF as raster `name` (202): the header is checked now, the
    worker converts it to a COG and registers it."""
    cfg = settings()
    request.max_content_length = cfg.max_raster_mb << 20
    upload = request.files.get("file")
    name = request.form.get("name", "")
    if upload is None:
        raise BadRequest("upload the GeoTIFF in the multipart field 'file'")
    check_raster_name(name)
    filename = upload.filename or "upload.tif"
    path = raster_uploads.save_raster(cfg, upload.stream, filename)
    try:
        run_id = raster_uploads.queue_raster(_db, cfg, name, path, filename,
                                             request.form.get("unit") or None, current_user(),
                                             queue.defer_run_job)
    except BaseException:
        spool.remove_spool(path.parent)
        raise
    response = jsonify({"run_id": run_id, "status": "queued", "name": name,
                        "links": _links(run_id)})
    response.status_code = 202
    response.headers["Location"] = url_for("etl.run", run_id=run_id)
    return response


@bp.get("/runs")
@require_role(*OPERATORS)
def list_runs():
    flt = RunFilter.parse(request.args)
    with _db() as conn:
        return jsonify(runs.list_runs(conn, flt))


@bp.get("/runs/<int:run_id>")
@require_role(*OPERATORS)
def run(run_id: int):
    with _db() as conn:
        return jsonify({**runs.get_run(conn, run_id), "links": _links(run_id)})


@bp.get("/runs/<int:run_id>/rejects")
@require_role(*OPERATORS)
def rejects(run_id: int):
    fmt = request.args.get("f", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest(f"f={fmt!r} is not json or csv")
    note_restricted()  # source rows as they came: whatever the file held
    levels = current_levels()
    with _db() as conn:
        if fmt == "csv":
            body = "".join(runs.rejects_csv(conn, run_id, levels))
            return Response(body, mimetype="text/csv", headers={
                "Content-Disposition": f'attachment; filename="run-{run_id}-rejects.csv"'})
        flt = RunFilter.parse({"limit": request.args.get("limit"),
                               "offset": request.args.get("offset")})
        return jsonify(runs.list_rejects(conn, run_id, flt.limit, flt.offset, levels))


@bp.post("/runs/<int:run_id>/cancel")
@require_role(*OPERATORS)
def cancel(run_id: int):
    with _db() as conn:
        return jsonify(runs.cancel_run(conn, run_id, current_user()))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json_object() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("send the schedule as a JSON object")
    return data


@bp.post("/schedules")
@require_role(*OPERATORS)
def create_schedule():
    with _db() as conn:
        body = schedules.create_schedule(conn, _json_object(), current_user(), _now(),
                                         settings())
    return jsonify(body), 201


@bp.get("/schedules")
@require_role(*OPERATORS)
def list_schedules():
    with _db() as conn:
        return jsonify({"schedules": schedules.list_schedules(conn, _now())})


@bp.get("/schedules/<int:schedule_id>")
@require_role(*OPERATORS)
def get_schedule(schedule_id: int):
    with _db() as conn:
        return jsonify(schedules.get_schedule(conn, schedule_id, _now()))


@bp.patch("/schedules/<int:schedule_id>")
@require_role(*OPERATORS)
def update_schedule(schedule_id: int):
    with _db() as conn:
        return jsonify(schedules.update_schedule(conn, schedule_id, _json_object(), _now(),
                                                 settings()))


@bp.delete("/schedules/<int:schedule_id>")
@require_role(*OPERATORS)
def delete_schedule(schedule_id: int):
    with _db() as conn:
        schedules.delete_schedule(conn, schedule_id)
    return "", 204
