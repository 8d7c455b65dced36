"""The public base URL: every absolute link is built from it, and every request must name it.

Absolute URLs (TileJSON tile URLs, styles, OGC API links, the landing page) come from
`GISAPP_PUBLIC_URL`, never from the request's Host header, so a forged Host cannot plant
another host's URLs in a document a shared cache keeps. A request addressed to any other
host (its Host header, or X-Forwarded-Host/-Port when GISAPP_PROXY_HOPS trusts a proxy) is
refused with a 400 before authentication, views or caches run. Health probes are exempt:
they name no URL, and load balancers and container health checks call them by address.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from gisapp.context import settings
from gisapp.errors import UnknownHost
from gisapp.settings import Settings

DEFAULT_PORTS = {"http": 80, "https": 443}
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


def base_url() -> str:
    """The configured public origin, without a trailing slash (https://gis.example.vn)."""
    return settings().public_url.rstrip("/")


def host_and_port(netloc: str, default_port: int) -> tuple[str, int]:
    """The lower-case host name and port a Host header or URL authority names."""
    if any(c in "/?#@\\" or c.isspace() for c in netloc) or not netloc.isprintable():
        raise ValueError(f"{netloc!r} is not a host and port")
    parts = urlsplit("//" + netloc)
    port = parts.port  # ValueError when not a number in 0-65535
    return (parts.hostname or "").lower(), default_port if port is None else port


def public_address(cfg: Settings) -> tuple[str, int, int]:
    """The public URL's host name and port, and the default port of its scheme."""
    parts = urlsplit(cfg.public_url)
    default_port = DEFAULT_PORTS[parts.scheme.lower()]
    return (*host_and_port(parts.netloc, default_port), default_port)


def is_public_host(sent: str, public: tuple[str, int, int]) -> bool:
    """Whether a Host header names the public host and port.

    A Host without a port means the public scheme's default port (the scheme the client
    used is not checked: with TLS ended at a proxy the app may only ever see http).
    """
    try:
        return host_and_port(sent, public[2]) == public[:2]
    except ValueError:
        return False


def init_app(app: Flask) -> None:
    """Check every request's host before anything else; tell Flask (url_for, the test
    client) the public host too."""
    cfg: Settings = app.extensions["settings"]
    parts = urlsplit(cfg.public_url)
    app.config.update(SERVER_NAME=parts.netloc.lower(),
                      PREFERRED_URL_SCHEME=parts.scheme.lower())
    public = public_address(cfg)
    exact = parts.netloc.lower()

    def check_host() -> None:
        sent = request.host
        if sent == exact or request.path in HEALTH_PATHS or is_public_host(sent, public):
            return
        raise UnknownHost(f"this server answers only for {base_url()}; the request was "
                          f"addressed to {request.host[:100]!r} (the public URL is set by "
                          f"GISAPP_PUBLIC_URL)")

    app.before_request_funcs.setdefault(None, []).insert(0, check_host)
