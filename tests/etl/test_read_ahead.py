"""read_ahead: batches produced in a thread, in order, errors raised where they happened."""
from __future__ import annotations

import threading

import pytest

from etl.read_ahead import read_ahead


def test_items_come_in_order_from_another_thread():
    threads = []

    def produce():
        for i in range(5):
            threads.append(threading.current_thread().name)
            yield i

    assert list(read_ahead(produce())) == [0, 1, 2, 3, 4]
    assert set(threads) == {"read-ahead"}


def test_a_producer_error_is_raised_after_the_items_before_it():
    def produce():
        yield 1
        raise ValueError("bad batch 2")

    seen = []
    with pytest.raises(ValueError, match="bad batch 2"):
        for item in read_ahead(produce()):
            seen.append(item)
    assert seen == [1]


def test_closing_early_stops_the_producer():
    produced = []

    def produce():
        for i in range(1000):
            produced.append(i)
            yield i

    items = read_ahead(produce(), depth=1)
    assert next(items) == 0
    items.close()  # joins the producer
    assert len(produced) <= 3
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
