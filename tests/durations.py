"""Test files ordered by their recorded durations, longest first, and the recording itself.

`make test` runs pytest-xdist with `--dist loadfile`: each worker takes the next whole file
from the queue, in collection order. pytest-xdist's own order (most tests first) left long
files with few tests (browser, servers, clusters) for the end, where one worker ran them
while the other stood idle. Longest first (LPT scheduling) leaves only short files for the
end. The order comes from `tests/durations.json` (seconds per file, setup + call +
teardown, as the last recording measured them), committed so a fresh clone is ordered too
(pytest-xdist's reordering is turned off for it); files missing from it
(new ones) go first, as they may be long. `pytest --record-durations` rewrites the entries
of the files it ran and prints where the time went: by phase, by file, and the setup time
by fixture (each fixture's own function, without the fixtures it asks for).
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest

RECORD = Path(__file__).with_name("durations.json")
PHASES = ("setup", "call", "teardown")
FIXTURE_PROPERTY = "fixture_setup_seconds"  # carried on setup reports from xdist workers


def recorded() -> dict[str, float]:
    """Seconds per test file (path from the repository root) of the last recording."""
    try:
        return json.loads(RECORD.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def file_of(nodeid: str) -> str:
    """The test file a node id belongs to."""
    return nodeid.split("::", 1)[0]


def longest_files_first(items: list[pytest.Item]) -> None:
    """Reorder items in place: whole files, unrecorded ones first, then longest first.

    Items of one file keep their order and stay together (module fixtures are built once);
    the order is the same in every xdist worker, which pytest-xdist requires.
    """
    seconds = recorded()
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(file_of(item.nodeid), index)

    def key(item: pytest.Item) -> tuple[float, int]:
        path = file_of(item.nodeid)
        return -seconds.get(path, float("inf")), first_seen[path]

    items.sort(key=key)


class DurationRecorder:
    """Sums the reported duration of every phase of every test, by file and by phase."""

    def __init__(self) -> None:
        self.by_file: dict[str, float] = defaultdict(float)
        self.by_phase: dict[str, float] = defaultdict(float)
        self.by_file_phase: dict[tuple[str, str], float] = defaultdict(float)
        self.pending: dict[tuple[str, str], float] = defaultdict(float)  # this test's setup
        self.by_fixture: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self.pending[fixturedef.argname, fixturedef.scope] += time.perf_counter() - start

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if call.when == "setup":
            report.user_properties.append(
                (FIXTURE_PROPERTY, [[n, s, t] for (n, s), t in self.pending.items()]))
            self.pending.clear()
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when not in PHASES:
            return
        path = file_of(report.nodeid)
        self.by_file[path] += report.duration
        self.by_phase[report.when] += report.duration
        self.by_file_phase[path, report.when] += report.duration
        for key, value in report.user_properties:
            if key == FIXTURE_PROPERTY:
                for name, scope, secs in value:
                    entry = self.by_fixture[name, scope]
                    entry[0] += 1
                    entry[1] += secs

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):  # xdist workers: the controller records
            return
        merged = {**recorded(), **{p: round(s, 1) for p, s in self.by_file.items()}}
        RECORD.write_text(json.dumps(dict(sorted(merged.items())), indent=0) + "\n")

    def pytest_terminal_summary(self, terminalreporter) -> None:
        write = terminalreporter.write_line
        total = sum(self.by_phase.values())
        write(f"time in tests: {total:.1f} s; "
              + ", ".join(f"{p} {self.by_phase[p]:.1f} s" for p in PHASES)
              + f"; recorded in {RECORD.name}")
        for path, secs in sorted(self.by_file.items(), key=lambda kv: -kv[1])[:25]:
            write(f"{secs:8.1f} s  (setup {self.by_file_phase[path, 'setup']:6.1f})  {path}")
        write("setup time by fixture (its own function), the 30 largest:")
        write(f"{'seconds':>8}  {'setups':>6}  {'ms each':>8}  fixture (scope)")
        for (name, scope), (count, secs) in sorted(self.by_fixture.items(),
                                                   key=lambda kv: -kv[1][1])[:30]:
            write(f"{secs:8.1f}  {count:6d}  {1000 * secs / count:8.1f}  {name} ({scope})")
