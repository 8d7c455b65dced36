"""Reads from streaming replicas (DATABASE_READ_URLS), consistent with the data versions.

Tiles, feature pages, parcel lookups and analysis read through `read_connection`; writes,
sessions, tokens, permit checks and the audit log keep using the primary engine. A read
goes to a replica only once it has replayed the commits of the layer versions it shows
(tiles.versions) and the caller's own last write: after a state-changing request the
response sets the cookie READ_FLOOR_COOKIE to the primary's WAL position, which the same
browser's later reads wait for (read-your-writes). `X-Read-Source` names where a read ran.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

import psycopg
import sqlalchemy.exc
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, event

from gisapp.context import engine
from gisapp.db.provision import libpq_url
from gisapp.db.replica_health import Replica, ReplicaHealth
from gisapp.db.replication import lsn_text, parse_lsn
from store.layer_changes import settle_commit_lsns
from layers.sensors import THING_LAYERS
from tiles.versions import versions_for

READ_FLOOR_COOKIE = "gisapp_lsn"
READ_FLOOR_SECONDS = 600  # replicas lag seconds at most; after that any read is fresh enough
SOURCE_HEADER = "X-Read-Source"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ReadReplicas:
    """The replicas' health and one SQLAlchemy engine per replica (same order)."""

    def __init__(self, health: ReplicaHealth, engines: list[Engine]):
        self.health = health
        self.engines = engines


def init_app(app: Flask) -> None:
    """Engines and health checks for DATABASE_READ_URLS; nothing when none is set."""
    from gisapp.db.engine import make_engine
    from gisapp.db.timeouts import web_options

    cfg = app.extensions["settings"]
    if not cfg.read_urls:
        app.extensions["replicas"] = None
        return
    health = ReplicaHealth(cfg.read_urls, cfg.read_max_lag_ms, cfg.read_wait_ms,
                           cfg.replica_check_ms)
    engines = [make_engine(url, cfg.db_pool_size, cfg.db_pool_overflow,
                           options=web_options(cfg)) for url in cfg.read_urls]
    app.extensions["replicas"] = ReadReplicas(health, engines)
    app.after_request(_after_request)

    @event.listens_for(app.extensions["engine"], "engine_disposed")
    def _dispose(_engine) -> None:
        for replica_engine in engines:
            replica_engine.dispose()


def replicas() -> ReadReplicas | None:
    return current_app.extensions.get("replicas")


def read_floor() -> int:
    """The LSN of this caller's own last write (from its cookie), 0 if none or malformed."""
    text = request.cookies.get(READ_FLOOR_COOKIE) if has_request_context() else None
    if not text:
        return 0
    try:
        return parse_lsn(text)
    except ValueError:
        return 0


def required_lsn(layer_ids: Iterable[str] | None = None) -> int:
    """What a replica must have replayed to serve these layers (None: every layer)."""
    url = libpq_url(current_app.extensions["settings"].direct_url)
    return max(versions_for(url).commit_lsn(layer_ids), read_floor())


def choose_replica(lsn: int) -> Replica | None:
    """A replica that may serve a read needing `lsn`, or None for the primary."""
    found = replicas()
    chosen = found.health.choose(lsn) if found is not None else None
    note_source(chosen.name if chosen is not None else "primary")
    return chosen


def note_source(name: str) -> None:
    """Remember where this request read from (the X-Read-Source header)."""
    if has_request_context():
        g.read_source = name


@contextmanager
def read_connection(layer_ids: Iterable[str] | None = None,
                    autocommit: bool = False) -> Iterator[Connection]:
    """A connection for a read of these layers (None: of anything): a replica or the primary.

    A replica that fails to connect is checked again at once and the read goes to the
    primary. `autocommit` spares the BEGIN/ROLLBACK round trips of a read.
    """
    chosen = choose_replica(required_lsn(layer_ids)) if replicas() is not None else None
    conn = None
    if chosen is not None:
        try:
            conn = replicas().engines[chosen.index].connect()
        except sqlalchemy.exc.OperationalError:
            replicas().health.check(chosen)
            note_source("primary")
    if conn is None:
        conn = engine().connect()
    with conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT") if autocommit else conn


@contextmanager
def sensor_read_connection() -> Iterator[psycopg.Connection]:
    """For a sensor read: a replica's psycopg handle when it may serve it, else the primary's.

    What a sensor read needs: the layers things are registered from (their versions' commit
    LSNs) and the caller's own last write (the read-floor cookie a POST of observations
    sets); other writers' observations are as fresh as the replica's lag bound allows
    (GISAPP_READ_MAX_LAG_MS), since observations have no version of their own.
    """
    with read_connection(THING_LAYERS) as conn:
        yield conn.connection.driver_connection


def _after_request(response: Response) -> Response:
    source = g.get("read_source")
    if source:
        response.headers[SOURCE_HEADER] = source
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return response
    try:
        written = _written_lsn()
    except (sqlalchemy.exc.SQLAlchemyError, psycopg.Error):
        return response  # the primary went away after the write: nothing to wait for
    response.set_cookie(READ_FLOOR_COOKIE, lsn_text(written), max_age=READ_FLOOR_SECONDS,
                        httponly=True, samesite="Lax",
                        secure=current_app.extensions["settings"].is_https)
    return response


def _written_lsn() -> int:
    """The primary's WAL position now, past this request's commits; settles version LSNs."""
    raw = engine().raw_connection()
    try:
        driver = raw.driver_connection
        driver.rollback()
        driver.autocommit = True
        try:
            return settle_commit_lsns(driver)
        finally:
            driver.autocommit = False
    finally:
        raw.close()
