"""Requests refused before the app runs, answered in the JSON error family.

`RequestLimits` is WSGI middleware enforcing the URL and header-field limits
(`GISAPP_MAX_URL_BYTES`, `GISAPP_MAX_HEADER_BYTES`) with 414 and 431. gunicorn's own limits
sit above them (gisapp/gunicorn.conf.py); what gunicorn still refuses itself (a request line
over its hard maximum, a malformed request) is written by `write_json_error`, which
`use_json_errors` puts in place of gunicorn's HTML page.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class RequestLimits:
    """WSGI middleware: 414 for a URL over `max_url_bytes`, 431 for a header field over
    `max_header_bytes` (name, colon, space and value, as on the wire)."""

    def __init__(self, app: WSGIApp, max_url_bytes: int, max_header_bytes: int):
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.max_header_bytes = max_header_bytes

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        refused = self.refusal(environ)
        if refused is None:
            return self.app(environ, start_response)
        status, code, message = refused
        body = error_body(code, message)
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body))), ("Connection", "close")])
        return [body]

    def refusal(self, environ: dict) -> tuple[str, str, str] | None:
        """(status, code, message) when the request breaks a limit, else None."""
        size = url_bytes(environ)
        if size > self.max_url_bytes:
            return ("414 URI Too Long", "uri_too_long",
                    f"the URL is {size} bytes; at most {self.max_url_bytes} are accepted "
                    "(send a long CQL2 filter or geometry in a shorter form)")
        for key, value in environ.items():
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                name = key[5:] if key.startswith("HTTP_") else key
                field = len(name) + 2 + len(str(value).encode("latin-1", "replace"))
                if field > self.max_header_bytes:
                    return ("431 Request Header Fields Too Large",
                            "request_header_fields_too_large",
                            f"header {name.replace('_', '-').title()} is {field} bytes; at "
                            f"most {self.max_header_bytes} are accepted per header field")
        return None


def url_bytes(environ: dict) -> int:
    """Length of the request target as sent (gunicorn's RAW_URI), else rebuilt from the path."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return len(raw.encode("latin-1", "replace"))
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return len(path.encode("latin-1", "replace")) + (len(query) + 1 if query else 0)


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's signature, answering {"error": {"code", "message"}}."""
    from gunicorn.util import write_nonblock

    code = reason.lower().replace(" ", "_") or "error"
    body = error_body(code, mesg or reason)
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


def use_json_errors() -> None:
    """Make gunicorn answer the requests it refuses itself in the JSON error family.

    gunicorn has no setting for its error page: its workers call `gunicorn.util.write_error`
    (a 400/414/431 HTML page), so that one function is replaced in the server process.
    """
    import gunicorn.util

    gunicorn.util.write_error = write_json_error
