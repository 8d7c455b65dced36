"""An engine that pooled connections before a fork (gunicorn's master with preload_app) gives
the child connections of its own, never the parent's sockets."""
from __future__ import annotations

import os

from sqlalchemy import text

from gisapp.db.engine import make_engine


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_forked_child_connects_anew_and_the_parent_keeps_its_connection(test_url):
    engine = make_engine(test_url, pool_size=1, max_overflow=0)
    parent = _backend_pid(engine)  # the connection stays in the pool
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports its backend's pid (0 on any error) and leaves at once
        try:
            pid = _backend_pid(engine)
        except BaseException:
            pid = 0
        os.write(write, str(pid).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        in_child = int(pipe.read() or 0)
    os.waitpid(child, 0)
    assert in_child not in (0, parent)
    assert _backend_pid(engine) == parent  # the parent's pooled connection still works
    engine.dispose()
