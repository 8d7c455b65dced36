"""Web pages, registered in one place."""
from flask import Flask

from gisapp.web import home


def register(app: Flask) -> None:
    app.register_blueprint(home.bp)
