"""The parcel desk: look a parcel up by key, text, owner or point; its record and history.

What a caller sees is decided by the parcels API (rights and holders only for roles with
personal access); the page only offers the owner search to those roles.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from gisapp.auth import current_levels, current_role
from gisapp.errors import NotFound
from gisapp.permits.sitemodel import PROPOSED_USES
from gisapp.web.navigation import PAGES, is_allowed
from layers import Access
from layers.land import PARCELS

bp = Blueprint("parcel_desk", __name__)
PARCEL_API = "parcels.parcel_by_uid"
PERMIT_API = "permits.create_check"
PERMIT_ROLES = ("permit_officer", "admin")
PARCEL_UID = "parcel_uid"  # the parcels field the desk opens a record by (#parcel=…)


def record_links() -> dict[str, str]:
    """{layer id: link template} of the records this caller may open on the desk.

    The template's `{field}` is filled from a feature's tile properties by the map's
    identify; it carries the parcel's public id only. Empty when the caller's role may
    not use the desk (or it is not installed).
    """
    page = next(p for p in PAGES if p.endpoint == "parcel_desk.desk")
    if not is_allowed(page, current_role()):
        return {}
    return {PARCELS.id: f"{url_for(page.endpoint)}#parcel={{{PARCEL_UID}}}"}


def permit_check_url() -> str | None:
    """Where pre-checks are run, for the roles that may run them, when installed."""
    if current_role() not in PERMIT_ROLES or PERMIT_API not in current_app.view_functions:
        return None
    return url_for(PERMIT_API)


def is_available() -> bool:
    """Whether the parcels API this page drives is installed."""
    return PARCEL_API in current_app.view_functions


@bp.get("/parcel-desk")
def desk():
    if not is_available():
        raise NotFound("the parcel desk needs the parcels API, which is not installed")
    return render_template("parcel_desk.html", style_url="/styles/default.json",
                           owner_search=Access.PERSONAL in current_levels(),
                           permit_url=permit_check_url(), proposed_uses=PROPOSED_USES)
