"""gisapp: the Flask application factory."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from defaults, environment, then `config` (tests)."""
    from gisapp import (api, auth, heavy_requests, public_url, read_routing, request_text,
                        response_privacy, secret_masking, security_headers, web)
    from gisapp.db.engine import make_engine
    from gisapp.db.timeouts import web_options
    from gisapp.errors import register_error_handlers
    from gisapp.json_input import CheckedRequest
    from gisapp.request_limits import RequestLimits
    from gisapp.settings import Settings
    from gisapp.url_converters import BigintConverter

    secret_masking.install()
    settings = Settings.load(config)
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                static_url_path="/static")
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing,
                      JSON_SORT_KEYS=False)
    app.url_map.converters["int"] = BigintConverter
    app.request_class = CheckedRequest
    app.json.ensure_ascii = False
    if settings.proxy_hops:
        # Behind nginx the peer is the proxy; audit rows ("from where") and the login limit
        # need the client, which only the proxies we run may put in X-Forwarded-For. The
        # host and port clients asked for (X-Forwarded-Host/-Port) are believed from them
        # too, and still checked against GISAPP_PUBLIC_URL (gisapp.public_url).
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
    app.wsgi_app = RequestLimits(app.wsgi_app, settings.max_url_bytes,
                                 settings.max_header_bytes)
    app.extensions["settings"] = settings
    app.extensions["engine"] = make_engine(settings.database_url, settings.db_pool_size,
                                           settings.db_pool_overflow,
                                           options=web_options(settings),
                                           pooled=not settings.prepares_statements)
    read_routing.init_app(app)
    register_error_handlers(app)
    heavy_requests.init_app(app)
    public_url.init_app(app)
    security_headers.init_app(app)
    request_text.init_app(app)
    auth.init_app(app)
    response_privacy.init_app(app)
    api.register(app)
    web.register(app)
    return app
