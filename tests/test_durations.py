"""The order test files run in: unrecorded first, then longest first, files kept whole."""
from __future__ import annotations

from dataclasses import dataclass

from tests import durations


@dataclass
class Node:
    nodeid: str


def test_files_run_unrecorded_first_then_longest_first_and_stay_whole(monkeypatch):
    monkeypatch.setattr(durations, "recorded", lambda: {"tests/a.py": 1.0, "tests/b.py": 90.0,
                                                        "tests/c.py": 30.0})
    items = [Node(n) for n in ("tests/a.py::t1", "tests/b.py::t1", "tests/a.py::t2",
                               "tests/new.py::t1", "tests/c.py::t[1]", "tests/b.py::t2",
                               "tests/c.py::t[2]")]
    durations.longest_files_first(items)
    assert [i.nodeid for i in items] == [
        "tests/new.py::t1", "tests/b.py::t1", "tests/b.py::t2", "tests/c.py::t[1]",
        "tests/c.py::t[2]", "tests/a.py::t1", "tests/a.py::t2"]


def test_the_committed_record_names_existing_files_with_seconds():
    record = durations.recorded()
    assert len(record) > 100
    assert all(path.startswith("tests/") and path.endswith(".py") and seconds >= 0
               for path, seconds in record.items())
