"""The parcel desk: look a parcel up by key, text, owner or point; its record and history.

What a caller sees is decided by the parcels API (rights and holders only for roles with
personal access); the page only offers the owner search to those roles.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from gisapp.auth import current_levels
from gisapp.errors import NotFound
from layers import Access

bp = Blueprint("parcel_desk", __name__)
PARCEL_API = "parcels.parcel_by_uid"


def is_available() -> bool:
    """Whether the parcels API this page drives is installed."""
    return PARCEL_API in current_app.view_functions


@bp.get("/parcel-desk")
def desk():
    if not is_available():
        raise NotFound("the parcel desk needs the parcels API, which is not installed")
    return render_template("parcel_desk.html", style_url="/styles/default.json",
                           owner_search=Access.PERSONAL in current_levels())
