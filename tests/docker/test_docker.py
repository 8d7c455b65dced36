"""The production path (docker/) matches what `make run` does. Docker's engine does not run
here, so the Dockerfile is linted with hadolint and the compose file is checked by reading it."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gisapp.cli import cli
from gisapp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]


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


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, "--failure-threshold", "info",
                             str(ROOT / "docker" / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_has_the_production_services():
    assert {"db", "migrate", "web", "worker", "cache"} <= set(SERVICES)
    assert SERVICES["db"]["image"].startswith("postgis/postgis:15-")


def test_compose_runs_what_make_run_runs():
    compose_cmds = set()
    for svc in ("migrate", "web", "worker"):
        compose_cmds |= _gisapp_commands(_command_text(SERVICES[svc]))
    # `gisapp nginx` runs Debian's nginx for make run; compose runs the nginx image on the
    # same template (test_compose_proxy_uses_the_shared_template).
    make_cmds = {c for c in _make_run_commands() if c.split()[0] != "nginx"}
    assert make_cmds, "make -n run printed no gisapp commands"
    assert make_cmds <= compose_cmds, f"make run does {make_cmds - compose_cmds} that compose does not"


@pytest.mark.parametrize("service", ["migrate", "web", "worker"])
def test_compose_commands_exist_in_the_cli(service):
    for command in _gisapp_commands(_command_text(SERVICES[service])):
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0, f"`gisapp {command}` ({service}) is not a command"


@pytest.mark.parametrize("service", ["migrate", "web", "worker"])
def test_compose_environment_is_the_settings_environment(service):
    env = SERVICES[service]["environment"]
    assert set(env) <= set(Settings.ENV.values())
    assert {"DATABASE_URL", "SECRET_KEY", "GISAPP_DATA_DIR"} <= set(env)
    host = re.match(r"postgresql://[^@]+@([^:/]+)", env["DATABASE_URL"]).group(1)
    assert host == "db"
    mounts = {v.split(":")[1] for v in SERVICES[service]["volumes"]}
    assert env["GISAPP_DATA_DIR"] in mounts, "the data directory must be a volume"


def test_health_checks_use_readyz():
    for name in ("web", "cache"):
        assert "/readyz" in " ".join(SERVICES[name]["healthcheck"]["test"])
    assert "/readyz" in (ROOT / "docker" / "Dockerfile").read_text()
    db_mounts = [v for v in SERVICES["db"]["volumes"] if v.endswith("/var/lib/postgresql/data")]
    assert db_mounts, "the database needs a volume"
