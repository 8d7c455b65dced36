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
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gisapp import daemons

TEMPLATES = Path(__file__).resolve().parent.parent / "docker" / "nginx"
SITE_TEMPLATE = TEMPLATES / "gisapp.conf.template"
MAIN_TEMPLATE = TEMPLATES / "local.conf.template"
PLACEHOLDER = re.compile(r"\$\{(GISAPP_[A-Z_]+)\}")
DEFAULT_PREFIX = Path(os.environ.get("GISAPP_NGINX_PREFIX", "/var/lib/gisapp/nginx"))
WORKER_USER = "www-data"  # Debian's; used when started as root
# Debian's libnginx-mod-http-cache-purge: imports purge the tiles they changed (tile_purge)
PURGE_MODULE = Path("/usr/lib/nginx/modules/ngx_http_cache_purge_module.so")
PURGE_DIRECTIVE = "proxy_cache_purge gisapp $gisapp_purge_key;"  # the template's key


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
    name, found = daemons.find_program("GISAPP_NGINX", "nginx")
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
              "GISAPP_MAX_UPLOAD_MB": str(cfg.max_upload_mb), "GISAPP_NGINX_USER": user,
              **purge_values()}
    (cfg.prefix / "conf" / "gisapp.conf").write_text(render(SITE_TEMPLATE.read_text(), values))
    cfg.main_file.write_text(render(MAIN_TEMPLATE.read_text(), values))


def purge_values() -> dict[str, str]:
    """The module and directive that let imports PURGE cached tiles, when it is installed."""
    if not PURGE_MODULE.exists():
        return {"GISAPP_NGINX_MODULES": "",  # apt-get install libnginx-mod-http-cache-purge
                "GISAPP_TILE_PURGE": "return 404;"}
    return {"GISAPP_NGINX_MODULES": f"load_module {PURGE_MODULE};",
            "GISAPP_TILE_PURGE": PURGE_DIRECTIVE}


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
    return daemons.running_pid(cfg.pid_file)


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
    if not daemons.wait_listening(host, int(port), None, wait):
        raise ProxyError(f"nginx is not listening on {cfg.listen} after {wait:.0f} s:\n"
                         f"{_log_tail(cfg)}")
    return "started"


def stop(cfg: ProxyConfig, wait: float = 20) -> bool:
    """Stop nginx gracefully (it finishes the requests in flight); False if it was not running."""
    graceful_then_fast = (signal.SIGQUIT, signal.SIGTERM)  # the second drops what is left
    try:
        return daemons.stop_process(cfg.pid_file, graceful_then_fast, wait) is not None
    except TimeoutError as exc:
        raise ProxyError(f"nginx {exc}") from None


def _log_tail(cfg: ProxyConfig, chars: int = 2000) -> str:
    return daemons.log_tail(cfg.prefix / "logs" / "error.log", chars)
