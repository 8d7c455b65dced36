"""Role-aware navigation: the pages this caller may use, in header order."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for

from gisapp.auth import current_role


@dataclass(frozen=True)
class Page:
    endpoint: str
    word: str  # key in static/i18n/<lang>.json
    needs: str | None = None  # an API endpoint the page drives
    roles: tuple[str, ...] | None = None  # None: everyone


PAGES = (
    Page("home.index", "nav.home"),
    Page("map_page.map_view", "nav.map"),
    Page("parcel_desk.desk", "nav.parcel_desk", needs="parcels.parcel_by_uid"),
    Page("etl_console.console", "nav.etl", needs="etl.list_runs",
         roles=("etl_operator", "admin")),
)


def is_allowed(page: Page, role: str) -> bool:
    """Whether the page is installed, its API too, and the role may use it."""
    views = current_app.view_functions
    return (page.endpoint in views and (page.needs is None or page.needs in views)
            and (page.roles is None or role in page.roles))


def navigation() -> list[dict]:
    """The header links for the current caller."""
    role = current_role()
    return [{"href": url_for(p.endpoint), "word": p.word, "current": request.endpoint == p.endpoint}
            for p in PAGES if is_allowed(p, role)]


def register(app: Flask) -> None:
    app.context_processor(lambda: {"navigation": navigation})
