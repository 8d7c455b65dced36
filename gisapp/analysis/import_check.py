"""Drainage network findings recorded on the import run that loaded pipes or nodes.

A process that imports calls `check_network_after_loads(conninfo)` once; after every committed
load of a drainage layer the network's findings (dangling pipes, dead ends, cycles, uphill
pipes) are added to that run's warnings in etl_runs, where the run history shows them.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import Connection

from etl.events import on_layer_loaded, remove_layer_loaded
from gisapp.analysis.network_checks import network_findings
from gisapp.db.engine import make_engine
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from store.run_lifecycle import add_warnings

NETWORK_LAYERS = (DRAINAGE_PIPES.id, DRAINAGE_NODES.id)
MAX_LISTED = 20  # findings written one per warning; the rest only counted
_INSTALLED: dict[str, Callable] = {}


def findings_warnings(findings: list[dict]) -> list[str]:
    """The warnings a run gets: a count by check, then up to MAX_LISTED findings."""
    if not findings:
        return []
    counts = Counter(f["check"] for f in findings)
    head = (f"drainage network: {len(findings)} finding(s) after this load ("
            + ", ".join(f"{check} {n}" for check, n in sorted(counts.items()))
            + "); all of them: gisapp drainage check or GET /api/analysis/drainage/findings")
    return [head] + [f"drainage {f['check']}: {f['message']}" for f in findings[:MAX_LISTED]]


def record_findings(conn: Connection, run_id: int) -> list[str]:
    """Add the network's findings to run `run_id`'s warnings; returns the warnings added."""
    added = findings_warnings(network_findings(conn))
    if added:
        add_warnings(conn.connection.driver_connection, run_id, added)
    return added


def check_network_after_loads(conninfo: str) -> Callable:
    """Register (once per database) the hook that records findings after drainage loads."""
    if conninfo in _INSTALLED:
        return _INSTALLED[conninfo]

    def drainage_network_check(result) -> None:
        if result.layer not in NETWORK_LAYERS or result.status != "succeeded":
            return
        engine = make_engine(conninfo, pool_size=1, max_overflow=0)
        try:
            with engine.begin() as conn:
                result.warnings.extend(record_findings(conn, result.run_id))
        finally:
            engine.dispose()

    _INSTALLED[conninfo] = on_layer_loaded(drainage_network_check)
    return drainage_network_check


def stop_network_check(conninfo: str) -> None:
    """Unregister the hook for this database (tests, app teardown); no hook is no error."""
    hook = _INSTALLED.pop(conninfo, None)
    if hook is not None:
        remove_layer_loaded(hook)


@contextmanager
def network_checked(conninfo: str) -> Iterator[None]:
    """Record drainage findings on the drainage loads made inside the block (CLI commands)."""
    check_network_after_loads(conninfo)
    try:
        yield
    finally:
        stop_network_check(conninfo)
