"""PostgreSQL session timeouts per kind of connection: web requests, tiles, ETL.

A statement that runs past its kind's `statement_timeout` is cancelled by the server
(psycopg.errors.QueryCanceled), so no request thread waits on it for ever; a session left
idle inside a transaction past `idle_in_transaction_session_timeout` is closed, so its locks
are released. The values travel as libpq `options` (`-c name=value`), set when the
connection opens; 0 turns a timeout off.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from gisapp.db.provision import libpq_url
from gisapp.settings import Settings


def session_options(statement_ms: int, idle_in_transaction_ms: int) -> str:
    """The libpq `options` value that sets both timeouts (milliseconds, 0 = off)."""
    return (f"-c statement_timeout={int(statement_ms)} "
            f"-c idle_in_transaction_session_timeout={int(idle_in_transaction_ms)}")


def web_options(settings: Settings) -> str:
    return session_options(settings.web_statement_timeout_ms,
                           settings.idle_in_transaction_timeout_ms)


def tile_options(settings: Settings) -> str:
    return session_options(settings.tile_statement_timeout_ms,
                           settings.idle_in_transaction_timeout_ms)


def etl_conninfo(settings: Settings) -> str:
    """The libpq URL for ETL connections (worker, CLI imports): their own, longer timeouts.

    It names the database itself (DATABASE_DIRECT_URL when a pooler is in DATABASE_URL): a
    run holds its layer's session-level advisory lock across transactions, and procrastinate
    LISTENs for jobs; neither survives a transaction-mode pooler.

    Imports run for minutes, so their statement timeout is separate (off by default); the
    options ride in the URL so every connection the ETL opens from it carries them.
    """
    options = session_options(settings.etl_statement_timeout_ms,
                              settings.idle_in_transaction_timeout_ms)
    parts = urlsplit(libpq_url(settings.direct_url))
    query = parse_qsl(parts.query)
    given = " ".join(v for k, v in query if k == "options")  # the URL's own options stay
    query = [(k, v) for k, v in query if k != "options"]
    query.append(("options", f"{given} {options}".strip()))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
