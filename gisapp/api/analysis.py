"""Planning analysis API: parcel reports, drainage traces, lighting, Wi-Fi, area queries, wards."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from gisapp.analysis.drainage import TraceRequest, trace
from gisapp.analysis.network_checks import network_findings
from gisapp.auth import current_levels, require_role
from gisapp.context import engine, settings
from gisapp.errors import BadRequest
from gisapp.reports.parcel import parcel_report, report_shapes
from gisapp.reports.svg_map import render_svg

bp = Blueprint("analysis", __name__)
STAFF = ("planner", "etl_operator", "permit_officer", "admin")


def _format(allowed: tuple[str, ...]) -> str:
    fmt = request.args.get("f", allowed[0])
    if fmt not in allowed:
        raise BadRequest(f"f={fmt!r}; use one of {', '.join(allowed)}")
    return fmt


@bp.get("/api/parcels/<string:uid>/report")
def parcel_report_view(uid: str):
    """The parcel report as JSON, or ?f=html for a printable page with a small map."""
    fmt = _format(("json", "html"))
    with engine().connect() as conn:
        report = parcel_report(conn, uid, current_levels(), settings().data_dir)
        if fmt == "json":
            return jsonify(report)
        svg = render_svg(report_shapes(conn, uid))
    return render_template("reports/parcel.html", r=report, svg=svg)


@bp.get("/api/analysis/drainage/trace")
def drainage_trace():
    """Pipes and nodes up- or downstream of ?node=, outfalls, length, catchment parcels."""
    req = TraceRequest.parse(request.args)
    with engine().connect() as conn:
        fc = trace(conn, req, current_levels())
    return jsonify(fc), 200, {"Content-Type": "application/geo+json"}


@bp.get("/api/analysis/drainage/findings")
@require_role(*STAFF)
def drainage_findings():
    """Data-quality findings: dangling pipes, dead ends, cycles, pipes flowing uphill."""
    with engine().connect() as conn:
        findings = network_findings(conn)
    return jsonify({"findings": findings, "count": len(findings)})
