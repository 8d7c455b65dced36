"""A process told to stop: gunicorn sends its worker SIGTERM and waits up to its graceful
timeout for the requests in flight. A request that lasts minutes (an alert stream) watches
`STOPPING` and ends at once, so it neither holds the stop nor is cut by the timeout; the
browser's EventSource reconnects to a process that is still serving."""
from __future__ import annotations

import signal
import threading

STOPPING = threading.Event()


def on_terminate() -> None:
    """Set STOPPING when this process gets SIGTERM, then run the handler there was."""
    previous = signal.getsignal(signal.SIGTERM)

    def handle(signum, frame) -> None:
        STOPPING.set()
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, handle)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn had it: requests are not interrupted
