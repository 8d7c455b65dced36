"""The ETL console for data operators: upload, live progress, history, rejects, schedules."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from etl.encodings import ENCODINGS
from etl.pipeline import MODES
from gisapp.auth import current_role, current_user
from gisapp.errors import Forbidden
from gisapp.etl_ops.runs import STATUSES
from layers import LAYERS, TABLES, levels_for
from layers.city import CITY

bp = Blueprint("etl_console", __name__)
OPERATORS = ("etl_operator", "admin")
SUGGESTED_CRS = ("EPSG:4326", CITY.metric_crs, "EPSG:4756", "EPSG:3405", "EPSG:3406")


def importable(role: str) -> list:
    """Layers and tables this role may read, so may load (registry order)."""
    levels = levels_for(role)
    return [t for t in (*LAYERS.values(), *TABLES.values()) if t.access in levels]


@bp.get("/etl")
def console():
    if current_user() is None:
        return redirect(url_for("login.login_form", next=request.path))
    if current_role() not in OPERATORS:
        raise Forbidden(f"the ETL console is for roles {', '.join(OPERATORS)}; "
                        f"you are {current_role()}")
    return render_template("etl_console.html", targets=importable(current_role()),
                           modes=MODES, encodings=ENCODINGS, statuses=STATUSES,
                           suggested_crs=SUGGESTED_CRS)
