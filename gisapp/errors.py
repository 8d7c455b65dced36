"""One exception family; each class carries its HTTP status and a stable code."""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from layers import UnknownLayer


class GisappError(Exception):
    status = 500
    code = "internal_error"

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


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Render every error as {"error": {"code", "message"}} with its status."""

    @app.errorhandler(GisappError)
    def _gisapp(err: GisappError):
        return error_response(err.status, err.code, err.message)

    @app.errorhandler(UnknownLayer)
    def _unknown_layer(err: UnknownLayer):
        return error_response(404, "unknown_layer", str(err))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = (err.name or "error").lower().replace(" ", "_")
        return error_response(err.code or 500, code, err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
