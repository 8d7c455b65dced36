"""The live map's feeds: every monitored thing's state (now or at a past time) and the
series of one datastream for a chart.

Both are public, like the SensorThings API they summarise (the assets are public layers).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from gisapp.errors import BadRequest
from gisapp.live.series import read_series
from gisapp.openapi.annotate import documented, query_param
from gisapp.query_args import aware_instant
from gisapp.read_routing import sensor_read_connection
from gisapp.live.state import things_state
from gisapp.sta.entities import iso
from layers.live_symbols import LIVE_SYMBOLS, RAIN_WINDOW_MINUTES, STALE_AFTER_HOURS
from layers.sensors import THING_KINDS, TRUTH

bp = Blueprint("live", __name__, url_prefix="/api/live")
DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=400)
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(minutes=10)  # as the write path: clocks a little ahead are fine


def parse_instant(name: str, text: str | None) -> datetime | None:
    """An ISO 8601 instant with a timezone, not before 1970; None when absent."""
    value = aware_instant(text, name)
    if value is not None and value < EARLIEST:  # keeps `value - span` in datetime's range
        raise BadRequest(f"{name} {iso(value)} is before {EARLIEST.year}")
    return value


def _not_future(name: str, value: datetime, now: datetime) -> None:
    if value > now + FUTURE_SLACK:
        raise BadRequest(f"{name} {iso(value)} is in the future; it must be at most "
                         f"{int(FUTURE_SLACK.total_seconds() // 60)} minutes after now")


@dataclass(frozen=True)
class SeriesArgs:
    """?from and ?to (ISO instants; default: the 24 hours up to now)."""

    start: datetime
    end: datetime

    @classmethod
    def parse(cls, args, now: datetime) -> "SeriesArgs":
        end = parse_instant("to", args.get("to")) or now
        start = parse_instant("from", args.get("from")) or end - DEFAULT_SPAN
        if start >= end:
            raise BadRequest(f"from {iso(start)} must be before to {iso(end)}")
        if end - start > MAX_SPAN:
            raise BadRequest(f"from..to spans {(end - start).days} days; at most "
                             f"{MAX_SPAN.days} days")
        return cls(start, end)


def symbols_json() -> dict:
    """The live classes of each thing kind, their colours and names, from the declarations."""
    return {kind: {"by": s.by, "classes": [{"id": c.id, "colour": c.colour, "label": c.label}
                                           for c in s.classes]}
            for kind, s in LIVE_SYMBOLS.items()}


def datastream_kinds_json() -> dict:
    """Each thing kind's datastreams: the property's name, unit and whether it is true/false."""
    return {kind.id: {"title": kind.title,
                      "datastreams": {ds.id: {"label": ds.observed_property.name,
                                              "unit": ds.unit.symbol if ds.unit else None,
                                              "truth": ds.observation_type == TRUTH}
                                      for ds in kind.datastreams}}
            for kind in THING_KINDS.values()}


@bp.get("/state")
@documented([query_param("at", {"type": "string", "format": "date-time"},
                         "Replay: the state as of this time (ISO 8601 with a timezone)")])
def live_state():
    """Every monitored thing's live class and readings: now, or ?at=ISO (replay)."""
    now = datetime.now(timezone.utc)
    at = parse_instant("at", request.args.get("at"))
    if at is not None:
        _not_future("at", at, now)
    with sensor_read_connection() as conn:
        found = things_state(conn, at or now, replay=at is not None)
    return jsonify({
        "at": iso(at or now), "replay": at is not None,
        "stale_after_hours": STALE_AFTER_HOURS, "rain_window_minutes": RAIN_WINDOW_MINUTES,
        "symbols": symbols_json(), "thing_kinds": datastream_kinds_json(),
        "things": [{"id": s.id, "kind": s.kind, "layer": s.layer, "feature_key": s.feature_key,
                    "name": s.name, "lon": s.lon, "lat": s.lat, "symbol": s.symbol,
                    "rain_last_hour_mm": s.rain_last_hour_mm,
                    "warning_level_m": s.warning_level_m,
                    "readings": {k: {**r, "time": iso(r["time"])} for k, r in s.readings.items()}}
                   for s in found]})


@bp.get("/datastreams/<int:datastream_id>/series")
@documented([query_param("from", {"type": "string", "format": "date-time"},
                         "Start (ISO 8601 with a timezone); default 24 h before `to`"),
             query_param("to", {"type": "string", "format": "date-time"},
                         "End (ISO 8601 with a timezone); default now")])
def datastream_series(datastream_id: int):
    """A datastream's points ?from..to (default the last 24 h): raw, hourly or daily."""
    args = SeriesArgs.parse(request.args, datetime.now(timezone.utc))
    with sensor_read_connection() as conn:
        series = read_series(conn, datastream_id, args.start, args.end)
    ds = series.datastream
    return jsonify({
        "datastream": {"id": ds.id, "kind": ds.kind, "name": ds.name, "unit": ds.unit,
                       "truth": ds.truth, "label": ds.label, "accumulates": ds.accumulates,
                       "interval_s": ds.interval_s, "thing": ds.thing},
        "from": iso(args.start), "to": iso(args.end), "resolution": series.resolution,
        "value": "reading" if series.resolution == "raw"
                 else "sum" if ds.accumulates else "mean",
        "points": [[iso(t), v, lo, hi] for t, v, lo, hi in series.points]})
