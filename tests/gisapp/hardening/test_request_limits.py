"""Over-long URLs and headers, and requests gunicorn refuses itself, get the JSON error family
from a real gunicorn run with the repository's config (issue 11, class 1)."""
from __future__ import annotations

import http.client
import json
import socket

import pytest

from tests.served import gunicorn

MAX_URL, MAX_HEADER = 2000, 3000


def _request(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()


def _raw(port: int, data: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes; parse the status, headers and body gunicorn answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def server(test_url, tmp_path_factory):
    """gunicorn with gisapp/gunicorn.conf.py on the demo city, small app limits."""
    with gunicorn(test_url, tmp_path_factory.mktemp("data"), workers=1, threads=2,
                  env={"GISAPP_MAX_URL_BYTES": str(MAX_URL),
                       "GISAPP_MAX_HEADER_BYTES": str(MAX_HEADER)}) as port:
        yield port


def _error(status: int, headers: dict, body: bytes, expected: int, code: str) -> str:
    assert status == expected, body[:300]
    assert headers["Content-Type"].startswith("application/json"), headers
    doc = json.loads(body)
    assert doc["error"]["code"] == code, doc
    return doc["error"]["message"]


def test_url_over_the_app_limit_is_a_json_414(server):
    path = "/collections/parcels/items?filter=" + "x" * MAX_URL
    message = _error(*_request(server, path), 414, "uri_too_long")
    assert f"at most {MAX_URL}" in message
    assert _request(server, "/collections/parcels/items?limit=1")[0] == 200


def test_url_over_gunicorns_own_limit_is_a_json_414(server):
    # 8190 bytes is the most gunicorn reads as a request line; it answers that one itself.
    message = _error(*_request(server, "/healthz?q=" + "x" * 9000), 414, "uri_too_long")
    assert "too large" in message.lower()


def test_header_over_the_app_limit_is_a_json_431(server):
    message = _error(*_request(server, "/healthz", {"X-Long": "y" * MAX_HEADER}), 431,
                     "request_header_fields_too_large")
    assert "X-Long" in message and f"at most {MAX_HEADER}" in message


def test_header_over_gunicorns_own_limit_is_a_json_431(server):
    _error(*_request(server, "/healthz", {"Cookie": "c=" + "z" * 20_000}), 431,
           "request_header_fields_too_large")


def test_a_malformed_request_line_is_a_json_400(server):
    _error(*_raw(server, b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n"), 400,
           "bad_request")
    _error(*_raw(server, b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "bad_request")


def test_405_from_gunicorn_carries_allow(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    conn.request("DELETE", "/api/permits/checks")
    resp = conn.getresponse()
    assert resp.status == 405
    assert set(resp.getheader("Allow").split(", ")) >= {"GET", "POST"}
    assert json.loads(resp.read())["error"]["code"] == "method_not_allowed"
