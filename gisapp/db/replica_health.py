"""Which replica may serve a read: health, lag and replayed LSN of each, checked periodically.

A background thread per process asks every replica one cheap question every
`check_ms` (gisapp.db.replication.REPLAY_SQL). A read names the LSN it needs (the commit
LSN of the data versions it depends on, or the caller's own last write); a replica serves
it only when it is up, a standby, within `max_lag_ms`, and has replayed that LSN. When
none has yet, the read asks the candidates again for up to `wait_ms`, then goes to the
primary (`choose` returns None).
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import psycopg

from gisapp.db.provision import libpq_url
from gisapp.db.replication import ReplayState, lsn_text, record_end, replay_state
from gisapp.secret_masking import mask_passwords

log = logging.getLogger(__name__)
POLL_STEP = 0.01  # seconds between replay questions while a read waits


@dataclass
class Replica:
    """One replica as last seen: its replay state, or why it could not be asked."""

    index: int
    url: str
    state: ReplayState | None = None
    error: str | None = None
    checked_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    conn: psycopg.Connection | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"replica-{self.index + 1}"


class ReplicaHealth:
    """The health of every configured replica and the choice of one for a read."""

    def __init__(self, urls: tuple[str, ...], max_lag_ms: int, wait_ms: int, check_ms: int,
                 clock: Callable[[], float] = time.monotonic):
        self.replicas = [Replica(i, libpq_url(u)) for i, u in enumerate(urls)]
        self.max_lag_ms = max_lag_ms
        self.wait_s = wait_ms / 1000
        self.check_s = check_ms / 1000
        self.clock = clock
        self._turn = itertools.count()
        self._pid = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def check(self, replica: Replica) -> ReplayState | None:
        """Ask one replica where it stands now (one query on a kept connection)."""
        with replica.lock:
            try:
                if replica.conn is None or replica.conn.closed or replica.conn.broken:
                    replica.conn = psycopg.connect(replica.url, autocommit=True,
                                                   connect_timeout=2,
                                                   options="-c statement_timeout=2000")
                replica.state, replica.error = replay_state(replica.conn), None
            except psycopg.Error as exc:
                replica.state = None
                replica.error = mask_passwords(str(exc).strip().splitlines()[0]
                                               if str(exc).strip() else type(exc).__name__)
                if replica.conn is not None:
                    replica.conn.close()
                replica.conn = None
            replica.checked_at = self.clock()
            return replica.state

    def check_all(self) -> None:
        for replica in self.replicas:
            self.check(replica)

    def is_usable(self, replica: Replica) -> bool:
        """Up, a standby, and within the lag bound (as last checked)."""
        state = replica.state
        return (state is not None and state.in_recovery and state.replay_lsn is not None
                and state.lag_ms is not None and state.lag_ms <= self.max_lag_ms)

    def choose(self, min_lsn: int) -> Replica | None:
        """A usable replica that has replayed `min_lsn`, waiting up to wait_ms; else None."""
        self._ensure_checking()
        min_lsn = record_end(min_lsn)
        usable = [r for r in self.replicas if self.is_usable(r)]
        if not usable:
            return None
        start = next(self._turn) % len(usable)
        usable = usable[start:] + usable[:start]  # spread reads over the replicas
        deadline = self.clock() + self.wait_s
        while True:
            for replica in usable:
                if replica.state is not None and (replica.state.replay_lsn or 0) >= min_lsn:
                    return replica
            if self.clock() >= deadline:
                return None
            time.sleep(POLL_STEP)
            for replica in usable:
                self.check(replica)
            # While a commit is being replayed the lag reads as the time since the last one
            # replayed (hours, after a quiet night): only a replica gone or promoted drops
            # out here; the replayed position decides.
            usable = [r for r in usable if r.state is not None and r.state.in_recovery]
            if not usable:
                return None

    def status(self) -> list[dict]:
        """Each replica's state for /readyz: ok, lagging, not_standby or unreachable."""
        out = []
        for replica in self.replicas:
            state = replica.state
            doc: dict = {"name": replica.name}
            if state is None:
                doc.update(state="unreachable", error=replica.error)
            elif not state.in_recovery:
                doc.update(state="not_standby")
            else:
                doc.update(state="ok" if self.is_usable(replica) else "lagging",
                           lag_ms=None if state.lag_ms is None else round(state.lag_ms, 1),
                           replay_lsn=None if state.replay_lsn is None
                           else lsn_text(state.replay_lsn),
                           replay_paused=state.paused)
            out.append(doc)
        return out

    def _ensure_checking(self) -> None:
        if self._pid == os.getpid() and self._thread is not None:
            return
        with self._start_lock:
            if self._pid == os.getpid() and self._thread is not None:
                return
            self._pid = os.getpid()  # after a fork the parent's thread and sockets are gone
            for replica in self.replicas:
                replica.conn = None
            self.check_all()
            self._thread = threading.Thread(target=self._run, name="replica-health",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.check_s)
            try:
                self.check_all()
            except Exception:  # the checker must outlive any one bad answer
                log.exception("replica health check failed")
