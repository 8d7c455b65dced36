"""From where: behind the compose nginx the audit log and the login limit see the client's
address from X-Forwarded-For; without a declared proxy that header is not believed."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml

from gisapp import create_app
from tests.auth_helpers import auth_headers, csrf_from, ensure_user

COMPOSE = Path(__file__).resolve().parents[3] / "docker" / "compose.yaml"
PROXY, CLIENT, OTHER = "172.18.0.5", "203.0.113.7", "203.0.113.8"


@pytest.fixture()
def proxied(scratch_url, tmp_path):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path / "data", "PROXY_HOPS": 1})
    yield app
    app.extensions["engine"].dispose()


def create_user_from(client, scratch_url: str, forwarded_for: str | None) -> str:
    """POST a state change through the admin API; the address its audit row recorded."""
    headers = auth_headers(scratch_url, "admin")
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    resp = client.post("/api/admin/users", json={"name": "lan", "role": "planner"},
                       headers=headers, environ_base={"REMOTE_ADDR": PROXY})
    assert resp.status_code == 201
    with psycopg.connect(scratch_url) as conn:
        return conn.execute("SELECT remote_addr FROM audit_log WHERE action = 'user.create'"
                            ).fetchone()[0]


def test_behind_the_proxy_the_audit_records_the_forwarded_client(proxied, scratch_url):
    assert create_user_from(proxied.test_client(), scratch_url, CLIENT) == CLIENT


def test_without_a_declared_proxy_a_forwarded_header_is_not_believed(scratch_app, scratch_url):
    assert create_user_from(scratch_app.test_client(), scratch_url, CLIENT) == PROXY


def test_behind_the_proxy_the_login_limit_counts_each_client_apart(proxied, scratch_url):
    name = ensure_user(scratch_url, "planner")
    client = proxied.test_client()

    def attempt(address: str) -> int:
        environ = {"REMOTE_ADDR": PROXY}
        form = client.get("/login", environ_base=environ).get_data(as_text=True)
        return client.post("/login", data={"username": name, "password": "wrong password",
                                           "csrf_token": csrf_from(form)},
                           headers={"X-Forwarded-For": address},
                           environ_base=environ).status_code
    assert [attempt(CLIENT) for _ in range(5)] == [401] * 5
    assert attempt(CLIENT) == 429
    assert attempt(OTHER) == 401  # another client behind the same proxy is not locked out


def test_compose_declares_one_proxy_in_front_of_web_only():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["web"]["environment"]["GISAPP_PROXY_HOPS"] == "1"
    assert "ports" not in services["web"], "web must be reachable only through the proxy"
    assert "X-Forwarded-For" in (COMPOSE.parent / "nginx" / "gisapp.conf.template").read_text()


@pytest.mark.parametrize("hops", [-1, 4])
def test_proxy_hops_out_of_range_is_refused_at_start(scratch_url, hops):
    with pytest.raises(ValueError, match="GISAPP_PROXY_HOPS"):
        create_app({"DATABASE_URL": scratch_url, "PROXY_HOPS": hops})
