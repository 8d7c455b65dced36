"""The ingest subscriber's MQTT 3.1.1 connection: CONNECT, SUBSCRIBE, PUBLISH in, PUBACK out.

paho-mqtt spent about 40 µs of Python a message (a select and three recv calls to read each
PUBLISH, a callback, a PUBACK queued and written per message): most of the subscriber's
cost. The subscriber needs little of MQTT: a persistent session (clean session off) with a
user name and password, one subscription at QoS 1, keep-alive pings, and the PUBACKs of a
committed batch. Here one recv takes whatever arrived (up to 1 MB) and a loop cuts it into
packets; a batch's PUBACKs go out in one write.
"""
from __future__ import annotations

import select
import socket
import struct
import time
from typing import NamedTuple

from gisapp.mqtt.address import MqttAddress

RECV_BYTES = 1 << 20
CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK = 1, 2, 3, 4, 8, 9
PINGREQ, PINGRESP, DISCONNECT = b"\xc0\x00", 13, b"\xe0\x00"
CONNACK_REASONS = {1: "unacceptable protocol version", 2: "client identifier rejected",
                   3: "server unavailable", 4: "bad user name or password",
                   5: "not authorised"}
_PUBACK = struct.Struct(">BBH")


class MqttLost(ConnectionError):
    """The broker connection failed, closed or refused us; the message says why."""


class Publish(NamedTuple):
    """A PUBLISH received: its packet id (0 at QoS 0), QoS, topic bytes and payload."""

    mid: int
    qos: int
    topic: bytes
    payload: bytes


def _utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">H", len(data)) + data


def _packet(first_byte: int, body: bytes) -> bytes:
    length, size = bytearray(), len(body)
    while True:
        size, digit = divmod(size, 128)
        length.append(digit | (128 if size else 0))
        if not size:
            return bytes([first_byte]) + bytes(length) + body


def connect_packet(client_id: str, user: str, password: str, keepalive: int) -> bytes:
    """CONNECT: MQTT 3.1.1, clean session off, user name and password."""
    flags = 0x80 | 0x40  # user name, password; clean session off (bit 1 clear)
    body = _utf8("MQTT") + bytes([4, flags]) + struct.pack(">H", keepalive)
    return _packet(CONNECT << 4, body + _utf8(client_id) + _utf8(user) + _utf8(password))


def subscribe_packet(mid: int, topic: str, qos: int) -> bytes:
    return _packet((SUBSCRIBE << 4) | 2, struct.pack(">H", mid) + _utf8(topic) + bytes([qos]))


def pubacks(mids: list[int]) -> bytes:
    """The PUBACK packets of these packet ids, as one write."""
    pack = _PUBACK.pack
    return b"".join([pack(PUBACK << 4, 2, mid) for mid in mids])


class MqttConnection:
    """One connection to the broker, subscribed to one topic filter at QoS 1."""

    def __init__(self, address: MqttAddress, client_id: str, keepalive: int = 30):
        self.address, self.client_id, self.keepalive = address, client_id, keepalive
        self._sock: socket.socket | None = None
        self._inbuf = bytearray()
        self._last_sent = self._last_received = 0.0
        self.subscribed = False

    def open(self, subscription: str, timeout: float = 10.0) -> list[Publish]:
        """Connect, sign in and subscribe; what the session delivered meanwhile.

        MqttLost when the broker cannot be reached, refuses the account or the subscription.
        """
        try:
            self._sock = socket.create_connection((self.address.host, self.address.port),
                                                  timeout=timeout)
        except OSError as exc:
            raise MqttLost(f"cannot reach {self.address.listen}: {exc}") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.setblocking(False)
        self._inbuf.clear()
        self.subscribed = False
        self._send(connect_packet(self.client_id, self.address.user, self.address.password,
                                  self.keepalive))
        self._send(subscribe_packet(1, subscription, 1))
        delivered: list[Publish] = []
        deadline = time.monotonic() + timeout
        while not self.subscribed:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise MqttLost(f"{self.address.listen} did not answer CONNECT and SUBSCRIBE "
                               f"within {timeout:.0f} s")
            delivered += self.read(min(left, 0.5))
        return delivered

    def read(self, timeout: float) -> list[Publish]:
        """The PUBLISH packets that arrive within `timeout` seconds (all that are waiting)."""
        if self._sock is None:
            raise MqttLost("not connected")
        try:
            ready, _, _ = select.select([self._sock], [], [], max(timeout, 0))
            if not ready:
                self._keep_alive()
                return []
            data = self._sock.recv(RECV_BYTES)
        except OSError as exc:
            self.close()
            raise MqttLost(f"lost {self.address.listen}: {exc}") from None
        if not data:
            self.close()
            raise MqttLost(f"{self.address.listen} closed the connection")
        self._last_received = time.monotonic()
        self._inbuf += data
        out = self._parse()
        self._keep_alive()
        return out

    def acknowledge(self, mids: list[int]) -> None:
        """PUBACK these QoS 1 messages (after their batch committed)."""
        if mids:
            self._send(pubacks(mids))

    def ping_if_due(self) -> None:
        """A PINGREQ when nothing was sent for half the keep-alive (the broker drops
        clients silent for 1.5 times it)."""
        if self._sock is not None and time.monotonic() - self._last_sent > self.keepalive / 2:
            self._send(PINGREQ)

    def close(self) -> None:
        if self._sock is None:
            return
        try:
            self._sock.setblocking(True)
            self._sock.settimeout(1)
            self._sock.sendall(DISCONNECT)
        except OSError:
            pass
        self._sock.close()
        self._sock = None
        self.subscribed = False

    def _keep_alive(self) -> None:
        self.ping_if_due()
        if time.monotonic() - self._last_received > 2 * self.keepalive and self.subscribed:
            self.close()
            raise MqttLost(f"{self.address.listen} sent nothing for {2 * self.keepalive} s")

    def _send(self, data: bytes) -> None:
        if self._sock is None:
            raise MqttLost("not connected")
        try:
            self._sock.setblocking(True)
            self._sock.settimeout(10)
            self._sock.sendall(data)
            self._sock.setblocking(False)
        except OSError as exc:
            self.close()
            raise MqttLost(f"lost {self.address.listen} while sending: {exc}") from None
        self._last_sent = time.monotonic()

    def _parse(self) -> list[Publish]:
        """Cut the complete packets off the input; PUBLISH ones are returned."""
        buf, pos, size, out = self._inbuf, 0, len(self._inbuf), []
        while pos + 2 <= size:
            first, length, shift, i = buf[pos], 0, 0, pos + 1
            while True:
                if i >= size:
                    break
                byte = buf[i]
                i += 1
                length |= (byte & 127) << shift
                if byte < 128:
                    break
                shift += 7
                if shift > 21:
                    self.close()
                    raise MqttLost("malformed packet length from the broker")
            if byte >= 128 or i + length > size:
                break  # incomplete: wait for the rest
            end, kind = i + length, first >> 4
            if kind == PUBLISH:
                topic_end = i + 2 + ((buf[i] << 8) | buf[i + 1])
                qos = (first >> 1) & 3
                if qos:
                    mid, start = (buf[topic_end] << 8) | buf[topic_end + 1], topic_end + 2
                else:
                    mid, start = 0, topic_end
                out.append(Publish(mid, qos, bytes(buf[i + 2:topic_end]), bytes(buf[start:end])))
            elif kind == CONNACK:
                code = buf[i + 1]
                if code:
                    self.close()
                    raise MqttLost(f"{self.address.listen} refused the account "
                                   f"{self.address.user!r}: "
                                   f"{CONNACK_REASONS.get(code, f'code {code}')}")
            elif kind == SUBACK:
                if buf[end - 1] == 0x80:
                    self.close()
                    raise MqttLost(f"{self.address.listen} refused the subscription")
                self.subscribed = True
            pos = end
        del buf[:pos]
        return out
