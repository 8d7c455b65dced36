"""Mosquitto (Debian's /usr/sbin/mosquitto) as the sensors' broker: config, start, stop.

The broker runs from a directory of its own (config, password file, ACL, pid, log and
persistence), like `gisapp nginx` from its prefix, so the packaged daemon need not run and
tests start brokers of their own on free ports. Anonymous clients are refused: the ingest
subscriber and each device sign in with an account of the password file (`accounts.py`).
Started as root, mosquitto drops to the `mosquitto` user, which then owns the directory.
"""
from __future__ import annotations

import os
import pwd
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gisapp import daemons
from gisapp.mqtt.address import MqttAddress

BROKER_USER = "mosquitto"  # Debian's; mosquitto switches to it when started as root
MAX_QUEUED = 1_000_000  # per offline persistent session: minutes of a city's readings
MAX_PACKET_BYTES = 256 * 1024


class BrokerError(RuntimeError):
    """mosquitto is missing, refused its configuration, or did not start or stop."""


@dataclass(frozen=True)
class BrokerConfig:
    directory: Path
    address: MqttAddress

    @property
    def conf_file(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "mosquitto.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "mosquitto.log"

    @property
    def password_file(self) -> Path:
        return self.directory / "passwd"

    @property
    def acl_file(self) -> Path:
        return self.directory / "acl"

    @property
    def accounts_file(self) -> Path:
        return self.directory / "accounts.json"


def find_program(name: str, env: str) -> str:
    """A mosquitto program (`env` overrides the name), on PATH or in /usr/sbin."""
    wanted, found = daemons.find_program(env, name)
    if found is None:
        raise BrokerError(f"{wanted} is not installed: apt-get install mosquitto "
                          "mosquitto-clients (`make run` installs them with the other system "
                          "packages)")
    return found


def mosquitto_binary() -> str:
    """The broker program (GISAPP_MOSQUITTO, default `mosquitto` on PATH or in /usr/sbin)."""
    return find_program("mosquitto", "GISAPP_MOSQUITTO")


def render_config(cfg: BrokerConfig) -> str:
    """mosquitto.conf for this directory and address."""
    d = cfg.directory
    return "\n".join([
        "# Written by `gisapp mqtt start`: edits are overwritten.",
        f"pid_file {cfg.pid_file}",
        "persistence true",  # queued QoS 1 readings of offline sessions survive a restart
        f"persistence_location {d}/",
        "autosave_interval 30",
        f"log_dest file {cfg.log_file}",
        "log_type error", "log_type warning", "log_type notice",
        "connection_messages true",
        "allow_anonymous false",
        f"password_file {cfg.password_file}",
        f"acl_file {cfg.acl_file}",
        f"max_queued_messages {MAX_QUEUED}",
        # The subscriber acknowledges a reading once it is committed, a batch at a time
        # (~200 ms): a window of 20 unacknowledged messages would cap it at ~100/s.
        "max_inflight_messages 0",
        f"max_packet_size {MAX_PACKET_BYTES}",
        f"listener {cfg.address.port} {cfg.address.host}",
        "set_tcp_nodelay true",
        "",
    ])


def prepare_directory(cfg: BrokerConfig) -> None:
    """Make the directory and write the config; owned by the broker's user under root."""
    cfg.directory.mkdir(parents=True, exist_ok=True)
    cfg.conf_file.write_text(render_config(cfg))
    for path in (cfg.password_file, cfg.acl_file):
        if not path.exists():
            path.touch(mode=0o600)
    give_to_broker(cfg)


def give_to_broker(cfg: BrokerConfig) -> None:
    """Under root, hand the directory to the `mosquitto` user it drops to (files 0600)."""
    for path in (cfg.password_file, cfg.acl_file):
        if path.exists():
            path.chmod(0o600)
    if os.geteuid() != 0:
        return
    closed = [p for p in cfg.directory.parents if not p.stat().st_mode & 0o001]
    if closed:
        raise BrokerError(f"the broker's user ({BROKER_USER}) cannot enter {closed[-1]}, so not "
                          f"{cfg.directory} either: choose a --dir it can reach, or chmod o+x "
                          "that directory")
    entry = pwd.getpwnam(BROKER_USER)
    for path in [cfg.directory, *cfg.directory.iterdir()]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def running_pid(cfg: BrokerConfig) -> int | None:
    """The broker's pid when one from this directory runs."""
    return daemons.running_pid(cfg.pid_file)


def start(cfg: BrokerConfig, wait: float = 10) -> str:
    """Start the broker in the background (or reload its accounts when it runs); says which."""
    program = mosquitto_binary()
    if running_pid(cfg) is not None:
        reload(cfg)
        return "reloaded"
    prepare_directory(cfg)
    result = subprocess.run([program, "-c", str(cfg.conf_file), "-d"], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise BrokerError(f"mosquitto did not start:\n{result.stderr}\n{_log_tail(cfg)}")
    if not daemons.wait_listening(cfg.address.host, cfg.address.port, cfg.pid_file, wait):
        raise BrokerError(f"mosquitto is not listening on {cfg.address.listen} after "
                          f"{wait:.0f} s:\n{_log_tail(cfg)}")
    return "started"


def run_foreground(cfg: BrokerConfig) -> None:
    """Become the broker (exec, no fork): a container's main process, or under a supervisor."""
    program = mosquitto_binary()
    prepare_directory(cfg)
    os.execv(program, [program, "-c", str(cfg.conf_file)])


def reload(cfg: BrokerConfig) -> None:
    """Make a running broker read its password file and ACL again (SIGHUP)."""
    pid = running_pid(cfg)
    if pid is not None:
        os.kill(pid, signal.SIGHUP)


def stop(cfg: BrokerConfig, wait: float = 20) -> bool:
    """Stop the broker (it saves queued messages first); False if it was not running."""
    try:
        return daemons.stop_process(cfg.pid_file, (signal.SIGTERM,), wait) is not None
    except TimeoutError as exc:
        raise BrokerError(f"mosquitto {exc}") from None


def _log_tail(cfg: BrokerConfig, chars: int = 2000) -> str:
    return daemons.log_tail(cfg.log_file, chars)
