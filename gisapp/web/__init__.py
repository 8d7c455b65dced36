"""Web pages, registered in one place."""
from flask import Flask

from gisapp.web import home, login


def register(app: Flask) -> None:
    app.register_blueprint(home.bp)
    app.register_blueprint(login.bp)
