"""Bench: drainage trace by recursive CTE (what gisapp uses) against pgRouting on the demo city.

One command: `DATABASE_URL=… .venv/bin/python bench/drainage_trace.py [--n 50]`. Needs the
demo city loaded and a role that may `CREATE EXTENSION pgrouting` (Debian package
postgresql-15-pgrouting); the extension is dropped again at the end if this created it.
All methods must reach the same pipes from the same start nodes; prints mean/p95 ms.
pgRouting rebuilds its graph from the edge query on every call, which is what it costs.
"""
from __future__ import annotations

import argparse
import statistics
import time


import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from gisapp.analysis.drainage import TraceRequest, trace  # noqa: E402
from gisapp.db.engine import make_engine  # noqa: E402
from gisapp.db.provision import libpq_url  # noqa: E402
from gisapp.settings import Settings  # noqa: E402
from layers import levels_for  # noqa: E402
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES  # noqa: E402

EDGES = sql.SQL(
    "SELECT p.id, a.id AS source, b.id AS target, 1.0::float8 AS cost, -1.0::float8 AS reverse_cost"
    " FROM {pipes} p JOIN {nodes} a ON a.node_id = p.{src} JOIN {nodes} b ON b.node_id = p.{dst}")
CTE = sql.SQL(
    "WITH RECURSIVE reach(node) AS (SELECT %s::text UNION SELECT p.{dst} FROM {pipes} p"
    " JOIN reach r ON p.{src} = r.node)"
    " SELECT pipe_id FROM {pipes} WHERE {src} IN (SELECT node FROM reach) ORDER BY 1")
PGR = sql.SQL(
    "SELECT p.pipe_id FROM pgr_drivingDistance(%s, %s, 1e9, directed => true) d"
    " JOIN {nodes} n ON n.id = d.node JOIN {pipes} p ON p.{src} = n.node_id ORDER BY 1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    url = libpq_url(Settings.load().database_url)
    ident = {"pipes": sql.Identifier(DRAINAGE_PIPES.table),
             "nodes": sql.Identifier(DRAINAGE_NODES.table)}
    engine = make_engine(url, pool_size=1, max_overflow=0)
    public = levels_for("public")
    with psycopg.connect(url, autocommit=True) as conn:
        created = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pgrouting'")\
            .fetchone() is None
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
        try:
            starts = conn.execute(sql.SQL("SELECT node_id, id FROM {nodes} ORDER BY md5(node_id)"
                                          " LIMIT %s").format(**ident), (args.n,)).fetchall()
            print(f"{len(starts)} start nodes, each traced both ways; times in ms")
            for direction, src, dst in (("downstream", "from_node", "to_node"),
                                        ("upstream", "to_node", "from_node")):
                cols = {"src": sql.Identifier(src), "dst": sql.Identifier(dst)}
                edges = EDGES.format(**ident, **cols).as_string(conn)
                pgr, cte = PGR.format(**ident, **cols), CTE.format(**ident, **cols)
                cte_ms, raw_ms, pgr_ms = [], [], []
                for node_id, node_pk in starts:
                    t0 = time.perf_counter()
                    with engine.connect() as c:
                        fc = trace(c, TraceRequest(node_id, direction, 0.0), public)
                    cte_ms.append((time.perf_counter() - t0) * 1000)
                    mine = sorted(f["properties"]["pipe_id"] for f in fc["features"]
                                  if f["properties"]["feature"] == "pipe")
                    t0 = time.perf_counter()
                    raw = [r[0] for r in conn.execute(cte, (node_id,))]
                    raw_ms.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    theirs = [r[0] for r in conn.execute(pgr, (edges, node_pk))]
                    pgr_ms.append((time.perf_counter() - t0) * 1000)
                    if not mine == sorted(raw) == sorted(theirs):
                        raise SystemExit(f"{direction} from {node_id}: methods disagree")
                for name, ms in (("gisapp trace (CTE, full GeoJSON)", cte_ms),
                                 ("recursive CTE (pipe ids only)", raw_ms),
                                 ("pgr_drivingDistance (pipe ids only)", pgr_ms)):
                    p95 = statistics.quantiles(ms, n=20)[18]
                    print(f"{direction:<10} {name:<38} mean {statistics.mean(ms):7.1f}"
                          f"  p95 {p95:7.1f}")
        finally:
            if created:
                conn.execute("DROP EXTENSION pgrouting")
    engine.dispose()


if __name__ == "__main__":
    main()
