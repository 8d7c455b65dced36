"""Bench: how long a streaming replica takes to replay again after the primary restarts.

One command: `.venv/bin/python bench/replica_reconnect.py [--restarts 3]`.
Starts its own primary and hot-standby replica twice (tests/pg_cluster.py: temp
directories, free ports), once with gisapp's standby settings (wal_retrieve_retry_interval
= 1s, gisapp.db.replication) and once with PostgreSQL's default (5 s), restarts the primary
`--restarts` times for each and prints the seconds from the restart until the replica has
replayed the first commit after it. The default is the cause of the rare 10 s replay waits
the cluster tests saw after a test had restarted the session's primary.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gisapp.db import replication  # noqa: E402
from tests.pg_cluster import PgCluster, PgReplica  # noqa: E402

DEFAULT_RETRY = "wal_retrieve_retry_interval = 5s\n"


def reconnect_seconds(restarts: int) -> list[float]:
    """Seconds from each primary restart until the replica replayed the next commit."""
    primary = PgCluster(Path(tempfile.mkdtemp(prefix="gisapp-bench-primary-")))
    replica = PgReplica(Path(tempfile.mkdtemp(prefix="gisapp-bench-replica-")), primary)
    times = []
    try:
        primary.init()
        primary.start()
        replica.init()
        replica.start()
        replica.catch_up()
        with primary.superuser() as conn:
            conn.execute("CREATE TABLE reconnect_probe (n int)")
        for _ in range(restarts):
            primary.restart()
            started = time.monotonic()
            with primary.superuser() as conn:
                conn.execute("SET synchronous_commit = on")
                conn.execute("INSERT INTO reconnect_probe VALUES (1)")
                target = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'").fetchone()[0]
            while (replica.replayed_lsn() or 0) < target and time.monotonic() - started < 60:
                time.sleep(0.05)
            times.append(time.monotonic() - started)
    finally:
        replica.destroy()
        primary.destroy()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=3)
    args = parser.parse_args()
    ours = reconnect_seconds(args.restarts)
    replication.STANDBY_CONF += DEFAULT_RETRY  # the last setting wins
    default = reconnect_seconds(args.restarts)
    for name, times in (("gisapp (1 s)", ours), ("PostgreSQL default (5 s)", default)):
        print(f"{name:>26}: replayed again after a primary restart in "
              + ", ".join(f"{t:.2f}" for t in times) + " s")


if __name__ == "__main__":
    main()
