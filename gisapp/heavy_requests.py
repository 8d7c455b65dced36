"""Slots for heavy requests (say feature pages of thousands of features), per process.

A gunicorn worker has a few threads; when every one of them builds a 10,000-feature page,
/healthz and the map's small requests queue behind them for seconds. A process therefore
runs at most GISAPP_HEAVY_REQUESTS heavy requests at once (gunicorn.conf.py: its threads
minus one) and answers the next at once with 503 `busy` and Retry-After, so one thread is
always left for light requests and memory stays bounded to that many large pages.
"""
from __future__ import annotations

import threading

from flask import Flask, current_app, g

from gisapp.errors import Busy


def init_app(app: Flask) -> None:
    slots = app.extensions["settings"].heavy_requests
    app.extensions["heavy_slots"] = threading.BoundedSemaphore(slots)

    @app.teardown_request
    def _release(_exc) -> None:  # the body is built by now (responses are not streamed)
        if g.pop("heavy_slot", False):
            app.extensions["heavy_slots"].release()


def claim_heavy_slot(what: str) -> None:
    """Take one of this process's heavy-request slots until the request ends, or raise Busy."""
    if g.get("heavy_slot"):
        return
    if not current_app.extensions["heavy_slots"].acquire(blocking=False):
        limit = current_app.extensions["settings"].heavy_requests
        raise Busy(f"{what}: this server process is already serving {limit} heavy "
                   "request(s); retry shortly, or ask for fewer features per page")
    g.heavy_slot = True
