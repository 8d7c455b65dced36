"""gisapp: the Flask application factory."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from defaults, environment, then `config` (tests)."""
    from gisapp import api, auth, web
    from gisapp.db.engine import make_engine
    from gisapp.errors import register_error_handlers
    from gisapp.settings import Settings

    settings = Settings.load(config)
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                static_url_path="/static")
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing,
                      JSON_SORT_KEYS=False)
    app.json.ensure_ascii = False
    app.extensions["settings"] = settings
    app.extensions["engine"] = make_engine(settings.database_url, settings.db_pool_size,
                                           settings.db_pool_overflow)
    register_error_handlers(app)
    auth.init_app(app)
    api.register(app)
    web.register(app)
    return app
