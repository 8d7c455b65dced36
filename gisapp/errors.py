"""One exception family; each class carries its HTTP status and a stable code."""
from __future__ import annotations

import psycopg
import sqlalchemy.exc
from flask import Flask, jsonify
from psycopg.errors import QueryCanceled
from werkzeug.exceptions import HTTPException

from layers import UnknownLayer


class GisappError(Exception):
    status = 500
    code = "internal_error"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(GisappError):
    status = 400
    code = "bad_request"


class NotFound(GisappError):
    status = 404
    code = "not_found"


class Forbidden(GisappError):
    status = 403
    code = "forbidden"


class Unauthorized(GisappError):
    status = 401
    code = "unauthorized"


class Conflict(GisappError):
    status = 409
    code = "conflict"


class Unavailable(GisappError):
    status = 503
    code = "unavailable"


# SQLSTATEs meaning the server is down, restarting or full, not that the request was wrong:
# connection exceptions (class 08), admin/crash shutdown, starting up, too many connections.
UNREACHABLE_STATES = ("57P01", "57P02", "57P03", "53300")
RETRY_AFTER_S = 5


def is_database_unreachable(err: BaseException) -> bool:
    """Whether a database error says the server cannot be reached (rather than a bad query)."""
    if isinstance(err, sqlalchemy.exc.DBAPIError):
        if err.connection_invalidated:
            return True
        err = err.orig
    if not isinstance(err, psycopg.OperationalError):
        return False
    state = err.sqlstate
    return state is None or state.startswith("08") or state in UNREACHABLE_STATES


class QueryTimeout(Unavailable):
    """PostgreSQL cancelled a statement that ran past this connection's statement_timeout."""

    code = "query_timeout"
    retry_after = 5

    @classmethod
    def from_cancel(cls, exc: QueryCanceled) -> "QueryTimeout":
        return cls("the database query took too long and was cancelled "
                   f"({str(exc).strip().splitlines()[0]}); narrow the request "
                   "(a smaller limit, bbox or filter) or retry later")


class Busy(Unavailable):
    """Every slot for heavy requests in this server process is taken."""

    code = "busy"
    retry_after = 2


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Render every error as {"error": {"code", "message"}} with its status."""

    @app.errorhandler(GisappError)
    def _gisapp(err: GisappError):
        response = error_response(err.status, err.code, err.message)
        if err.retry_after is not None:
            response.headers["Retry-After"] = str(err.retry_after)
        return response

    @app.errorhandler(QueryCanceled)
    def _query_canceled(err: QueryCanceled):  # raw psycopg connections (tiles)
        return _gisapp(QueryTimeout.from_cancel(err))

    @app.errorhandler(UnknownLayer)
    def _unknown_layer(err: UnknownLayer):
        return error_response(404, "unknown_layer", str(err))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = (err.name or "error").lower().replace(" ", "_")
        response = error_response(err.code or 500, code, err.description or err.name)
        # Keep what the exception says beyond its body: Allow on a 405, WWW-Authenticate…
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                response.headers.add(name, value)
        return response

    @app.errorhandler(sqlalchemy.exc.DBAPIError)
    @app.errorhandler(psycopg.Error)
    def _database(err: Exception):
        if not is_database_unreachable(err):
            return _unexpected(err)
        app.logger.warning("database unreachable: %s", str(err).strip().splitlines()[0])
        response = error_response(503, "database_unreachable", "the database is unreachable "
                                  "(restarting or down); try again in a few seconds")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
