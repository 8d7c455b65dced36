"""One exception family; each class carries its HTTP status and a stable code.

Exceptions from outside the family (the registry's, the tile service's, the database
driver's, werkzeug's) map to a status and code in ERROR_TABLE, and every error is rendered
here as {"error": {"code", "message"}}: views raise, they never build error responses.
"""
from __future__ import annotations

import psycopg
import sqlalchemy.exc
from flask import Flask, g, jsonify
from psycopg.errors import QueryCanceled
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from etl.errors import ImportRefused
from layers import UnknownLayer
from tiles.fonts import FontError, GlyphsNotBuilt
from tiles.grid import GridError
from tiles.raster import RasterError
from tiles.sprite import SpriteError, UnknownSpriteFile
from tiles.style import UnknownStyle
from tiles.versions import DatabaseUnreachable


class GisappError(Exception):
    status = 500
    code = "internal_error"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(GisappError):
    status = 400
    code = "bad_request"


class NotFound(GisappError):
    status = 404
    code = "not_found"


class LayerNotFound(NotFound):
    """A layer that does not exist or that the caller may not see: the two answer alike."""

    code = "unknown_layer"


class UnknownHost(BadRequest):
    code = "unknown_host"


class Forbidden(GisappError):
    status = 403
    code = "forbidden"


class Unauthorized(GisappError):
    status = 401
    code = "unauthorized"


class Conflict(GisappError):
    status = 409
    code = "conflict"


class PayloadTooLarge(GisappError):
    status = 413
    code = "payload_too_large"


class Unavailable(GisappError):
    status = 503
    code = "unavailable"


class RangeNotSatisfiable(GisappError):
    """No requested byte range lies inside the file (its size goes in Content-Range)."""

    status = 416
    code = "range_not_satisfiable"


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


class DatabaseDown(Unavailable):
    """The database cannot be reached (restarting or down)."""

    code = "database_unreachable"
    retry_after = RETRY_AFTER_S


# Exceptions raised outside the family (by layers/, etl/, tiles/, which know nothing of HTTP)
# -> (the family class that answers for them, message template for str(exc)). Like TiPg's
# DEFAULT_STATUS_CODES: one table, not a try/except per view.
ERROR_TABLE: dict[type[Exception], tuple[type[GisappError], str]] = {
    UnknownLayer: (LayerNotFound, "{}"),
    ImportRefused: (BadRequest, "{}"),
    GridError: (BadRequest, "{}"),  # z/x/y off the grid, a malformed layer list
    RasterError: (BadRequest, "{}"),
    UnknownStyle: (NotFound, "{}"),
    FontError: (NotFound, "{}"),
    GlyphsNotBuilt: (Unavailable, "{}"),
    UnknownSpriteFile: (NotFound, "{}"),
    SpriteError: (Unavailable, "{}"),
    DatabaseUnreachable: (DatabaseDown, "the database is unreachable: {}"),  # tile connections
}


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def note_body_limit(limit_mb: int, setting: str) -> None:
    """Name the setting that bounds this request's upload: a body over it is PayloadTooLarge."""
    g.body_limit = (limit_mb, setting)


def register_error_handlers(app: Flask) -> None:
    """Render every error as {"error": {"code", "message"}} with its status."""

    @app.errorhandler(GisappError)
    def _gisapp(err: GisappError):
        response = error_response(err.status, err.code, err.message)
        if err.retry_after is not None:
            response.headers["Retry-After"] = str(err.retry_after)
        response.headers.update(err.headers)
        return response

    @app.errorhandler(QueryCanceled)
    def _query_canceled(err: QueryCanceled):  # raw psycopg connections (tiles)
        return _gisapp(QueryTimeout.from_cancel(err))

    def _tabled(err: Exception):
        family, template = next(ERROR_TABLE[t] for t in type(err).__mro__ if t in ERROR_TABLE)
        return _gisapp(family(template.format(err)))

    for exc_type in ERROR_TABLE:
        app.register_error_handler(exc_type, _tabled)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if isinstance(err, RequestEntityTooLarge) and g.get("body_limit"):
            limit_mb, setting = g.body_limit
            return _gisapp(PayloadTooLarge(f"the upload is larger than the {limit_mb} MB "
                                           f"allowed ({setting})"))
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
        return _gisapp(DatabaseDown("the database is unreachable (restarting or down); "
                                    "try again in a few seconds"))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
