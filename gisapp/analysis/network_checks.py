"""Data-quality findings on the drainage network: dangling pipes, dead ends, cycles, uphill pipes.

A dangling pipe names a node that does not exist; a dead end is a node where flow stops
although it is no outfall or pump station.
"""
from __future__ import annotations

from sqlalchemy import Connection, select

from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from store.tables import LAYER_TABLES

UPHILL_TOLERANCE_M = 0.005  # invert levels are surveyed to the centimetre
FLOW_ENDS = ("outfall", "pump_station")  # node kinds where flow may leave the network


def _cycles(edges: dict[str, list[tuple[str, str]]]) -> list[list[str]]:
    """Strongly connected groups of nodes (Tarjan, iterative) that hold a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in list(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i][1]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                self_loop = any(to == node for _, to in edges.get(node, []))
                if len(group) > 1 or self_loop:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def network_findings(conn: Connection) -> list[dict]:
    """Every finding: {check, pipe_id or nodes, message}: dangling, dead ends, cycles, uphill."""
    pipes, nodes = LAYER_TABLES[DRAINAGE_PIPES.id], LAYER_TABLES[DRAINAGE_NODES.id]
    kinds = dict(conn.execute(select(nodes.c.node_id, nodes.c.kind)).all())
    known = set(kinds)
    rows = conn.execute(select(pipes.c.pipe_id, pipes.c.from_node, pipes.c.to_node,
                               pipes.c.invert_up, pipes.c.invert_down)
                        .order_by(pipes.c.pipe_id)).all()
    findings = []
    edges: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        missing = [n for n in (r.from_node, r.to_node) if n not in known]
        if missing:
            findings.append({"check": "dangling_pipe", "pipe_id": r.pipe_id,
                             "message": f"pipe {r.pipe_id} refers to missing node(s) "
                                        f"{', '.join(missing)}"})
        edges.setdefault(r.from_node, []).append((r.pipe_id, r.to_node))
    for node in sorted({r.to_node for r in rows} - set(edges)):
        if node in known and kinds[node] not in FLOW_ENDS:
            findings.append({"check": "dead_end", "nodes": [node],
                             "message": f"flow stops at {kinds[node]} {node}, which is no "
                                        f"{' or '.join(FLOW_ENDS)}"})
    for group in _cycles(edges):
        findings.append({"check": "cycle", "nodes": group,
                         "message": f"flow returns to its start through nodes {', '.join(group)}"})
    for r in rows:
        if r.invert_up is not None and r.invert_down is not None \
                and r.invert_down > r.invert_up + UPHILL_TOLERANCE_M:
            findings.append({"check": "uphill_pipe", "pipe_id": r.pipe_id,
                             "message": f"pipe {r.pipe_id} flows uphill: invert {r.invert_up} m "
                                        f"at {r.from_node}, {r.invert_down} m at {r.to_node}"})
    return findings
