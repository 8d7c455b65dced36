"""The print layout: the current map view on an A4/A3 sheet with legend, scale and grid.

The view and the open layers come from the map's shareable URL (#map=z/lat/lon&layers=…);
the browser's print to PDF makes the document, so what prints is what the planner sees.
"""
from __future__ import annotations

from flask import Blueprint, render_template, url_for

from gisapp.web.map_page import STYLE_URL

bp = Blueprint("print_page", __name__)

PAPERS = ("a4", "a3")
ORIENTATIONS = ("landscape", "portrait")


@bp.get("/map/print")
def print_view():
    return render_template("print.html", style_url=STYLE_URL, papers=PAPERS,
                           orientations=ORIENTATIONS,
                           catalogue_url=url_for("layer_catalogue.layer_catalogue"))
