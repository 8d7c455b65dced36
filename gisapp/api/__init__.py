"""HTTP API blueprints, registered in one place."""
from flask import Flask

from gisapp.api import health


def register(app: Flask) -> None:
    app.register_blueprint(health.bp)
