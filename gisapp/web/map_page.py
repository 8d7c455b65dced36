"""The web map page: MapLibre with the registry style, layer panel, identify, measure."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("map_page", __name__)

STYLE_URL = "/styles/default.json"


@bp.get("/map")
def map_view():
    return render_template("map.html", style_url=STYLE_URL)
