"""The web map page: MapLibre with the registry style, layer panel, identify, measure."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from sqlalchemy import Connection, select

from gisapp.api.alerts import OPERATOR_ROLES
from gisapp.auth import current_levels, current_role
from gisapp.read_routing import read_connection
from gisapp.web.parcel_desk import record_links
from layers import Access
from layers.base import WARDS
from layers.drainage import DRAINAGE_NODES
from store.tables import LAYER_TABLES

bp = Blueprint("map_page", __name__)

STYLE_URL = "/styles/default.json"
SEARCH_ENDPOINT = "parcels.parcel_search"
ANALYSIS_ENDPOINTS = {"within": "analysis.area_query", "trace": "analysis.drainage_trace",
                      "unlit": "analysis.lighting_unlit", "coverage": "analysis.wifi_coverage"}
WARD_SUMMARY_ENDPOINT = "analysis.ward_dashboard"
WARD_CODE_SLOT = "WARD_CODE"  # replaced by the chosen ward's code in the page's script
LIVE_ENDPOINTS = {"state": "live.live_state", "alerts": "alerts.list_alerts",
                  "stream": "alerts.stream"}
ID_SLOT = 0  # the id in the series and acknowledge URL templates, replaced by the script


def endpoint_url(endpoint: str) -> str | None:
    """The URL of an API endpoint, or None when its blueprint is not installed."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


def analysis_urls() -> dict[str, str] | None:
    """The analysis tools' endpoints, for staff callers when every one is installed."""
    urls = {name: endpoint_url(endpoint) for name, endpoint in ANALYSIS_ENDPOINTS.items()}
    if Access.STAFF not in current_levels() or None in urls.values() \
            or WARD_SUMMARY_ENDPOINT not in current_app.view_functions:
        return None
    return {**urls, "summary": url_for(WARD_SUMMARY_ENDPOINT, code=WARD_CODE_SLOT)}


def live_urls() -> dict[str, str] | None:
    """The live map's feeds (state, series, alerts), when their blueprints are installed."""
    urls = {name: endpoint_url(endpoint) for name, endpoint in LIVE_ENDPOINTS.items()}
    if None in urls.values():
        return None
    return {**urls, "series": url_for("live.datastream_series", datastream_id=ID_SLOT),
            "acknowledge": url_for("alerts.acknowledge", event_id=ID_SLOT)}


def ward_choices(conn: Connection) -> list[tuple[str, str]]:
    """Every ward's code and name, by name, for the planner's ward tools."""
    t = LAYER_TABLES[WARDS.id]
    code, name = t.c[WARDS.key[0]], t.c[WARDS.style.label]
    return [(r[0], r[1]) for r in conn.execute(select(code, name).order_by(name, code))]


@bp.get("/map")
def map_view():
    analysis = analysis_urls()
    wards = []
    if analysis is not None:
        with read_connection([WARDS.id]) as conn:
            wards = ward_choices(conn)
    return render_template("map.html", style_url=STYLE_URL,
                           search_url=endpoint_url(SEARCH_ENDPOINT), analysis=analysis,
                           trace_layer=DRAINAGE_NODES, wards=wards, ward_slot=WARD_CODE_SLOT,
                           record_links=record_links(), live=live_urls(),
                           can_acknowledge=current_role() in OPERATOR_ROLES)
