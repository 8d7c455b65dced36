"""The ingest subscriber: readings from the broker to `sensor_observations`, in batches.

One thread reads the broker connection (gisapp.mqtt.wire: one recv takes every message that
arrived) and writes a batch when `batch_size` messages wait, or when the oldest waited
`batch_wait` seconds, through the one write path (store.observations.write_observations),
with the batch's dead letters in the same transaction. Messages are acknowledged (QoS 1)
only after that commit, in one write, and the session is persistent (clean session off), so
a reading is never lost to a subscriber or database restart: the broker sends again what was
not acknowledged, and the write path makes the second copy a no-op. A message no batch can
write (a value the database refuses) is found by writing that batch one message at a time
and is dead-lettered alone. Several subscribers (processes) may share one `$share/`
subscription: the broker gives each message to one of them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import NamedTuple

import psycopg

from gisapp.mqtt.address import MqttAddress
from gisapp.mqtt.messages import Malformed, Message, read_observation, reason_kind
from gisapp.mqtt.topics import SHARE_GROUP, SUBSCRIPTION
from gisapp.mqtt.wire import MqttConnection, MqttLost, Publish
from store.dead_letters import DeadLetter, write_dead_letters
from store.observations import ObservationRow, WritePolicy, write_observations

log = logging.getLogger(__name__)
RECONNECT_S = (0.5, 5)  # back-off between broker connection attempts, doubling
DATABASE_RETRY_S = 1.0
IDLE_READ_S = 1.0  # how long a read waits when nothing is buffered
# SQLSTATE class 40: the server rolled the transaction back (psycopg makes DeadlockDetected
# and SerializationFailure siblings of TransactionRollback, not its subclasses).
ROLLED_BACK = (psycopg.errors.TransactionRollback, psycopg.errors.DeadlockDetected,
               psycopg.errors.SerializationFailure)


class Received(NamedTuple):
    generation: int  # which broker connection delivered it: acks go back on that one only
    mid: int
    qos: int
    message: Message


@dataclass
class IngestStats:
    """What the subscriber did since it started."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    batches: int = 0
    dead_letters: Counter = field(default_factory=Counter)

    def line(self) -> str:
        dead = ", ".join(f"{k} {n}" for k, n in sorted(self.dead_letters.items())) or "none"
        return (f"received {self.received}, inserted {self.inserted}, duplicates "
                f"{self.duplicates}, batches {self.batches}, dead letters: {dead}")


class Subscriber:
    """Subscribes with the ingest account and writes readings until `stop` is set."""

    def __init__(self, address: MqttAddress, conninfo: str, *, client_id: str = "gisapp-ingest",
                 shared: bool = False, batch_size: int = 5000, batch_wait: float = 0.2,
                 policy: WritePolicy = WritePolicy()):
        self.address, self.conninfo, self.policy = address, conninfo, policy
        self.batch_size, self.batch_wait = batch_size, batch_wait
        self.subscription = f"$share/{SHARE_GROUP}/{SUBSCRIPTION}" if shared else SUBSCRIPTION
        self.stats = IngestStats()
        self.connected = threading.Event()
        self._buffer: deque[Received] = deque()
        self._oldest = 0.0  # when the oldest buffered message arrived (monotonic)
        self._generation = 0
        self._mqtt = MqttConnection(address, client_id)
        self._next_attempt = 0.0
        self._backoff = RECONNECT_S[0]
        self._topics: dict[bytes, str] = {}
        self._conn: psycopg.Connection | None = None

    # --- the broker ------------------------------------------------------------------------
    def _connect(self) -> None:
        """Connect and subscribe when due (backing off after failures)."""
        if time.monotonic() < self._next_attempt:
            return
        try:
            delivered = self._mqtt.open(self.subscription)
        except MqttLost as exc:
            log.error("%s; retrying in %.1f s", exc, self._backoff)
            self._next_attempt = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_S[1])
            return
        self._backoff = RECONNECT_S[0]
        self._generation += 1
        self.connected.set()
        log.info("subscribed to %s on %s", self.subscription, self.address.listen)
        self._take(delivered)

    def _lost(self, exc: MqttLost) -> None:
        self.connected.clear()
        self._next_attempt = time.monotonic() + RECONNECT_S[0]
        log.warning("%s; reconnecting", exc)

    def _take(self, delivered: list[Publish]) -> None:
        if not delivered:
            return
        if not self._buffer:
            self._oldest = time.monotonic()
        generation, topics, append = self._generation, self._topics, self._buffer.append
        for item in delivered:
            topic = topics.get(item.topic)
            if topic is None:  # a topic that is not UTF-8 is dead-lettered, never raised
                topic = item.topic.decode("utf-8", "replace")
                if len(topics) < 100_000:
                    topics[item.topic] = topic
            append(Received(generation, item.mid, item.qos, Message(topic, item.payload)))

    def _receive(self, stop: threading.Event) -> None:
        """Read what arrives until a batch is due (full, or its oldest waited batch_wait)."""
        while not stop.is_set() and len(self._buffer) < self.batch_size:
            if not self.connected.is_set():
                self._connect()
                if not self.connected.is_set():
                    stop.wait(min(0.1, max(self._next_attempt - time.monotonic(), 0.01)))
                    if self._buffer and time.monotonic() - self._oldest >= self.batch_wait:
                        return
                    continue
            wait = IDLE_READ_S
            if self._buffer:
                wait = self._oldest + self.batch_wait - time.monotonic()
                if wait <= 0:
                    return
            try:
                self._take(self._mqtt.read(min(wait, IDLE_READ_S)))
            except MqttLost as exc:
                self._lost(exc)

    # --- the loop --------------------------------------------------------------------------
    def run(self, stop: threading.Event, report_every: float = 10.0) -> IngestStats:
        """Connect (retrying until the broker answers) and write batches until `stop`.

        On `stop` the broker connection closes first, then what was received is written;
        its acknowledgements are lost with the connection, so the broker sends those
        messages again next time (the session is kept) and they are counted as duplicates.
        """
        last_report, reported = time.monotonic(), ""
        try:
            while not stop.is_set():
                self._receive(stop)
                self._drain(stop)
                if time.monotonic() - last_report >= report_every:
                    last_report, line = time.monotonic(), self.stats.line()
                    if line != reported:
                        log.info("%s", line)
                        reported = line
        finally:
            self._mqtt.close()
            self.connected.clear()
            self._drain(stop, final=True)
            if self._conn is not None:
                self._conn.close()
        return self.stats

    def _drain(self, stop: threading.Event, final: bool = False) -> None:
        """Write what the buffer holds, a batch at a time (until `stop`, unless `final`)."""
        while self._buffer and (final or not stop.is_set()):
            batch = [self._buffer.popleft()
                     for _ in range(min(self.batch_size, len(self._buffer)))]
            while not self._write_batch(batch):
                self._keep_alive()
                if stop.wait(DATABASE_RETRY_S):
                    return  # stopping without a database: the broker keeps what was not acked
            self._keep_alive()
        self._oldest = time.monotonic()

    def _keep_alive(self) -> None:
        """Ping the broker while the database holds this thread (no reads meanwhile)."""
        if self.connected.is_set():
            try:
                self._mqtt.ping_if_due()
            except MqttLost as exc:
                self._lost(exc)

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.conninfo, connect_timeout=5,
                                         application_name="gisapp mqtt subscribe")
        return self._conn

    def _write_batch(self, batch: list[Received]) -> bool:
        """Write and acknowledge a batch; False when it must be written again (the database
        is unreachable, or rolled the batch back on a deadlock)."""
        try:
            conn = self._connection()
            try:
                counts, letters = self._write(conn, batch)
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:  # one bad value: find it, write the others
                log.warning("a batch of %d failed (%s); writing it one message at a time",
                            len(batch), str(exc).splitlines()[0])
                counts, letters = (0, 0), []
                for one in batch:
                    try:
                        c, dead = self._write(conn, [one])
                    except psycopg.OperationalError:
                        raise
                    except psycopg.Error as exc_one:
                        dead = self._dead_letter_alone(conn, one, exc_one)
                        c = (0, 0)
                    counts = (counts[0] + c[0], counts[1] + c[1])
                    letters += dead
        except ROLLED_BACK as exc:
            # Two subscribers writing the same new reading at once may deadlock; one is
            # rolled back and writes its batch again (the other's copy is then a duplicate).
            log.info("a batch of %d was rolled back (%s); writing it again", len(batch),
                     str(exc).splitlines()[0])
            return False
        except psycopg.OperationalError as exc:
            log.warning("the database is unreachable (%s); retrying the batch of %d",
                        str(exc).strip().splitlines()[0] if str(exc).strip() else exc,
                        len(batch))
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            return False
        self._acknowledge(batch)
        self.stats.received += len(batch)
        self.stats.inserted += counts[0]
        self.stats.duplicates += counts[1]
        self.stats.batches += 1
        self.stats.dead_letters.update(d.kind for d in letters)
        return True

    def _write(self, conn: psycopg.Connection,
               batch: list[Received]) -> tuple[tuple[int, int], list[DeadLetter]]:
        """One transaction: the batch's readings and its dead letters."""
        rows: list[ObservationRow] = []
        sources: list[Received] = []
        letters: list[DeadLetter] = []
        for item in batch:
            try:
                rows.append(read_observation(item.message))
                sources.append(item)
            except Malformed as exc:
                letters.append(DeadLetter(item.message.topic, item.message.payload, exc.kind,
                                          str(exc)))
        with conn.transaction():
            counts = write_observations(conn, rows, self.policy)
            for refusal in counts.refused:
                item = sources[refusal.index]
                letters.append(DeadLetter(item.message.topic, item.message.payload,
                                          reason_kind(refusal.reason), refusal.reason))
            write_dead_letters(conn, letters)
        return (counts.inserted, counts.duplicates), letters

    @staticmethod
    def _dead_letter_alone(conn: psycopg.Connection, item: Received,
                           exc: psycopg.Error) -> list[DeadLetter]:
        letter = DeadLetter(item.message.topic, item.message.payload, "database",
                            f"the database refused it: {str(exc).splitlines()[0][:300]}")
        with conn.transaction():
            write_dead_letters(conn, [letter])
        return [letter]

    def _acknowledge(self, batch: list[Received]) -> None:
        """PUBACK each committed QoS 1 message on the connection that delivered it (one write)."""
        if not self.connected.is_set():
            return  # the broker sends them again on the next connection
        current = self._generation
        try:
            self._mqtt.acknowledge([item.mid for item in batch
                                    if item.qos and item.generation == current])
        except MqttLost as exc:
            self._lost(exc)
