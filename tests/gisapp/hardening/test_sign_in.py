"""Sign-in: no open redirect for any form of `next`, session cookies that scripts and other
sites cannot use, and a login limit per name and address, per address and per name that
holds exactly under concurrent attempts (real gunicorn processes, real PostgreSQL)."""
from __future__ import annotations

import http.client
import re
import threading

import psycopg
import pytest

from gisapp import create_app
from tests import served
from tests.auth_helpers import PASSWORD, csrf_from, ensure_user

OFF_SITE = ["//evil.example/x", "///evil.example", "////evil.example", "/\\evil.example",
            "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
            "\t//evil.example", " //evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example",
            "/%252F%252Fevil.example", "/%5Cevil.example", "/%09/evil.example",
            "https://evil.example/", "http:evil.example", "https:/evil.example",
            "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>1</script>",
            "http://localhost/map", "https://localhost/map", "//localhost/map", "evil.example",
            "map", "/\u3000/evil.example", "/\x7f/evil.example", ""]


@pytest.fixture()
def make(scratch_url, tmp_path):
    apps = []

    def build(**config):
        app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                          "DATA_DIR": tmp_path / "data", "PUBLIC_URL": "http://localhost",
                          **config})
        apps.append(app)
        return app
    yield build
    for app in apps:
        app.extensions["engine"].dispose()


def sign_in(client, name: str, password: str, addr: str = "127.0.0.1", next_: str | None = None,
            **kwargs):
    csrf = csrf_from(client.get("/login", **kwargs).get_data(as_text=True))
    form = {"username": name, "password": password, "csrf_token": csrf}
    if next_ is not None:
        form["next"] = next_
    return client.post("/login", data=form, environ_base={"REMOTE_ADDR": addr}, **kwargs)


def test_after_login_no_form_of_next_leaves_the_site(make, scratch_url):
    name = ensure_user(scratch_url, "planner")
    client = make().test_client()
    for target in OFF_SITE:
        resp = sign_in(client, name, PASSWORD, next_=target)
        assert resp.status_code == 302, target
        assert resp.headers["Location"] == "/", (target, resp.headers["Location"])


@pytest.mark.parametrize("target", ["/map", "/collections/roads/items?f=html&limit=5",
                                    "/map#layers=parcels", "/etl"])
def test_after_login_a_same_site_path_is_followed(make, scratch_url, target):
    name = ensure_user(scratch_url, "planner")
    resp = sign_in(make().test_client(), name, PASSWORD, next_=target)
    assert resp.status_code == 302 and resp.headers["Location"] == target


def test_the_login_form_carries_only_a_safe_next(make):
    client = make().test_client()
    for target in OFF_SITE:
        html = client.get("/login", query_string={"next": target}).get_data(as_text=True)
        assert re.search(r'name="next" value="/"', html), target


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[-1]


def test_the_session_cookie_is_httponly_and_samesite_lax(make, scratch_url):
    name = ensure_user(scratch_url, "planner")
    cookie = _session_cookie(sign_in(make().test_client(), name, PASSWORD))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert "secure" not in attributes  # http://localhost: a Secure cookie would never return


def test_over_https_the_session_cookie_is_secure(make, scratch_url):
    name = ensure_user(scratch_url, "planner")
    client = make(PUBLIC_URL="https://gis.example.vn").test_client()
    cookie = _session_cookie(sign_in(client, name, PASSWORD))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_behind_a_tls_proxy_the_session_cookie_is_secure(make, scratch_url):
    name = ensure_user(scratch_url, "planner")
    client = make(PUBLIC_URL="https://gis.example.vn", PROXY_HOPS=1).test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gis.example.vn",
               "X-Forwarded-For": "203.0.113.7"}
    cookie = _session_cookie(sign_in(client, name, PASSWORD, headers=headers,
                                     base_url="http://web:8000"))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}
    assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower()


def test_the_language_cookie_is_secure_over_https(make):
    client = make(PUBLIC_URL="https://gis.example.vn").test_client()
    cookies = client.get("/login?lang=en").headers.getlist("Set-Cookie")
    lang = [c for c in cookies if c.startswith("lang=")]
    assert lang and "secure" in lang[0].lower()


def test_spraying_many_user_names_from_one_address_is_limited(make):
    client = make(LOGIN_FAILURES_PER_ADDRESS=20).test_client()
    codes = [sign_in(client, f"guess-{i}", "Password1!", addr="198.51.100.4").status_code
             for i in range(21)]
    assert codes == [401] * 20 + [429]
    assert sign_in(client, "guess-x", "Password1!", addr="198.51.100.5").status_code == 401


def test_guessing_one_name_from_many_addresses_is_limited(make, scratch_url):
    name = ensure_user(scratch_url, "planner")
    client = make(LOGIN_FAILURES_PER_USER=6).test_client()
    codes = [sign_in(client, name, "wrong", addr=f"198.51.100.{i}").status_code
             for i in range(1, 8)]
    assert codes == [401] * 6 + [429]
    locked = sign_in(client, name, PASSWORD, addr="198.51.100.200")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_a_successful_login_does_not_clear_the_addresss_other_names(make, scratch_url):
    name = ensure_user(scratch_url, "planner")
    client = make(LOGIN_FAILURES_PER_ADDRESS=3).test_client()
    for i in range(2):
        assert sign_in(client, f"guess-{i}", "x", addr="198.51.100.9").status_code == 401
    assert sign_in(client, name, PASSWORD, addr="198.51.100.9").status_code == 302
    assert sign_in(client, "guess-2", "x", addr="198.51.100.9").status_code == 401
    assert sign_in(client, "guess-3", "x", addr="198.51.100.9").status_code == 429


# ---- concurrency: real gunicorn processes and threads against the real database ----------

@pytest.fixture(scope="module")
def gunicorn(_scratch_ready, tmp_path_factory):
    """gisapp under the repository's gunicorn config: 3 processes of 4 threads."""
    with served.gunicorn(_scratch_ready, tmp_path_factory.mktemp("data"), workers=3,
                         threads=4) as port:
        yield port


class Attempt:
    """One browser's sign-in: its own session cookie and CSRF token, posted on a signal."""

    def __init__(self, port: int, name: str):
        self.port, self.name = port, name
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/login")
        resp = conn.getresponse()
        self.csrf = csrf_from(resp.read().decode())
        self.cookie = resp.getheader("Set-Cookie").split(";")[0]
        self.status: int | None = None

    def post(self, start: threading.Barrier) -> None:
        from urllib.parse import urlencode
        body = urlencode({"username": self.name, "password": "wrong password",
                          "csrf_token": self.csrf})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.connect()
        start.wait()
        conn.request("POST", "/login", body=body, headers={
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        self.status = conn.getresponse().status


def fire_at_once(port: int, names: list[str]) -> list[int]:
    attempts = [Attempt(port, name) for name in names]
    start = threading.Barrier(len(attempts))
    threads = [threading.Thread(target=a.post, args=(start,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return sorted(a.status for a in attempts)


def _forget_attempts(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM login_failures")


def test_concurrent_attempts_on_one_name_never_pass_the_limit(gunicorn, _scratch_ready):
    _forget_attempts(_scratch_ready)
    name = ensure_user(_scratch_ready, "planner")
    codes = fire_at_once(gunicorn, [name] * 24)
    assert codes == [401] * 5 + [429] * 19, f"{codes.count(401)} of 24 attempts were let through"


def test_concurrent_spraying_from_one_address_never_passes_the_limit(gunicorn, _scratch_ready):
    _forget_attempts(_scratch_ready)
    codes = fire_at_once(gunicorn, [f"spray-{i}" for i in range(30)])
    assert codes == [401] * 20 + [429] * 10, f"{codes.count(401)} of 30 attempts were let through"
