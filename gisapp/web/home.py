"""The landing page: what is loaded, with feature counts per layer."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from gisapp.api.public_responses import finish_public_response
from gisapp.features.documents import landing_page
from gisapp.features.params import check_known, parse_format
from gisapp.layer_counts import count_rows
from gisapp.public_url import base_url
from gisapp.read_routing import read_connection
from layers import LAYERS, THEMES

bp = Blueprint("home", __name__)
bp.after_request(finish_public_response)


def wants_json() -> bool:
    """f=json, or an Accept header preferring JSON or not naming HTML (OGC clients send */*)."""
    check_known(request.args, ())
    if "f" in request.args:
        return parse_format(request.args["f"], "html", ("json", "html")) == "json"
    accept = request.accept_mimetypes
    if not request.headers.get("Accept"):
        return False
    if any(value == "text/html" for value, _ in accept):
        return accept.best_match(["text/html", "application/json"]) == "application/json"
    return True


@bp.get("/")
def index():
    """The landing page: HTML for browsers, the OGC API landing document for JSON clients."""
    if wants_json():
        return jsonify(landing_page(base_url()))
    error = None
    try:
        with read_connection() as conn:  # a replica that has every layer's version
            counts = count_rows(conn)
    except SQLAlchemyError as exc:
        counts, error = {}, str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    rows = [(layer, THEMES[layer.theme], counts.get(layer.id)) for layer in LAYERS.values()]
    return render_template("home.html", rows=rows, error=error,
                           total=sum(c or 0 for _, _, c in rows), ogc=landing_page(base_url()))
