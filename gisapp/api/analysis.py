"""Planning analysis API: parcel reports, drainage traces, lighting, Wi-Fi, area queries, wards."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from gisapp.analysis.drainage import DIRECTIONS, MAX_CATCHMENT_M, TraceRequest, trace
from gisapp.analysis.lighting import (UnlitRequest, cabinet_lights, cabinet_loads,
                                      lights_out_of_service, unlit_streets)
from gisapp.analysis.wards import ward_summary
from gisapp.analysis.wifi import coverage_geojson, coverage_table
from gisapp.analysis.within import WithinRequest, as_csv, within
from gisapp.analysis.network_checks import network_findings
from gisapp.auth import current_levels, require_role
from gisapp.context import settings
from gisapp.errors import BadRequest
from gisapp.openapi.annotate import documented, query_param
from gisapp.read_routing import read_connection
from gisapp.reports.parcel import parcel_report, report_shapes
from gisapp.reports.svg_map import render_svg
from gisapp.response_privacy import carries, note_fields
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from layers.land import LAND_USES, PARCELS
from layers.lighting import STREET_LIGHTS

bp = Blueprint("analysis", __name__)
GEOJSON = {"Content-Type": "application/geo+json"}
STAFF = ("planner", "etl_operator", "permit_officer", "admin")


def _format(allowed: tuple[str, ...]) -> str:
    fmt = request.args.get("f", allowed[0])
    if fmt not in allowed:
        raise BadRequest(f"f={fmt!r}; use one of {', '.join(allowed)}")
    return fmt


@bp.get("/api/parcels/<string:uid>/report")
@carries(PARCELS, LAND_USES)
def parcel_report_view(uid: str):
    """The parcel report as JSON, or ?f=html for a printable page with a small map."""
    fmt = _format(("json", "html"))
    with read_connection() as conn:
        report = parcel_report(conn, uid, current_levels(), settings().data_dir)
        if fmt == "json":
            return jsonify(report)
        svg = render_svg(report_shapes(conn, uid))
    return render_template("reports/parcel.html", r=report, svg=svg)


@bp.get("/api/analysis/drainage/trace")
@carries(DRAINAGE_PIPES, DRAINAGE_NODES)
@documented([query_param("node", {"type": "string", "minLength": 1},
                         "node_id of the node to trace from", required=True),
             query_param("direction", {"type": "string", "enum": list(DIRECTIONS)}, ""),
             query_param("catchment_m", {"type": "number", "minimum": 0,
                                         "maximum": MAX_CATCHMENT_M}, "metres")])
def drainage_trace():
    """Pipes and nodes up- or downstream of ?node=, outfalls, length, catchment parcels."""
    req = TraceRequest.parse(request.args)
    with read_connection() as conn:
        fc = trace(conn, req, current_levels())
    return jsonify(fc), 200, {"Content-Type": "application/geo+json"}


@bp.get("/api/analysis/drainage/findings")
@require_role(*STAFF)
def drainage_findings():
    """Data-quality findings: dangling pipes, dead ends, cycles, pipes flowing uphill."""
    with read_connection() as conn:
        findings = network_findings(conn)
    return jsonify({"findings": findings, "count": len(findings)})


@bp.get("/api/analysis/lighting/unlit")
@documented([query_param("ward", {"type": "string", "minLength": 1}, "ward code",
                         required=True),
             query_param("distance_m", {"type": "number", "minimum": 1, "maximum": 200}, ""),
             query_param("min_length_m", {"type": "number", "minimum": 0, "maximum": 1000}, ""),
             query_param("offset_m", {"type": "number", "minimum": 0, "maximum": 50}, "")])
def lighting_unlit():
    """Street stretches in ?ward= with no working light within ?distance_m= (GeoJSON lines)."""
    req = UnlitRequest.parse(request.args)
    with read_connection() as conn:
        return jsonify(unlit_streets(conn, req)), 200, GEOJSON


@bp.get("/api/analysis/lighting/out-of-service")
@carries(STREET_LIGHTS)
def lighting_out_of_service():
    """Lights out of service, in ?ward= if given (GeoJSON points)."""
    with read_connection() as conn:
        fc = lights_out_of_service(conn, current_levels(), request.args.get("ward") or None)
    return jsonify(fc), 200, GEOJSON


@bp.get("/api/analysis/lighting/cabinets")
def lighting_cabinets():
    """Every cabinet with its lights, wattage and load share (GeoJSON points)."""
    with read_connection() as conn:
        return jsonify(cabinet_loads(conn)), 200, GEOJSON


@bp.get("/api/analysis/lighting/cabinets/<string:cabinet_id>/lights")
@carries(STREET_LIGHTS)
def lighting_cabinet_lights(cabinet_id: str):
    """The lights one cabinet feeds (GeoJSON points)."""
    with read_connection() as conn:
        return jsonify(cabinet_lights(conn, cabinet_id, current_levels())), 200, GEOJSON


@bp.get("/api/analysis/wifi/coverage")
def wifi_coverage():
    """The per-ward coverage table; with ?ward= that ward's coverage and uncovered places."""
    ward = request.args.get("ward")
    with read_connection() as conn:
        if ward:
            return jsonify(coverage_geojson(conn, ward)), 200, GEOJSON
        return jsonify({"wards": coverage_table(conn)})


@bp.post("/api/analysis/within")
def area_query():
    """Features of a layer in a polygon or near a feature, counted and summed; ?f=csv."""
    fmt = _format(("json", "csv"))
    levels = current_levels()
    req = WithinRequest.parse(request.get_json(silent=True), levels)
    note_fields(req.layer.visible_fields(levels))
    with read_connection() as conn:
        fc = within(conn, req, levels)
    if fmt == "csv":
        return Response(as_csv(fc), mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename={req.layer.id}-within.csv"})
    return jsonify(fc), 200, GEOJSON


@bp.get("/api/wards/<string:code>/summary")
def ward_dashboard(code: str):
    """A ward's parcels by land use, pipe length by diameter, lights by status, Wi-Fi."""
    with read_connection() as conn:
        return jsonify(ward_summary(conn, code))
