"""CPU-seconds of one database's server backends (local cluster) and of this process.

Wall times on a shared machine grow with its load; CPU-seconds much less, so a quiet
machine's time can be estimated from them. A thread reads /proc every 0.1 s for the
processes titled `postgres: <user> <database> ...`, keeping each one's last reading, so
a backend that has ended (ogr2ogr's, a build connection's) still counts.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
POLL_S = 0.1


def _cpu_of(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


class ServerCpu:
    """Sum of CPU-seconds of the backends of `database` seen since start()."""

    def __init__(self, database: str):
        self.title = f" {database} "
        self.seen: dict[int, float] = {}
        self._base: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll_once(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if not cmdline.startswith("postgres: ") or self.title not in cmdline:
                    continue
                cpu = _cpu_of((entry / "stat").read_text())
            except (OSError, IndexError, ValueError):
                continue
            pid = int(entry.name)
            if pid not in self.seen and pid not in self._base and self._thread is None:
                self._base[pid] = cpu  # already running at start: count from now
            self.seen[pid] = cpu

    def start(self) -> "ServerCpu":
        self._poll_once()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self._poll_once()

    def seconds(self) -> float:
        """CPU-seconds used by the database's backends since start() (as of now)."""
        self._poll_once()
        return sum(cpu - self._base.get(pid, 0.0) for pid, cpu in list(self.seen.items()))

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.seconds()


def own_cpu() -> float:
    """CPU-seconds of this process, all threads."""
    return time.process_time()
