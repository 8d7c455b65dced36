"""A PgBouncer of the test's own (Debian's binary, transaction mode) on a free port.

`pooler_for(url, pool_size)` starts one in front of the server of `url` and stops it after;
the `pgbouncer` fixture is one such pooler in front of the test database for the session.
Its prefix is a fresh directory under /tmp (PgBouncer runs as postgres when tests run as
root, and must read its files there).
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from gisapp.db.provision import libpq_url
from gisapp.pgbouncer import PoolerConfig, session_query, start, stop
from tests.served import free_port


@contextmanager
def pooler_for(url: str, pool_size: int = 4) -> Iterator[PoolerConfig]:
    """PgBouncer pooling the database of `url` (and its server's others); yields its config."""
    prefix = Path(tempfile.mkdtemp(prefix="gisapp-pgbouncer-"))
    prefix.chmod(0o755)
    cfg = PoolerConfig(prefix=prefix, listen=f"127.0.0.1:{free_port()}", target=libpq_url(url),
                       pool_size=pool_size, connect_query=session_query(30_000, 60_000))
    start(cfg)
    try:
        yield cfg
    finally:
        stop(cfg)
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbouncer(test_url: str) -> Iterator[PoolerConfig]:
    """PgBouncer in front of the test database, 2 server connections (clients must share)."""
    with pooler_for(test_url, pool_size=2) as cfg:
        yield cfg
