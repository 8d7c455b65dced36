"""CORS and compression for the public read API (OGC documents, items, OpenAPI).

Any web page may read what an anonymous caller may read, so public GET answers carry
`Access-Control-Allow-Origin: *` (and OPTIONS preflights are answered). An answer for a
signed-in caller (session cookie or token) never does: it may hold staff or personal data.
JSON, HTML and CSV bodies are gzipped with ISA-L (the tiles' compressor) when accepted.
"""
from __future__ import annotations

from flask import Response, request

from gisapp.auth import current_user
from tiles.service import GZIP_ON_THE_FLY, gzip_tile

MIN_COMPRESSED_BYTES = 1024
COMPRESSIBLE = ("application/json", "application/geo+json", "application/schema+json",
                "application/vnd.oai.openapi+json", "text/html", "text/csv")


def finish_public_response(response: Response) -> Response:
    """Add CORS headers for anonymous callers and gzip the body when the client accepts it."""
    if request.method in ("GET", "HEAD", "OPTIONS") and current_user() is None:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = ("Accept, Accept-Language, "
                                                            "Content-Type, If-None-Match")
        response.headers["Access-Control-Expose-Headers"] = "Content-Crs, ETag, Link"
    response.vary.add("Accept-Encoding")
    if _should_gzip(response):
        response.set_data(gzip_tile(response.get_data(), GZIP_ON_THE_FLY))
        response.headers["Content-Encoding"] = "gzip"
    return response


def _should_gzip(response: Response) -> bool:
    if (response.direct_passthrough or response.is_streamed
            or "Content-Encoding" in response.headers or response.status_code < 200
            or response.status_code in (204, 304) or request.method == "HEAD"):
        return False
    if response.mimetype not in COMPRESSIBLE:
        return False
    if response.content_length is not None and response.content_length < MIN_COMPRESSED_BYTES:
        return False
    return request.accept_encodings.quality("gzip") > 0
