"""/healthz, /readyz and JSON errors, against a real database reached through a proxy we
can cut, so "database down" is real without stopping the shared server."""
from __future__ import annotations

import pytest

from gisapp import create_app
from gisapp.db.migrate import head_revision
from tests.db_proxy import proxied


def test_healthz_is_up_without_database():
    app = create_app({"DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_readyz_ok_when_database_and_migrations_current(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.json
    assert resp.json["database"] == "ok"
    assert resp.json["migrations"]["current"] == head_revision()


def test_readyz_fails_cleanly_when_database_down_and_recovers(test_url):
    proxy, url = proxied(test_url)
    app = create_app({"DATABASE_URL": url})
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 200
        proxy.cut()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json["error"]["code"] == "database_unreachable"
        assert down.json["error"]["message"]
        proxy.start()
        back = client.get("/readyz")
        assert back.status_code == 200, back.json
    finally:
        proxy.cut()
        app.extensions["engine"].dispose()


def test_unknown_path_is_json_404(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    resp = client.post("/healthz")
    assert resp.status_code == 405
    assert resp.json["error"]["code"] == "method_not_allowed"


def test_unexpected_error_is_json_500_without_details(test_url):
    app = create_app({"DATABASE_URL": test_url})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    assert resp.json == {"error": {"code": "internal_error", "message": "internal server error"}}


def test_landing_page_lists_every_layer_with_its_count(client):
    from layers import LAYERS

    resp = client.get("/?lang=en")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for layer_id, layer in LAYERS.items():
        assert f'data-layer="{layer_id}"' in html
        assert layer.title["en"] in html
    assert "Tiếng Việt" in html
