"""Tracing the hand-made network (conftest.py) and its data-quality findings."""
import pytest

from gisapp.analysis.drainage import TraceRequest, trace
from gisapp.analysis.network_checks import network_findings
from gisapp.errors import BadRequest, NotFound
from layers import levels_for
from tests.auth_helpers import auth_headers

PUBLIC = levels_for("public")


def run(engine, **args):
    with engine.connect() as conn:
        return trace(conn, TraceRequest.parse(args), PUBLIC)


def ids(fc, feature):
    key = "pipe_id" if feature == "pipe" else "node_id"
    return sorted(f["properties"][key] for f in fc["features"]
                  if f["properties"]["feature"] == feature)


def test_downstream_trace_passes_the_cycle_once_and_finds_the_outfall(network_engine):
    fc = run(network_engine, node="A", direction="downstream")
    assert ids(fc, "pipe") == ["P1", "P2", "P3", "P5", "P6", "P8"]
    assert ids(fc, "node") == ["A", "B", "C", "E", "G", "O"]
    props = fc["properties"]
    assert props["total_length_m"] == pytest.approx(600.0, abs=0.01)
    assert props["outfalls"] == ["O"] and props["ends"] == ["E", "O"]


def test_upstream_trace_collects_every_contributing_pipe(network_engine):
    fc = run(network_engine, node="C", direction="upstream")
    assert ids(fc, "pipe") == ["P1", "P2", "P4", "P5", "P6", "P7"]
    assert ids(fc, "node") == ["A", "B", "C", "D", "G"]  # Z is referenced but missing
    assert fc["properties"]["ends"] == ["D"] and fc["properties"]["outfalls"] == []


def test_catchment_parcels_lie_within_the_distance_of_the_traced_pipes(network_engine):
    assert run(network_engine, node="B")["properties"]["catchment_parcels"] == \
        ["20242-20245-1-1"]
    assert run(network_engine, node="B", catchment_m="36")["properties"]["catchment_parcels"] \
        == ["20242-20245-1-1", "20242-20245-1-3"]
    assert run(network_engine, node="O")["properties"]["catchment_parcels"] == []


def test_public_trace_hides_staff_fields(network_engine):
    fc = run(network_engine, node="A")
    assert all("install_year" not in f["properties"] and "status" not in f["properties"]
               for f in fc["features"])


def test_unknown_node_and_bad_direction_are_refused(network_engine):
    with pytest.raises(NotFound, match="no drainage node 'Q'"):
        run(network_engine, node="Q")
    with pytest.raises(BadRequest, match="direction"):
        run(network_engine, node="A", direction="sideways")


def test_network_findings_name_dangling_dead_end_cycle_and_uphill(network_engine):
    with network_engine.connect() as conn:
        found = network_findings(conn)
    assert [(f["check"], f.get("pipe_id") or f.get("nodes")) for f in found] == [
        ("dangling_pipe", "P7"), ("dead_end", ["E"]), ("cycle", ["C", "G"]),
        ("uphill_pipe", "P5")]


def test_trace_and_findings_endpoints(scratch_app, network_url):
    client = scratch_app.test_client()
    resp = client.get("/api/analysis/drainage/trace?node=A&direction=downstream")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    assert resp.json["properties"]["outfalls"] == ["O"]
    assert client.get("/api/analysis/drainage/trace?node=A&catchment_m=9999").status_code == 400
    assert client.get("/api/analysis/drainage/findings").status_code == 401
    found = client.get("/api/analysis/drainage/findings",
                       headers=auth_headers(network_url, "planner")).json
    assert found["count"] == 4


def test_cli_lists_findings_and_traces(runner, network_url):
    result = runner("drainage", "check", env={"DATABASE_URL": network_url})
    assert result.exit_code == 1 and "4 finding(s)" in result.output
    assert "uphill_pipe    pipe P5 flows uphill" in result.output
    result = runner("drainage", "trace", "A", env={"DATABASE_URL": network_url})
    assert result.exit_code == 0 and '"outfalls": [\n    "O"\n  ]' in result.output
