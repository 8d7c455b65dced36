"""Request-time access to the app's settings and engine."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import current_app
from sqlalchemy import Connection, Engine

from gisapp.settings import Settings


def settings() -> Settings:
    return current_app.extensions["settings"]


def engine() -> Engine:
    return current_app.extensions["engine"]


@contextmanager
def autocommit() -> Iterator[Connection]:
    """A pooled connection in autocommit: reads without BEGIN/ROLLBACK round trips."""
    with engine().connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")
