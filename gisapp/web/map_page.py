"""The web map page: MapLibre with the registry style, layer panel, identify, measure."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

bp = Blueprint("map_page", __name__)

STYLE_URL = "/styles/default.json"
SEARCH_ENDPOINT = "parcels.parcel_search"


def endpoint_url(endpoint: str) -> str | None:
    """The URL of an API endpoint, or None when its blueprint is not installed."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


@bp.get("/map")
def map_view():
    return render_template("map.html", style_url=STYLE_URL,
                           search_url=endpoint_url(SEARCH_ENDPOINT))
