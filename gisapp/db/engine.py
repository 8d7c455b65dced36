"""The SQLAlchemy engine: psycopg 3, pooled, pre-pinged so a database restart is survived."""
from __future__ import annotations

import os
import weakref

from psycopg.errors import QueryCanceled
from sqlalchemy import Engine, create_engine, event

from gisapp.db.provision import libpq_url

# Every engine of this process, for the child of a fork (gunicorn's workers fork from a master
# that built the app: gisapp/gunicorn.conf.py preload_app).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    """In a forked child: drop the pooled connections inherited from the parent without
    closing them (their sockets are the parent's; SQLAlchemy's advice for os.fork)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + libpq_url(url).removeprefix("postgresql://")


def make_engine(url: str, pool_size: int = 8, max_overflow: int = 4,
                pre_ping: bool = True, options: str = "", pooled: bool = False) -> Engine:
    """A pooled engine; JIT is off on its connections (it adds 0.5-0.8 s to big tiles).

    `pre_ping` tests each connection with a round trip as it leaves the pool, so a request
    never meets a connection the database dropped; without it the caller must cope.
    `options` are more libpq `-c name=value` settings (gisapp.db.timeouts: the timeouts of
    this kind of connection). A statement the server cancels raises QueryTimeout.
    `pooled` says `url` is a transaction-mode pooler (DATABASE_POOLER=transaction): the next
    transaction may run on another server connection, so psycopg prepares no statements and
    no session settings are sent (PgBouncer refuses the `options` startup parameter; its
    connect_query sets jit and the timeouts, see gisapp/pgbouncer.py). The time zone still
    is: PgBouncer tracks TimeZone per client and sets it on each server connection it lends.
    """
    connect_args: dict = {"connect_timeout": 5}
    if pooled:
        connect_args["prepare_threshold"] = None
    else:
        connect_args["options"] = f"-c jit=off {options}".strip()
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args=connect_args,
    )

    @event.listens_for(engine, "connect")
    def _set_timezone(dbapi_conn, _record):
        dbapi_conn.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    @event.listens_for(engine, "handle_error")
    def _query_timeout(context) -> None:
        if isinstance(context.original_exception, QueryCanceled):
            from gisapp.errors import QueryTimeout
            raise QueryTimeout.from_cancel(context.original_exception) \
                from context.original_exception

    _ENGINES.add(engine)
    return engine
