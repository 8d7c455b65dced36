"""The web map page: MapLibre with the registry style, layer panel, identify, measure."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from gisapp.auth import current_levels
from layers import Access
from layers.drainage import DRAINAGE_NODES

bp = Blueprint("map_page", __name__)

STYLE_URL = "/styles/default.json"
SEARCH_ENDPOINT = "parcels.parcel_search"
ANALYSIS_ENDPOINTS = {"within": "analysis.area_query", "trace": "analysis.drainage_trace"}


def endpoint_url(endpoint: str) -> str | None:
    """The URL of an API endpoint, or None when its blueprint is not installed."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


def analysis_urls() -> dict[str, str] | None:
    """The analysis tools' endpoints, for staff callers when every one is installed."""
    urls = {name: endpoint_url(endpoint) for name, endpoint in ANALYSIS_ENDPOINTS.items()}
    if Access.STAFF not in current_levels() or None in urls.values():
        return None
    return urls


@bp.get("/map")
def map_view():
    return render_template("map.html", style_url=STYLE_URL,
                           search_url=endpoint_url(SEARCH_ENDPOINT), analysis=analysis_urls(),
                           trace_layer=DRAINAGE_NODES)
