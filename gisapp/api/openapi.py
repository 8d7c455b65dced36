"""/openapi.json (generated from the routes) and /api, a Swagger UI page over it."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from gisapp.auth import current_levels
from gisapp.api.public_responses import finish_public_response
from gisapp.context import settings
from gisapp.features.documents import OPENAPI_TYPE
from gisapp.openapi.document import build_document

bp = Blueprint("openapi", __name__)
bp.after_request(finish_public_response)


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.0 document of this API, as the caller may use it."""
    doc = build_document(current_app, current_levels(), settings().max_features_per_page)
    response = jsonify(doc)
    response.headers["Content-Type"] = OPENAPI_TYPE
    return response


@bp.get("/api")
def api_docs():
    """A browsable page of the API (Swagger UI)."""
    return render_template("openapi/swagger.html")
