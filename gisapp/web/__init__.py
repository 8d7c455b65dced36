"""Web pages, registered in one place."""
from flask import Flask

from gisapp.web import (etl_console, home, language, login, map_page, navigation, parcel_desk,
                        print_page)


def register(app: Flask) -> None:
    language.register(app)
    navigation.register(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(login.bp)
    app.register_blueprint(map_page.bp)
    app.register_blueprint(print_page.bp)
    app.register_blueprint(parcel_desk.bp)
    app.register_blueprint(etl_console.bp)
