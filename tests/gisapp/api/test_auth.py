"""Access control: tokens, sessions, roles, CSRF, login rate limit, audit, admin API, CLI."""
from __future__ import annotations

import hashlib

import psycopg
import pytest

from gisapp import create_app
from tests.auth_helpers import PASSWORD, auth_headers, csrf_from, ensure_user, login, make_token


@pytest.fixture()
def client(scratch_app):
    return scratch_app.test_client()


def _rows(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_anonymous_caller_is_public(client):
    me = client.get("/api/me").json
    assert me == {"user": None, "role": "public", "levels": ["public"], "auth": None}


@pytest.mark.parametrize("role", ["planner", "permit_officer", "etl_operator", "admin"])
def test_bearer_token_sets_user_and_role(client, scratch_url, role):
    me = client.get("/api/me", headers=auth_headers(scratch_url, role)).json
    assert me["user"] == f"test-{role}" and me["role"] == role and me["auth"] == "token"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "x"])
def test_bad_authorization_header_is_401_not_public(client, header):
    resp = client.get("/api/me", headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(client, scratch_url, runner):
    token = make_token(scratch_url, "planner")
    token_id = _rows(scratch_url, "SELECT id FROM api_tokens WHERE token_hash=%s",
                     (hashlib.sha256(token.encode()).hexdigest(),))[0][0]
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    result = runner("tokens", "revoke", str(token_id), env={"DATABASE_URL": scratch_url})
    assert result.exit_code == 0, result.output
    resp = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and "revoked" in resp.json["error"]["message"]


def test_tokens_are_stored_only_as_sha256(scratch_url):
    token = make_token(scratch_url, "planner")
    stored = [r[0] for r in _rows(scratch_url, "SELECT token_hash FROM api_tokens")]
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert len(token) >= 43  # 32 random bytes, urlsafe base64
    dump = _rows(scratch_url, "SELECT row_to_json(t)::text FROM api_tokens t")[0][0]
    assert token not in dump


def test_last_used_at_is_written_at_most_once_a_minute(client, scratch_url):
    headers = auth_headers(scratch_url, "planner")
    client.get("/api/me", headers=headers)
    with psycopg.connect(scratch_url) as conn:
        conn.execute("UPDATE api_tokens SET last_used_at = now() - interval '30 seconds'")
    client.get("/api/me", headers=headers)
    recent = _rows(scratch_url, "SELECT now() - last_used_at > interval '29 seconds' "
                                "FROM api_tokens")[0][0]
    assert recent, "a second use within a minute must not rewrite last_used_at"
    with psycopg.connect(scratch_url) as conn:
        conn.execute("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'")
    client.get("/api/me", headers=headers)
    fresh = _rows(scratch_url, "SELECT now() - last_used_at < interval '10 seconds' "
                               "FROM api_tokens")[0][0]
    assert fresh


@pytest.mark.parametrize("role,status", [("public", 401), ("planner", 403),
                                         ("permit_officer", 403), ("etl_operator", 403),
                                         ("admin", 200)])
def test_admin_endpoints_need_the_admin_role(client, scratch_url, role, status):
    resp = client.get("/api/admin/audit", headers=auth_headers(scratch_url, role))
    assert resp.status_code == status
    if status == 403:
        assert "allowed roles: admin" in resp.json["error"]["message"]


def test_admin_creates_user_and_token_shown_once(client, scratch_url):
    admin = auth_headers(scratch_url, "admin")
    resp = client.post("/api/admin/users", json={"name": "lan", "role": "permit_officer"},
                       headers=admin)
    assert resp.status_code == 201, resp.json
    resp = client.post("/api/admin/tokens", json={"user": "lan", "label": "desk"}, headers=admin)
    assert resp.status_code == 201
    token = resp.json["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["user"] == "lan" and me["role"] == "permit_officer"
    listed = client.get("/api/admin/users", headers=admin).json["users"]
    assert {"name": "lan", "tokens": 1}.items() <= next(u for u in listed
                                                        if u["name"] == "lan").items()
    assert token not in str(listed)
    revoke = client.delete(f"/api/admin/tokens/{resp.json['id']}", headers=admin)
    assert revoke.status_code == 200
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("body,message", [
    ({"name": "x", "role": "king"}, "unknown role"),
    ({"role": "planner"}, "'name'"),
    ({"name": "x", "role": "planner", "password": "short"}, "at least 8"),
])
def test_admin_user_creation_rejects_bad_input(client, scratch_url, body, message):
    resp = client.post("/api/admin/users", json=body, headers=auth_headers(scratch_url, "admin"))
    assert resp.status_code == 400 and message in resp.json["error"]["message"]


def test_duplicate_user_is_409_and_token_for_unknown_user_404(client, scratch_url):
    admin = auth_headers(scratch_url, "admin")
    assert client.post("/api/admin/users", json={"name": "test-admin", "role": "admin"},
                       headers=admin).status_code == 409
    assert client.post("/api/admin/tokens", json={"user": "nobody"},
                       headers=admin).status_code == 404


def test_state_changes_are_audited_with_actor_role_and_address(client, scratch_url):
    admin = auth_headers(scratch_url, "admin")
    client.post("/api/admin/users", json={"name": "minh", "role": "planner"}, headers=admin)
    client.post("/api/admin/tokens", json={"user": "minh"}, headers=admin)
    rows = _rows(scratch_url, "SELECT actor, role, action, target, remote_addr FROM audit_log "
                              "ORDER BY id")
    assert rows == [("test-admin", "admin", "user.create", "minh", "127.0.0.1"),
                    ("test-admin", "admin", "token.create", "minh", "127.0.0.1")]


def test_audit_endpoint_filters_and_pages(client, scratch_url):
    admin = auth_headers(scratch_url, "admin")
    for name in ("a1", "a2", "a3"):
        client.post("/api/admin/users", json={"name": name, "role": "planner"}, headers=admin)
    client.post("/api/admin/tokens", json={"user": "a1"}, headers=admin)
    page = client.get("/api/admin/audit?action=user.create&limit=2", headers=admin).json
    assert page["numberMatched"] == 3 and [e["target"] for e in page["entries"]] == ["a3", "a2"]
    rest = client.get("/api/admin/audit?action=user.create&limit=2&offset=2", headers=admin).json
    assert [e["target"] for e in rest["entries"]] == ["a1"]
    by_actor = client.get("/api/admin/audit?actor=nobody", headers=admin).json
    assert by_actor["numberMatched"] == 0
    today = _rows(scratch_url, "SELECT current_date::text")[0][0]
    dated = client.get(f"/api/admin/audit?since={today}&until={today}", headers=admin).json
    assert dated["numberMatched"] == 4
    before = client.get("/api/admin/audit?until=2020-01-01", headers=admin).json
    assert before["numberMatched"] == 0


@pytest.mark.parametrize("query", ["since=yesterday", "limit=0", "limit=abc", "offset=-1"])
def test_audit_endpoint_rejects_bad_parameters(client, scratch_url, query):
    resp = client.get(f"/api/admin/audit?{query}", headers=auth_headers(scratch_url, "admin"))
    assert resp.status_code == 400


def test_cli_creates_user_and_prints_token_on_last_line(runner, scratch_url, client):
    env = {"DATABASE_URL": scratch_url}
    added = runner("users", "add", "hoa", "--role", "permit_officer", "--password",
                   "mat-khau-dai", env=env)
    assert added.exit_code == 0, added.output
    created = runner("tokens", "create", "hoa", "--label", "script", env=env)
    assert created.exit_code == 0
    token = created.output.strip().splitlines()[-1]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["user"] == "hoa" and me["role"] == "permit_officer"
    listing = runner("users", "list", env=env)
    assert "hoa" in listing.output and "permit_officer" in listing.output
    actions = [r[0] for r in _rows(scratch_url, "SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["user.create", "token.create"]


def test_cli_refuses_unknown_user_and_role(runner, scratch_url):
    env = {"DATABASE_URL": scratch_url}
    assert runner("tokens", "create", "ghost", env=env).exit_code != 0
    assert runner("users", "add", "x", "--role", "king", env=env).exit_code != 0
    assert runner("tokens", "revoke", "999", env=env).exit_code != 0


@pytest.mark.parametrize("lang,words", [("vi", ["Đăng nhập", "Tên đăng nhập", "Mật khẩu"]),
                                        ("en", ["Sign in", "User name", "Password"])])
def test_login_page_has_labelled_inputs_in_both_languages(client, lang, words):
    html = client.get(f"/login?lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in html
    assert '<label for="username">' in html and 'id="username"' in html
    assert '<label for="password">' in html and 'id="password"' in html


def test_session_login_sets_role_and_logout_ends_it(client, scratch_url):
    csrf = login(client, scratch_url, "planner")
    me = client.get("/api/me").json
    assert me["user"] == "test-planner" and me["auth"] == "session" and me["csrf_token"] == csrf
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/api/me").json["user"] is None
    actions = [r[0] for r in _rows(scratch_url, "SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["login", "logout"]


def test_login_without_csrf_token_is_refused(client, scratch_url):
    ensure_user(scratch_url, "planner")
    resp = client.post("/login", data={"username": "test-planner", "password": PASSWORD})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "csrf_failed"


def test_session_state_change_needs_csrf_token(client, scratch_url):
    csrf = login(client, scratch_url, "admin")
    body = {"name": "nam", "role": "planner"}
    refused = client.post("/api/admin/users", json=body)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status_code == 403
    ok = client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert client.delete("/api/admin/tokens/1").status_code == 403


def test_bearer_calls_need_no_csrf_token(client, scratch_url):
    resp = client.post("/api/admin/users", json={"name": "nam", "role": "planner"},
                       headers=auth_headers(scratch_url, "admin"))
    assert resp.status_code == 201


def test_login_redirects_only_to_same_site_paths(client, scratch_url):
    ensure_user(scratch_url, "planner")
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "test-planner", "password": PASSWORD,
                                       "csrf_token": csrf, "next": "//evil.example/x"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def _try_login(client, password: str, addr: str = "127.0.0.1"):
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": "test-planner", "password": password,
                                       "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": addr})


def test_five_failed_logins_lock_that_user_and_address_for_five_minutes(client, scratch_url):
    ensure_user(scratch_url, "planner")
    for _ in range(5):
        assert _try_login(client, "wrong-password").status_code == 401
    locked = _try_login(client, PASSWORD)
    assert locked.status_code == 429
    assert 250 <= int(locked.headers["Retry-After"]) <= 301
    assert _try_login(client, PASSWORD, addr="10.0.0.9").status_code == 302
    actions = [r[0] for r in _rows(scratch_url, "SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("login.failed") == 5 and "login.throttled" in actions


def test_login_limit_holds_across_app_instances(scratch_app, scratch_url):
    ensure_user(scratch_url, "planner")
    for _ in range(5):
        _try_login(scratch_app.test_client(), "wrong-password")
    other = create_app({"DATABASE_URL": scratch_url, "SECRET_KEY": "test"})
    try:
        assert _try_login(other.test_client(), PASSWORD).status_code == 429
    finally:
        other.extensions["engine"].dispose()


def test_failures_older_than_the_window_do_not_count(client, scratch_url):
    ensure_user(scratch_url, "planner")
    for _ in range(5):
        _try_login(client, "wrong-password")
    with psycopg.connect(scratch_url) as conn:
        conn.execute("UPDATE login_failures SET at = at - interval '6 minutes'")
    assert _try_login(client, PASSWORD).status_code == 302


def test_disabled_user_session_falls_back_to_public(client, scratch_url):
    login(client, scratch_url, "planner")
    with psycopg.connect(scratch_url) as conn:
        conn.execute("UPDATE users SET disabled = true WHERE name = 'test-planner'")
    assert client.get("/api/me").json["role"] == "public"
