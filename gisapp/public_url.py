"""The public base URL that absolute links (TileJSON, styles, OGC links) are built from."""
from __future__ import annotations

from flask import request


def base_url() -> str:
    """The API root as clients reach it, without a trailing slash."""
    return request.url_root.rstrip("/")
