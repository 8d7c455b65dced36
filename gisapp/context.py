"""Request-time access to the app's settings and engine."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import Engine

from gisapp.settings import Settings


def settings() -> Settings:
    return current_app.extensions["settings"]


def engine() -> Engine:
    return current_app.extensions["engine"]
