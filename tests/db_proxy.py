"""A TCP proxy in front of the test database that a test can cut and restart, so "the
database went away" is real without stopping the shared server."""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from gisapp.settings import LOCAL_PGPORT


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database; `cut()` refuses and drops connections."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.up = False

    def start(self) -> None:
        if self.listener.fileno() == -1:
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        self.up = True
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self.up:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        try:  # shutdown wakes the thread blocked in accept(); close alone would not
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()


def proxied(url: str) -> tuple[TcpProxy, str]:
    """A started proxy to the database of `url`, and the same URL through the proxy."""
    parts = urlsplit(url)
    proxy = TcpProxy((parts.hostname, parts.port or LOCAL_PGPORT))
    proxy.start()
    return proxy, url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
