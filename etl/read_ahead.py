"""Read ahead: the next batch of a source is read in a thread while the current one is loaded."""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield `items`, producing up to `depth` of them ahead in a thread of their own.

    GDAL, GEOS and Arrow release the GIL, so reading batch k+1 overlaps checking and
    staging batch k. Memory holds `depth` more batches. An exception of the producer is
    raised here, at the item it would have been; closing the iterator stops the producer.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, stop, (item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            _put(ready, stop, (_END, exc))
            return
        _put(ready, stop, (_END, None))

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _put(ready: queue.Queue, stop: threading.Event, entry: tuple) -> bool:
    """Put unless the consumer stopped; False when it did."""
    while not stop.is_set():
        try:
            ready.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
