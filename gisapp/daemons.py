"""Debian daemons gisapp runs from a directory of its own (nginx, PgBouncer, Mosquitto).

What the three share: finding the program, the pid a pid file names, waiting until the
daemon listens, stopping it with a sequence of signals, and the tail of its log. Each
daemon's module keeps its configuration and its own error type.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import Sequence


def find_program(env: str, default: str) -> tuple[str, str | None]:
    """The program's name (`env` overrides `default`) and its path on PATH or in /usr/sbin."""
    name = os.environ.get(env, default)
    return name, shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def running_pid(pid_file: Path) -> int | None:
    """The pid `pid_file` names when that process is alive."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def wait_listening(host: str, port: int, pid_file: Path | None, wait: float) -> bool:
    """True once host:port accepts connections (and `pid_file` names a live process)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            socket.create_connection((host or "127.0.0.1", port), timeout=1).close()
            if pid_file is None or running_pid(pid_file) is not None:
                return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def stop_process(pid_file: Path, signals: Sequence[signal.Signals], wait: float) -> int | None:
    """Send each signal in turn, `wait` s apart, until the process ends; its pid (None: none).

    Raises TimeoutError naming the pid when it outlives every signal.
    """
    pid = running_pid(pid_file)
    if pid is None:
        return None
    for sig in signals:
        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while running_pid(pid_file) == pid:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            return pid
    raise TimeoutError(f"(pid {pid}) did not stop within {len(signals) * wait:.0f} s")


def log_tail(path: Path, chars: int = 2000) -> str:
    """The end of a daemon's log, for error messages ('' when there is none)."""
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""
