"""Security headers: every HTML page carries a strict Content-Security-Policy (no inline
script or style, no framing), X-Frame-Options and Referrer-Policy; every response carries
X-Content-Type-Options; and the pages still work in Chromium under that policy."""
from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from gisapp import create_app
from tests.auth_helpers import auth_headers
from tests.gisapp.web.conftest import MAP_IDLE, MAP_READY, browse, serve

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
INLINE = [(re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
          (re.compile(r"<style\b", re.I), "<style> element"),
          (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
          (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
          (re.compile(r"javascript:", re.I), "javascript: URL")]


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_html_headers(resp, where: str) -> None:
    csp = resp.headers.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    policy = directives(csp)
    for name in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in policy.get(name, []) and \
            "'unsafe-eval'" not in policy.get(name, []), f"{where}: {name} {policy.get(name)}"
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] in (["'none'"], ["'self'"])
    assert "blob:" in policy["worker-src"] and "blob:" in policy["child-src"]
    assert {"data:", "blob:"} <= set(policy["img-src"])
    assert resp.headers.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), where
    assert resp.headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin",
                                                   "no-referrer"), where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where


def html_routes(app) -> list[str]:
    """Every GET route of the app without path arguments."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments)


def test_every_html_page_carries_the_security_headers(client, test_url):
    headers = auth_headers(test_url, "admin")
    seen = 0
    for path in html_routes(client.application):
        for query in ("", "?f=html"):
            resp = client.get(path + query, headers=headers if path != "/login" else {},
                              follow_redirects=False)
            if resp.mimetype == "text/html":
                assert_html_headers(resp, path + query)
                seen += 1
    assert seen >= 6  # /, /map, /login, /logout, /parcel-desk, /etl, /api, items pages


@pytest.mark.parametrize("path", ["/collections/roads/items?f=html&limit=2",
                                  "/collections/roads/items/1?f=html",
                                  "/no/such/page?f=html"])
def test_html_and_error_pages_with_arguments_carry_them_too(client, path):
    resp = client.get(path)
    if resp.mimetype == "text/html":
        assert_html_headers(resp, path)
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def test_the_printable_parcel_report_carries_them(client, test_url):
    with psycopg.connect(test_url) as conn:
        uid = conn.execute("SELECT parcel_uid FROM parcels ORDER BY id LIMIT 1").fetchone()[0]
    report = client.get(f"/api/parcels/{uid}/report?f=html",
                        headers=auth_headers(test_url, "permit_officer"))
    assert report.status_code == 200 and report.mimetype == "text/html"
    assert_html_headers(report, "parcel report")


@pytest.mark.parametrize("path", ["/tiles/roads.json", "/collections", "/healthz",
                                  "/static/js/dom.js", "/openapi.json", "/no/such/page"])
def test_every_response_says_nosniff(client, path):
    assert client.get(path).headers.get("X-Content-Type-Options") == "nosniff"


def test_templates_hold_no_inline_script_style_or_handler():
    found = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, found


def test_a_configured_glyphs_origin_may_be_fetched(test_url, tmp_path):
    app = create_app({"DATABASE_URL": test_url, "SECRET_KEY": "test", "DATA_DIR": tmp_path,
                      "PUBLIC_URL": "http://localhost",
                      "GLYPHS_URL": "https://fonts.example.vn/{fontstack}/{range}.pbf"})
    try:
        csp = directives(app.test_client().get("/login").headers["Content-Security-Policy"])
        assert csp["connect-src"] == ["'self'", "https://fonts.example.vn"]
    finally:
        app.extensions["engine"].dispose()


CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_pages_work_in_chromium_under_the_policy(browser, test_url, tmp_path, map_assets):
    """The map draws (workers from blob:, sprites, canvases) and the other pages load, with
    no policy violation and no console error about one."""
    with serve(test_url, tmp_path, map_assets) as server, browse(browser, server) as session:
        page = session.page
        page.add_init_script(CSP_WATCH)
        violations: list[str] = []
        for path in ("/", "/login", "/api", "/collections/roads/items?f=html&limit=3", "/map"):
            resp = page.goto(path)
            assert resp.status == 200 and resp.headers.get("content-security-policy"), path
            if path == "/map":
                page.wait_for_function(MAP_READY, timeout=30_000)
                page.evaluate(MAP_IDLE)
                assert page.evaluate("map.queryRenderedFeatures().length") > 0
            if path == "/api":
                page.wait_for_selector(".swagger-ui .info", timeout=30_000)
            violations += page.evaluate("window.__csp")
        assert violations == []
        assert [e for e in session.console_errors
                if "Content Security Policy" in e or "Refused to" in e] == []
