"""Absolute URLs come from GISAPP_PUBLIC_URL, never from the request's Host; a request
addressed to another host is a 400 before any view or cache runs."""
from __future__ import annotations

import json

import pytest

from gisapp import create_app
from gisapp.settings import Settings

PUBLIC = "https://gis.example.vn"
FORGED_HOSTS = ["evil.example", "evil.example:443", "gis.example.vn.evil.example",
                "gis.example.vn:8443", "127.0.0.1:8000", "localhost", "gis.example.vn@evil.example",
                "evil.example/gis.example.vn"]
# Every kind of document that names absolute URLs, and pages and files around them.
PATHS = ["/tiles/roads,parcels.json", "/styles/default.json", "/rasters/elevation.json",
         "/collections", "/collections/roads", "/collections/roads/items?limit=1",
         "/collections/roads/items/1", "/?f=json", "/", "/map", "/login", "/openapi.json",
         "/static/css/app.css", "/no/such/page", "/tiles/roads/14/13133/7559.mvt"]


@pytest.fixture()
def make(test_url, tmp_path):
    apps = []

    def build(**config):
        app = create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                          "DATA_DIR": tmp_path / "data", "TILE_CACHE_CONTROL":
                          "public, max-age=60", **config})
        apps.append(app)
        return app
    yield build
    for app in apps:
        app.extensions["engine"].dispose()


VOCABULARIES = ("http://www.opengis.net/", "https://json-schema.org/", "http://json-schema.org/")


@pytest.fixture(scope="module")
def public_app(test_url, tmp_path_factory):
    """The demo city's app, public at PUBLIC (the test client asks for that host)."""
    app = create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("data"), "PUBLIC_URL": PUBLIC,
                      "TILE_CACHE_CONTROL": "public, max-age=60"})
    yield app
    app.extensions["engine"].dispose()


def absolute_urls(doc) -> list[str]:
    """Every string in a JSON document that looks like an absolute http(s) URL, except the
    identifiers of standards (CRS URIs, conformance classes, JSON Schema)."""
    found, stack = [], [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item.startswith(("http://", "https://")) \
                and not item.startswith(VOCABULARIES):
            found.append(item)
    return found


@pytest.mark.parametrize("path", PATHS)
def test_a_request_for_another_host_is_400_and_never_cacheable(public_app, path):
    client = public_app.test_client()
    for host in FORGED_HOSTS:
        resp = client.get(path, headers={"Host": host})
        assert resp.status_code == 400, (host, resp.get_data(as_text=True)[:300])
        assert resp.json["error"]["code"] == "unknown_host"
        assert PUBLIC in resp.json["error"]["message"] and "GISAPP_PUBLIC_URL" in \
            resp.json["error"]["message"]
        assert "public" not in resp.headers.get("Cache-Control", "")
    assert client.get(path).status_code in (200, 204, 404)


def test_the_host_is_checked_before_authentication(public_app):
    client = public_app.test_client()
    resp = client.get("/api/me", headers={"Host": "evil.example",
                                          "Authorization": "Bearer not-a-token"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "unknown_host"


@pytest.mark.parametrize("path", ["/tiles/roads,parcels.json", "/styles/default.json",
                                  "/rasters/elevation.json", "/collections",
                                  "/collections/roads", "/collections/roads/items?limit=2",
                                  "/collections/roads/items/1", "/?f=json", "/conformance",
                                  "/collections/roads/queryables", "/openapi.json"])
def test_documents_name_only_the_public_url(public_app, path):
    client = public_app.test_client()
    resp = client.get(path)
    if resp.status_code == 404 and path.startswith("/rasters"):
        pytest.fail("the demo city has an elevation raster; load it with `gisapp demo load`")
    assert resp.status_code == 200
    urls = absolute_urls(json.loads(resp.get_data(as_text=True)))
    assert urls or path in ("/openapi.json", "/conformance", "/collections/roads/queryables")
    assert all(u.startswith(PUBLIC + "/") for u in urls), urls


def test_paging_links_name_the_public_url(public_app):
    client = public_app.test_client()
    doc = client.get("/collections/roads/items?limit=1&offset=1").json
    rels = {link["rel"]: link["href"] for link in doc["links"]}
    assert rels["next"].startswith(PUBLIC + "/collections/roads/items?")
    assert rels["prev"].startswith(PUBLIC + "/collections/roads/items?")


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(public_app):
    client = public_app.test_client()
    resp = client.get("/tiles/roads.json", headers={"X-Forwarded-Host": "evil.example",
                                                    "X-Forwarded-Proto": "http",
                                                    "X-Forwarded-Port": "8080"})
    assert resp.status_code == 200
    assert resp.json["tiles"] == [PUBLIC + "/tiles/roads/{z}/{x}/{y}.mvt"]


FROM_NGINX = {"Host": "web:8000", "X-Forwarded-For": "203.0.113.7",
              "X-Forwarded-Proto": "https", "X-Forwarded-Host": "gis.example.vn"}


def test_behind_a_trusted_proxy_the_forwarded_public_host_is_accepted(make):
    client = make(PUBLIC_URL=PUBLIC, PROXY_HOPS=1).test_client()
    resp = client.get("/tiles/roads.json", headers=FROM_NGINX,
                      base_url="http://web:8000")
    assert resp.status_code == 200
    assert resp.json["tiles"] == [PUBLIC + "/tiles/roads/{z}/{x}/{y}.mvt"]
    with_port = client.get("/tiles/roads.json", headers={**FROM_NGINX, "X-Forwarded-Port": "443"},
                           base_url="http://web:8000")
    assert with_port.status_code == 200


@pytest.mark.parametrize("forwarded", [{"X-Forwarded-Host": "evil.example"},
                                       {"X-Forwarded-Port": "8443"},
                                       {"X-Forwarded-Host": "gis.example.vn:8443"}])
def test_behind_a_trusted_proxy_a_forwarded_other_host_is_400(make, forwarded):
    client = make(PUBLIC_URL=PUBLIC, PROXY_HOPS=1).test_client()
    resp = client.get("/tiles/roads.json", headers={**FROM_NGINX, **forwarded},
                      base_url="http://web:8000")
    assert resp.status_code == 400 and resp.json["error"]["code"] == "unknown_host"


def test_health_probes_answer_on_any_address(public_app):
    client = public_app.test_client()
    assert client.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200
    ready = client.get("/readyz", headers={"Host": "127.0.0.1:8000"})
    assert ready.status_code == 200 and "127.0.0.1" not in ready.get_data(as_text=True)


def test_a_redirect_names_the_public_host(public_app):
    client = public_app.test_client()
    resp = client.get("/etl")  # anonymous: sent to the sign-in page
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/login") or location.startswith(PUBLIC + "/login")


def test_the_default_public_url_is_make_runs_local_address():
    assert Settings.load(environ={}).public_url == "http://127.0.0.1:8000"
    assert Settings.load(environ={"GISAPP_PUBLIC_URL": PUBLIC}).public_url == PUBLIC


def test_the_local_default_answers_only_its_own_address(make):
    client = make().test_client()
    assert client.get("/tiles/roads.json").json["tiles"] == [
        "http://127.0.0.1:8000/tiles/roads/{z}/{x}/{y}.mvt"]
    for other in ("localhost:8000", "127.0.0.1", "0.0.0.0:8000"):
        assert client.get("/collections", headers={"Host": other}).status_code == 400


@pytest.mark.parametrize("value", ["gis.example.vn", "ftp://gis.example.vn", "https://",
                                   "https://gis.example.vn/gis", "https://gis.example.vn?x=1",
                                   "https://gis.example.vn#top", "https://me@gis.example.vn",
                                   "https://gis.example.vn:99999", "https://gis.example.vn\n",
                                   "https://gis.exa mple.vn", "javascript:alert(1)"])
def test_a_public_url_that_is_not_an_origin_is_refused_at_start(test_url, value):
    with pytest.raises(ValueError, match="GISAPP_PUBLIC_URL"):
        create_app({"DATABASE_URL": test_url, "PUBLIC_URL": value})
