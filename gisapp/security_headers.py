"""Security headers: a strict Content-Security-Policy and framing/referrer rules on HTML,
`X-Content-Type-Options: nosniff` on every response.

Pages load scripts and styles only from our own origin (no inline script or style, so an
injected `<script>` or `onclick=` does not run). MapLibre builds its web workers from blob:
URLs and draws sprites and canvases through data: and blob: images; tiles, TileJSON and the
style are fetched from our origin, glyphs from GISAPP_GLYPHS_URL's origin when set.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from gisapp.settings import Settings

HTML_HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def content_security_policy(cfg: Settings) -> str:
    """The CSP of every HTML page; `connect-src` adds the glyphs' origin when it is another."""
    connect = ["'self'"]
    glyphs = urlsplit(cfg.glyphs_url)
    if glyphs.scheme in ("http", "https") and glyphs.netloc:
        connect.append(f"{glyphs.scheme}://{glyphs.netloc}")
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": " ".join(connect),
        "worker-src": "'self' blob:",
        "child-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def init_app(app: Flask) -> None:
    """Add the headers to every response the app sends."""
    html_headers = {"Content-Security-Policy":
                    content_security_policy(app.extensions["settings"]), **HTML_HEADERS}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.mimetype == "text/html":
            response.headers.update(html_headers)
        return response
