"""The SQLAlchemy engine: psycopg 3, pooled, pre-pinged so a database restart is survived."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from gisapp.db.provision import libpq_url


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + libpq_url(url).removeprefix("postgresql://")


def make_engine(url: str, pool_size: int = 8, max_overflow: int = 4,
                pre_ping: bool = True) -> Engine:
    """A pooled engine; JIT is off on its connections (it adds 0.5-0.8 s to big tiles).

    `pre_ping` tests each connection with a round trip as it leaves the pool, so a request
    never meets a connection the database dropped; without it the caller must cope.
    """
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "options": "-c jit=off"},
    )

    @event.listens_for(engine, "connect")
    def _set_timezone(dbapi_conn, _record):
        dbapi_conn.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine
