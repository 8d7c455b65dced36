"""`gisapp drainage check|trace`: network findings and traces from the command line."""
from __future__ import annotations

import json

import click

from gisapp.analysis.drainage import DIRECTIONS, TraceRequest, trace
from gisapp.analysis.network_checks import network_findings
from gisapp.db.engine import make_engine
from gisapp.settings import Settings
from layers import levels_for


@click.group()
def drainage() -> None:
    """Drainage network: data-quality findings and traces."""


@drainage.command("check")
def check() -> None:
    """List dangling pipes, dead ends, cycles and uphill pipes; exit 1 if there are any."""
    engine = make_engine(Settings.load().direct_url, pool_size=1)
    try:
        with engine.connect() as conn:
            findings = network_findings(conn)
    finally:
        engine.dispose()
    for f in findings:
        click.echo(f"{f['check']:<14} {f['message']}")
    click.echo(f"{len(findings)} finding(s)")
    raise SystemExit(1 if findings else 0)


@drainage.command("trace")
@click.argument("node")
@click.option("--direction", type=click.Choice(DIRECTIONS), default="downstream")
@click.option("--catchment-m", type=float, default=30.0, show_default=True)
def trace_cmd(node: str, direction: str, catchment_m: float) -> None:
    """Trace from NODE and print the summary (pipes, length, outfalls, catchment parcels)."""
    engine = make_engine(Settings.load().direct_url, pool_size=1)
    try:
        with engine.connect() as conn:
            fc = trace(conn, TraceRequest(node, direction, catchment_m), levels_for("admin"))
    finally:
        engine.dispose()
    click.echo(json.dumps(fc["properties"], ensure_ascii=False, indent=2))
