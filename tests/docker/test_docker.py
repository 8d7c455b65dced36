"""The production path (docker/) matches what `make run` does. Docker's engine does not run
here, so the Dockerfile is linted with hadolint, the compose file is validated against the
compose-spec schema and read, and the nginx template is rendered both ways and `nginx -t`ed."""
from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gisapp import reverse_proxy
from gisapp.cli import cli
from gisapp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
# The web nodes: every service serving gunicorn (nginx balances them).
WEB_SERVICES = tuple(n for n, s in SERVICES.items()
                     if "gisapp serve" in " ".join(s.get("command") or []))
APP_SERVICES = ("migrate", "demo", *WEB_SERVICES, "worker", "mqtt", "subscriber")
GUNICORN_CONF = ROOT / "gisapp" / "gunicorn.conf.py"
BIN = Path(sys.executable).parent


def _gisapp_commands(text: str) -> set[str]:
    """The `gisapp <command>` / `gisapp <group> <command>` invocations in shell text."""
    found = set()
    pattern = r"(?:^|[\s;&|(\"'])(?:\$\(GISAPP\)|gisapp)\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?"
    for m in re.finditer(pattern, text, flags=re.M):
        command = cli.get_command(None, m.group(1))
        if command is None:  # "gisapp" as a word of something else (a database name)
            continue
        if isinstance(command, type(cli)) and m.group(2):
            found.add(f"{m.group(1)} {m.group(2)}")
        else:
            found.add(m.group(1))
    return found


def _command_text(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def _make_run_commands() -> set[str]:
    """What `make run` executes, from `make -n` (dry run: prints, runs nothing)."""
    out = subprocess.run(["make", "-n", "-B", "run", "GISAPP=gisapp"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return _gisapp_commands(out)


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "db.Dockerfile"])
def test_dockerfile_passes_hadolint(dockerfile):
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, "--failure-threshold", "info",
                             str(ROOT / "docker" / dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_has_the_production_services():
    assert {"db", "migrate", "web", "worker", "proxy"} <= set(SERVICES)
    db = (ROOT / SERVICES["db"]["build"]["dockerfile"]).read_text()
    assert "FROM postgis/postgis:15-" in db and "postgresql-15-partman" in db


def test_compose_file_matches_the_compose_spec_schema():
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema",
                             "vendor.compose-spec", str(ROOT / "docker" / "compose.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_what_make_run_runs():
    compose_cmds = set()
    for svc in APP_SERVICES:
        compose_cmds |= _gisapp_commands(_command_text(SERVICES[svc]))
    # `gisapp nginx` runs Debian's nginx for make run; compose runs the nginx image on the
    # same template (test_compose_proxy_uses_the_shared_template). `gisapp pgbouncer` runs
    # Debian's PgBouncer for make run; compose's web nodes fit max_connections directly.
    # `gisapp replica` makes a local standby; in production a replica is a server of its own.
    make_cmds = {c for c in _make_run_commands()
                 if c.split()[0] not in ("nginx", "pgbouncer", "replica")}
    assert make_cmds, "make -n run printed no gisapp commands"
    assert make_cmds <= compose_cmds, f"make run does {make_cmds - compose_cmds} that compose does not"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_commands_exist_in_the_cli(service):
    for command in _gisapp_commands(_command_text(SERVICES[service])):
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0, f"`gisapp {command}` ({service}) is not a command"


def _gunicorn_variables() -> set[str]:
    """The variables gunicorn.conf.py reads (workers, threads, access log)."""
    return set(re.findall(r"os\.environ\.get\(\"(GISAPP_[A-Z_]+)\"", GUNICORN_CONF.read_text()))


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_environment_is_the_settings_environment(service):
    env = SERVICES[service]["environment"]
    assert set(env) <= set(Settings.ENV.values()) | _gunicorn_variables()
    assert {"DATABASE_URL", "SECRET_KEY", "GISAPP_DATA_DIR"} <= set(env)
    host = re.match(r"postgresql://[^@]+@([^:/]+)", env["DATABASE_URL"]).group(1)
    assert host == "db"
    mounts = {v.split(":")[1] for v in SERVICES[service]["volumes"]}
    assert env["GISAPP_DATA_DIR"] in mounts, "the data directory must be a volume"


def test_health_checks_use_readyz():
    for name in (*WEB_SERVICES, "proxy"):
        assert "/readyz" in " ".join(SERVICES[name]["healthcheck"]["test"])
    assert "/readyz" in (ROOT / "docker" / "Dockerfile").read_text()
    db_mounts = [v for v in SERVICES["db"]["volumes"] if v.endswith("/var/lib/postgresql/data")]
    assert db_mounts, "the database needs a volume"


def test_migrations_never_load_the_demo_city():
    """Only the opt-in `demo` profile loads it; every default service leaves data alone."""
    def loads_demo(service: dict) -> bool:
        return any(c.split()[0] == "demo" for c in _gisapp_commands(_command_text(service)))

    for name, service in SERVICES.items():
        if loads_demo(service):
            assert service.get("profiles") == ["demo"], f"{name} loads the demo by default"
    assert loads_demo(SERVICES["demo"]) and "demo load" in _command_text(SERVICES["demo"])
    assert not loads_demo(SERVICES["migrate"])


def test_only_web_keeps_the_images_http_healthcheck():
    """The image's HEALTHCHECK probes gunicorn; the other services of that image override it."""
    assert "HEALTHCHECK" in (ROOT / "docker" / "Dockerfile").read_text()
    for name, service in SERVICES.items():
        if service.get("image") != SERVICES["web"]["image"] or name in WEB_SERVICES:
            continue
        check = service.get("healthcheck")
        assert check is not None, f"{name} would inherit the web server's /readyz check"
        assert check.get("disable") is True or ":8000/readyz" not in " ".join(check["test"])


def test_dockerignore_keeps_environments_and_artefacts_out_of_the_build_context():
    from docker.utils.build import PatternMatcher, exclude_paths

    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    matcher = PatternMatcher(patterns)
    for path in (".venv/bin/python", "static/node_modules/maplibre-gl/dist/maplibre-gl.js",
                 "data/rasters/elevation.tif", "var/run/gunicorn.pid",
                 "tests/artifacts/map.png", ".pytest_cache/v/cache/nodeids",
                 "bench/out/tiles.json", "gisapp/__pycache__/settings.cpython-311.pyc"):
        assert matcher.matches(path), f"{path} would be sent to the Docker daemon"
    build = SERVICES["migrate"]["build"]
    assert (ROOT / "docker" / build["context"]).resolve() == ROOT
    context = exclude_paths(str(ROOT), patterns, dockerfile=build["dockerfile"])
    sources = set()
    for line in (ROOT / build["dockerfile"]).read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources |= {w.rstrip("/") for w in words[1:-1]}
    assert sources, "no COPY in the Dockerfile"
    for source in sources:
        assert any(p == source or p.startswith(source + "/") for p in context), \
            f"the Dockerfile copies {source}, which .dockerignore leaves out"


def test_connections_fit_max_connections():
    """web processes x both pools + listener, the worker, the MQTT subscriber, one-shots,
    admin and reserved."""
    web_env = SERVICES["web"]["environment"]
    saved = {k: os.environ.get(k) for k in ("GISAPP_WORKERS", "GISAPP_THREADS",
                                            "GISAPP_DB_POOL_SIZE", "GISAPP_DB_POOL_OVERFLOW")}
    try:
        for key in saved:
            os.environ.pop(key, None)
        os.environ.update(GISAPP_WORKERS=web_env["GISAPP_WORKERS"],
                          GISAPP_THREADS=web_env["GISAPP_THREADS"])
        conf = runpy.run_path(str(GUNICORN_CONF))
        pool = int(os.environ["GISAPP_DB_POOL_SIZE"]) + int(os.environ["GISAPP_DB_POOL_OVERFLOW"])
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    web = len(WEB_SERVICES) * conf["workers"] * (2 * pool + 1)
    worker_cmd = SERVICES["worker"]["command"]
    concurrency = int(worker_cmd[worker_cmd.index("--concurrency") + 1])
    worker = 4 + 3 * concurrency + 3
    subscriber = 1  # gisapp mqtt subscribe: one connection for its batches
    total = web + worker + subscriber + 4 + 10 + 3
    db_cmd = SERVICES["db"]["command"]
    max_connections = int(next(a.split("=")[1] for a in db_cmd if a.startswith("max_connections")))
    assert total <= max_connections
    assert f"total    {total}" in (ROOT / "docker" / "compose.yaml").read_text()
    assert SERVICES["db"].get("shm_size"), "PostgreSQL needs more than Docker's 64 MB /dev/shm"


def test_compose_proxy_renders_the_shared_template():
    proxy = SERVICES["proxy"]
    mounts = dict(v.split(":")[:2] for v in proxy["volumes"])
    template = (ROOT / "docker" / "./nginx/gisapp.conf.template").resolve()
    assert template == reverse_proxy.SITE_TEMPLATE
    assert mounts["./nginx/gisapp.conf.template"] == "/etc/nginx/templates/default.conf.template"
    needed = set(reverse_proxy.PLACEHOLDER.findall(template.read_text()))
    assert needed <= set(proxy["environment"])
    assert len(WEB_SERVICES) >= 2, "nginx balances two or more web nodes"
    assert proxy["environment"]["GISAPP_UPSTREAM_SERVERS"] == " ".join(
        f"server {name}:{SERVICES[name]['command'][-1].rpartition(':')[2]};"
        for name in WEB_SERVICES)
    assert "least_conn;" in template.read_text()
    assert all(proxy["depends_on"][name] == {"condition": "service_healthy"}
               for name in WEB_SERVICES)
    assert proxy["ports"][0].endswith(":" + proxy["environment"]["GISAPP_NGINX_LISTEN"])


def _nginx_t(prefix: Path, main: Path) -> None:
    result = subprocess.run([reverse_proxy.nginx_binary(), "-t", "-p", str(prefix), "-c",
                             str(main)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_nginx_accepts_the_config_rendered_for_compose(tmp_path):
    """As the nginx image does: envsubst of the GISAPP_ variables, inside an http block.

    nginx -t resolves upstream names, and the web nodes exist only on compose's network, so
    they are checked here as 127.0.0.1; the cache directory moves into tmp_path.
    """
    env = {k: str(v) for k, v in SERVICES["proxy"]["environment"].items()}
    env["GISAPP_MAX_UPLOAD_MB"] = "512"
    env["GISAPP_UPSTREAM_SERVERS"] = " ".join(  # one port per node: nginx needs them apart
        f"server 127.0.0.1:{8000 + i};" for i, _ in enumerate(WEB_SERVICES))
    env["GISAPP_NGINX_CACHE_DIR"] = str(tmp_path / "cache")
    names = " ".join(f"${{{k}}}" for k in env if re.match(env["NGINX_ENVSUBST_FILTER"], k))
    rendered = subprocess.run(["envsubst", names], input=reverse_proxy.SITE_TEMPLATE.read_text(),
                              capture_output=True, text=True, check=True,
                              env={"PATH": os.environ["PATH"], **env}).stdout
    assert "${" not in rendered
    (tmp_path / "default.conf").write_text(rendered)
    (tmp_path / "nginx.conf").write_text(
        "pid nginx.pid;\nerror_log stderr;\nevents {}\n"
        "http {\n include /etc/nginx/mime.types;\n include default.conf;\n}\n")
    _nginx_t(tmp_path, tmp_path / "nginx.conf")


def test_nginx_accepts_the_config_make_run_renders():
    dry = subprocess.run(["make", "-n", "-B", "serve", "GISAPP=gisapp"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    found = re.search(r"gisapp nginx start --listen (\S+) --upstream (\S+)", dry)
    assert found, dry
    assert found.group(1) == "127.0.0.1:8000", "make run must answer on 127.0.0.1:8000"
    assert f"--bind {found.group(2)}" in dry, "gunicorn must listen where nginx sends requests"
    prefix = Path(tempfile.mkdtemp(prefix="gisapp-nginx-"))  # www-data may enter /tmp
    prefix.chmod(0o755)
    try:
        cfg = reverse_proxy.ProxyConfig(prefix=prefix, listen=found.group(1),
                                        upstream=found.group(2), max_upload_mb=512)
        reverse_proxy.write_config(cfg)
        _nginx_t(prefix, cfg.main_file)
    finally:
        shutil.rmtree(prefix)
