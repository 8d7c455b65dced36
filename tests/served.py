"""Real servers for tests: the repository's gunicorn config and nginx config, on free ports."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gisapp" / "gunicorn.conf.py"
GISAPP = Path(sys.executable).with_name("gisapp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 60,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One GET on a new connection: status, headers (lower-case names), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_for_http(port: int, proc: subprocess.Popen | None = None, seconds: float = 90,
                  log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if get(port, "/healthz", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {said}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answered /healthz on port {port} within {seconds} s")
        time.sleep(0.3)


@contextmanager
def gunicorn(database_url: str, data_dir: Path, workers: int = 1, threads: int = 2,
             env: dict[str, str] | None = None) -> Iterator[int]:
    """gunicorn with the repository's config on a free port; yields the port."""
    port = free_port()
    environ = {**os.environ, "DATABASE_URL": database_url, "GISAPP_DATA_DIR": str(data_dir),
               "GISAPP_WORKERS": str(workers), "GISAPP_THREADS": str(threads),
               "SECRET_KEY": "test", "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}",
               **(env or {})}
    for name in ("GISAPP_DB_POOL_SIZE", "GISAPP_DB_POOL_OVERFLOW", "GISAPP_HEAVY_REQUESTS",
                 "GISAPP_ALERT_STREAMS"):
        if name not in (env or {}):
            environ.pop(name, None)  # let gunicorn.conf.py size them to the threads
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"gunicorn-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
                                 "--bind", f"127.0.0.1:{port}", "gisapp:create_app()"],
                                env=environ, cwd=ROOT, stdout=out, stderr=out)
    try:
        wait_for_http(port, proc, log=log)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def stop_group(proc: subprocess.Popen, seconds: float = 20) -> None:
    """Stop a process started with start_new_session=True, and its children: TERM, then KILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
