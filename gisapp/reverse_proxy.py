"""nginx in front of gunicorn for `make run`: render docker/nginx's templates, start, stop.

The same template (docker/nginx/gisapp.conf.template) configures compose's nginx, so both
ways of serving buffer slow clients, cache tiles and answer errors as JSON alike. Here nginx
runs from a prefix directory of its own (config, pid, logs, temp files, cache), so it does
not touch the system's nginx nor need it to be running.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "docker" / "nginx"
SITE_TEMPLATE = TEMPLATES / "gisapp.conf.template"
MAIN_TEMPLATE = TEMPLATES / "local.conf.template"
PLACEHOLDER = re.compile(r"\$\{(GISAPP_[A-Z_]+)\}")
DEFAULT_PREFIX = Path(os.environ.get("GISAPP_NGINX_PREFIX", "/var/lib/gisapp/nginx"))
WORKER_USER = "www-data"  # Debian's; used when started as root


class ProxyError(RuntimeError):
    """nginx is missing, its configuration is wrong, or it did not start or stop."""


@dataclass(frozen=True)
class ProxyConfig:
    prefix: Path
    listen: str  # host:port
    upstream: str  # host:port or unix:/path; several web nodes comma-separated
    max_upload_mb: int

    @property
    def main_file(self) -> Path:
        return self.prefix / "conf" / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.prefix / "nginx.pid"


def render(template: str, values: dict[str, str]) -> str:
    """The template with every ${GISAPP_...} replaced; a missing value is an error."""
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise ProxyError(f"no value for {', '.join(missing)} in the nginx template")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def upstream_servers(upstream: str) -> str:
    """The upstream block's `server` lines for comma-separated gunicorn addresses."""
    nodes = [u.strip() for u in upstream.split(",") if u.strip()]
    if not nodes:
        raise ProxyError("no upstream: give gunicorn's host:port (several comma-separated)")
    bad = [u for u in nodes if any(c in u for c in "; {}\n\t ")]
    if bad:
        raise ProxyError(f"{bad[0]!r} is not a host:port or unix:/path")
    return " ".join(f"server {u};" for u in nodes)


def nginx_binary() -> str:
    """The nginx program (GISAPP_NGINX, default `nginx` on PATH or in /usr/sbin)."""
    name = os.environ.get("GISAPP_NGINX", "nginx")
    found = shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise ProxyError(f"nginx is not installed ({name} not found): apt-get install nginx "
                         "(`make run` installs it with the other system packages)")
    return found


def write_config(cfg: ProxyConfig) -> None:
    """Render the main and site files into the prefix and make its directories."""
    for sub in ("conf", "logs", "temp", "cache"):
        (cfg.prefix / sub).mkdir(parents=True, exist_ok=True)
    user = ""
    if os.geteuid() == 0:  # workers drop to www-data: they must write temp files and cache
        user = f"user {WORKER_USER};"
        closed = [p for p in (cfg.prefix, *cfg.prefix.parents) if not p.stat().st_mode & 0o001]
        if closed:
            raise ProxyError(f"nginx's workers ({WORKER_USER}) cannot enter {closed[-1]}, so "
                             f"not the prefix {cfg.prefix} either: choose a --prefix they can "
                             "reach, or chmod o+x that directory")
        entry = pwd.getpwnam(WORKER_USER)
        for sub in ("temp", "cache"):
            for path in [cfg.prefix / sub, *(cfg.prefix / sub).rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
    values = {"GISAPP_NGINX_LISTEN": cfg.listen,
              "GISAPP_UPSTREAM_SERVERS": upstream_servers(cfg.upstream),
              "GISAPP_NGINX_CACHE_DIR": str(cfg.prefix / "cache"),
              "GISAPP_MAX_UPLOAD_MB": str(cfg.max_upload_mb), "GISAPP_NGINX_USER": user}
    (cfg.prefix / "conf" / "gisapp.conf").write_text(render(SITE_TEMPLATE.read_text(), values))
    cfg.main_file.write_text(render(MAIN_TEMPLATE.read_text(), values))


def _nginx(cfg: ProxyConfig, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([nginx_binary(), "-p", str(cfg.prefix), "-c", str(cfg.main_file),
                           *args], capture_output=True, text=True)


def check(cfg: ProxyConfig) -> None:
    """`nginx -t` on the rendered files."""
    result = _nginx(cfg, "-t")
    if result.returncode != 0:
        raise ProxyError(f"nginx rejects its configuration {cfg.main_file}:\n{result.stderr}")


def running_pid(cfg: ProxyConfig) -> int | None:
    """The master's pid when nginx from this prefix runs."""
    try:
        pid = int(cfg.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(cfg: ProxyConfig, wait: float = 10) -> str:
    """Start nginx in the background (or reload it when running); says which."""
    nginx_binary()
    write_config(cfg)
    check(cfg)
    if running_pid(cfg) is not None:
        result = _nginx(cfg, "-s", "reload")
        if result.returncode != 0:
            raise ProxyError(f"nginx did not reload:\n{result.stderr}")
        return "reloaded"
    result = _nginx(cfg)
    if result.returncode != 0:
        raise ProxyError(f"nginx did not start:\n{result.stderr}\n{_log_tail(cfg)}")
    host, _, port = cfg.listen.rpartition(":")
    deadline = time.monotonic() + wait
    while True:
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=1).close()
            return "started"
        except OSError:
            if time.monotonic() > deadline:
                raise ProxyError(f"nginx is not listening on {cfg.listen} after {wait:.0f} s:\n"
                                 f"{_log_tail(cfg)}") from None
            time.sleep(0.1)


def stop(cfg: ProxyConfig, wait: float = 20) -> bool:
    """Stop nginx gracefully (it finishes the requests in flight); False if it was not running."""
    pid = running_pid(cfg)
    if pid is None:
        return False
    for sig in (signal.SIGQUIT, signal.SIGTERM):  # graceful, then fast (drop what is left)
        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while running_pid(cfg) == pid:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        else:
            return True
    raise ProxyError(f"nginx (pid {pid}) did not stop within {2 * wait:.0f} s")


def _log_tail(cfg: ProxyConfig, chars: int = 2000) -> str:
    log = cfg.prefix / "logs" / "error.log"
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""
