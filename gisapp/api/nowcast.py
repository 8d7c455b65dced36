"""The flood now-cast over HTTP: streets and parcels at risk at a moment and horizon."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, request

from gisapp.auth import current_levels
from gisapp.context import settings
from gisapp.heavy_requests import claim_heavy_slot
from gisapp.nowcast.forecast import MAX_HORIZON_H, SHOWN, NowcastRequest, run_nowcast
from gisapp.openapi.annotate import documented, query_param
from gisapp.read_routing import read_connection
from gisapp.response_privacy import note_fields

bp = Blueprint("nowcast", __name__, url_prefix="/api/nowcast")


@bp.get("")
@documented([query_param("at", {"type": "string", "format": "date-time"},
                         "the moment (ISO 8601 with a timezone); default now"),
             query_param("horizon", {"type": "integer", "minimum": 0,
                                     "maximum": MAX_HORIZON_H}, "hours ahead; default 0"),
             query_param("bbox", {"type": "string"},
                         "minlon,minlat,maxlon,maxlat: only what touches it; default all")])
def nowcast():
    """Streets and parcels at flood risk (GeoJSON) with the inputs and a disclaimer."""
    req = NowcastRequest.parse(request.args.get("at"), request.args.get("horizon"),
                               datetime.now(timezone.utc), request.args.get("bbox"))
    # seconds of CPU and megabytes of GeoJSON in a city-wide storm: one of the heavy slots
    claim_heavy_slot("the flood now-cast")
    levels = current_levels()
    for layer, names in SHOWN.values():
        note_fields(f for f in layer.visible_fields(levels) if f.name in names)
    layer_ids = [layer.id for layer, _ in SHOWN.values()]
    with read_connection(layer_ids) as conn:
        result = run_nowcast(conn.connection.driver_connection, settings().data_dir, req,
                             levels)
    return jsonify(result), 200, {"Content-Type": "application/geo+json"}
