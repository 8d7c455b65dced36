"""Served through nginx (docker/nginx, `gisapp nginx start`): slow clients cannot starve
gunicorn's few threads, nginx's own errors are JSON, forwarded headers come from nginx."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from layers.land import PARCELS
from tests.served import GISAPP, free_port, get, gunicorn, wait_for_http
from tiles.grid import tile_of

SLOW_CLIENTS = 50
BIG_FILE = "/static/node_modules/maplibre-gl/dist/maplibre-gl.js"
CENTRE = (108.223, 16.067)


def nginx_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(GISAPP), "nginx", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def nginx_prefix() -> Path:
    """A prefix nginx's workers (www-data when the tests run as root) can enter."""
    prefix = Path(tempfile.mkdtemp(prefix="gisapp-nginx-"))
    prefix.chmod(0o755)
    return prefix


@contextmanager
def nginx(prefix: Path, upstream: str, env: dict[str, str] | None = None,
          port: int | None = None) -> Iterator[int]:
    """`gisapp nginx start` on a free port in its own prefix; stopped afterwards."""
    port = port or free_port()
    started = nginx_cli("start", "--prefix", str(prefix), "--listen", f"127.0.0.1:{port}",
                        "--upstream", upstream, env=env)
    assert started.returncode == 0, started.stderr
    try:
        yield port
    finally:
        stopped = nginx_cli("stop", "--prefix", str(prefix))
        assert stopped.returncode == 0, stopped.stderr
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(test_url, tmp_path_factory) -> Iterator[dict]:
    """One gunicorn worker with 2 threads (easy to starve) behind nginx."""
    tmp = tmp_path_factory.mktemp("stack")
    public = free_port()  # nginx's: the address clients use is the app's public URL
    env = {"GISAPP_PROXY_HOPS": "1", "GISAPP_MAX_UPLOAD_MB": "1",
           "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{public}"}
    with gunicorn(test_url, tmp / "data", workers=1, threads=2, env=env) as app_port, \
            nginx(prefix := nginx_prefix(), f"127.0.0.1:{app_port}", env=env,
                  port=public) as port:
        wait_for_http(port)
        yield {"port": port, "app_port": app_port, "prefix": prefix}


def _connect(port: int, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    return sock


def _slow_headers(port: int, stop: threading.Event) -> None:
    """Sends a request line and headers one byte at a time, never finishing them."""
    with _connect(port) as sock:
        for byte in f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode() \
                + b"a" * 10_000:
            if stop.wait(0.1):
                return
            sock.send(bytes([byte]))


def _slow_body(port: int, stop: threading.Event) -> None:
    """Announces a 100 KB body and sends it one byte at a time."""
    with _connect(port) as sock:
        sock.sendall(f"POST /api/permits/checks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
                     + b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        while not stop.wait(0.1):
            sock.send(b" ")


def _slow_reader(port: int, stop: threading.Event) -> None:
    """Asks for MapLibre's script (~0.8 MB) and reads it a few bytes at a time.

    Each asks under its own query string, so nginx fetches every one from gunicorn (no
    cache hit) and buffers it, instead of gunicorn writing to the slow socket.
    """
    with _connect(port, rcvbuf=4096) as sock:
        sock.sendall(f"GET {BIG_FILE}?reader={threading.get_ident()} HTTP/1.1\r\n"
                     f"Host: 127.0.0.1:{port}\r\n\r\n".encode())
        while not stop.wait(0.1):
            if not sock.recv(16):
                return


def test_fifty_slow_clients_do_not_stop_normal_requests(stack):
    port, stop = stack["port"], threading.Event()
    kinds = (_slow_headers, _slow_body, _slow_reader)
    slow = [threading.Thread(target=kinds[i % 3], args=(port, stop), daemon=True)
            for i in range(SLOW_CLIENTS)]
    for thread in slow:
        thread.start()
    try:
        time.sleep(2.0)  # every slow client is connected and dribbling by now
        x, y = tile_of(*CENTRE, 16)
        paths = ["/healthz", f"/collections/{PARCELS.id}/items?limit=10",
                 f"/tiles/{PARCELS.id}/16/{x}/{y}.mvt"]
        took = []
        for _ in range(5):
            for path in paths:
                started = time.monotonic()
                status, _, _ = get(port, path, timeout=30)
                took.append(time.monotonic() - started)
                assert status == 200, path
        assert sum(t.is_alive() for t in slow) >= SLOW_CLIENTS * 0.9  # still dribbling
    finally:
        stop.set()
    print(f"with {SLOW_CLIENTS} slow clients: normal requests {sorted(round(t, 3) for t in took)}")
    assert max(took) < 3.0, took


def _assert_json_error(status: int, headers: dict, body: bytes, expected: int, code: str):
    assert status == expected, body[:300]
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"]


def test_an_over_long_url_through_nginx_is_json(stack):
    status, headers, body = get(stack["port"], "/collections?x=" + "a" * 20_000)
    _assert_json_error(status, headers, body, 414, "request_uri_too_long")


def test_an_over_long_header_through_nginx_is_json(stack):
    status, headers, body = get(stack["port"], "/healthz", headers={"X-Big": "a" * 20_000})
    _assert_json_error(status, headers, body, 400, "request_header_fields_too_large")


def test_a_body_over_the_upload_limit_is_a_json_413_from_nginx(stack):
    with _connect(stack["port"]) as sock:
        sock.sendall(f"POST /api/etl/uploads HTTP/1.1\r\nHost: 127.0.0.1:{stack['port']}\r\n"
                     .encode() + b"Content-Length: 2000000\r\nConnection: close\r\n\r\n")
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:  # nginx resets once it has answered the unread body
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    _assert_json_error(int(lines[0].split()[1]), headers, body, 413, "request_entity_too_large")
    assert "1 MB" in json.loads(body)["error"]["message"]


def test_gunicorn_down_is_a_json_502(tmp_path):
    with nginx(nginx_prefix(), f"127.0.0.1:{free_port()}") as port:
        status, headers, body = get(port, "/healthz")
    _assert_json_error(status, headers, body, 502, "bad_gateway")
    assert headers["retry-after"] == "5"


def test_nginx_forwards_the_host_and_port_the_client_used(stack):
    """TileJSON's tile URLs name nginx's address; spoofed forwarding headers are replaced."""
    status, _, body = get(stack["port"], f"/tiles/{PARCELS.id}.json",
                          headers={"X-Forwarded-Host": "evil.example",
                                   "X-Forwarded-Proto": "https",
                                   "X-Forwarded-Port": "444"})
    assert status == 200
    assert json.loads(body)["tiles"][0].startswith(f"http://127.0.0.1:{stack['port']}/tiles/")


def test_nginx_caches_public_tiles(stack):
    x, y = tile_of(*CENTRE, 16)
    path = f"/tiles/{PARCELS.id}/16/{x}/{y}.mvt?cache-test={time.time_ns()}"
    first = get(stack["port"], path)
    second = get(stack["port"], path)
    assert first[0] == second[0] == 200 and first[2] == second[2]
    assert first[1]["x-cache-status"] == "MISS" and second[1]["x-cache-status"] == "HIT"


def test_nginx_status_and_stop_from_the_cli(stack, tmp_path):
    running = nginx_cli("status", "--prefix", str(stack["prefix"]))
    assert running.returncode == 0
    assert f"127.0.0.1:{stack['port']}" in running.stdout
    assert f"127.0.0.1:{stack['app_port']}" in running.stdout
    idle = nginx_cli("status", "--prefix", str(tmp_path / "none"))
    assert idle.returncode == 3 and "not running" in idle.stdout


def test_a_missing_nginx_is_a_clear_error(tmp_path):
    result = nginx_cli("start", "--prefix", str(tmp_path / "nginx"),
                       env={"GISAPP_NGINX": "nginx-that-is-not-installed"})
    assert result.returncode != 0
    assert "nginx is not installed" in result.stderr and "apt-get install nginx" in result.stderr
