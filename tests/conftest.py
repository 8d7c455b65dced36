"""Shared fixtures: a real PostGIS test database (demo city) and a scratch database.

`TEST_DATABASE_URL` names the demo-city test database (`make test` provisions, migrates and
loads it). Tests must not change its data. Tests that write use `scratch_url`: a second
database beside it, migrated once and emptied before each test that asks for it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from gisapp import create_app
from gisapp.db import provision
from gisapp.settings import LOCAL_TEST_DATABASE_URL
from tests import databases, durations
from tests.shared_app import shared

TEST_URL = os.environ.get("TEST_DATABASE_URL", LOCAL_TEST_DATABASE_URL)
ROOT = Path(__file__).resolve().parent.parent
# The test client reaches the app at http://localhost (Flask's default); the app's
# absolute URLs and its host check follow the configured public URL.
PUBLIC_URL = "http://localhost"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# Markers by the fixtures a test uses (directly or through other fixtures), so that
# `pytest -m "not browser and not cluster"` (make test-fast) needs no list of files.
MARKS_BY_FIXTURE = {"test_url": "db", "own_database": "db", "pg_cluster": "cluster",
                    "pgbouncer": "cluster",
                    "browser": "browser", "worker": "worker", "start_worker": "worker"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-durations", action="store_true",
                     help="write each file's seconds to tests/durations.json (the order of "
                          "files) and print where the time went, by phase and by file")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # keep our order: longest files first
        config.option.loadscopereorder = False
    if config.getoption("record_durations"):
        config.pluginmanager.register(durations.DurationRecorder(), "gisapp-durations")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for mark in sorted({m for f, m in MARKS_BY_FIXTURE.items() if f in used}):
            item.add_marker(mark)
        if "cluster" in item.keywords:
            item.add_marker("db")
    durations.longest_files_first(items)


@pytest.fixture(scope="session")
def test_url() -> str:
    """The demo-city test database; under pytest-xdist, this worker's clone of it."""
    with databases.locked(databases.dbname(TEST_URL)):  # workers migrate it one at a time
        databases.prepare(TEST_URL, TEST_URL)
    if not databases.WORKER:
        return provision.libpq_url(TEST_URL)
    return databases.clone(TEST_URL, databases.dbname(databases.per_worker(TEST_URL)))


@pytest.fixture(scope="session")
def own_database():
    """Makes an empty, migrated database of our own beside the test database, named with a
    suffix (`gisapp_test_scratch`, `gisapp_test_gw1_lights`); returns its URL."""

    def make(suffix: str) -> str:
        url = databases.per_worker(TEST_URL)
        url = databases.with_dbname(url, f"{databases.dbname(url)}_{suffix}")
        databases.prepare(url, TEST_URL)
        databases.reset(url, databases.public_tables(url))  # whatever an earlier session left
        return url

    return make


@pytest.fixture(scope="session")
def _scratch_ready(own_database) -> str:
    return own_database("scratch")


@pytest.fixture(scope="session")
def _scratch_tables(_scratch_ready: str) -> list[str]:
    return databases.public_tables(_scratch_ready)


@pytest.fixture()
def scratch_url(_scratch_ready: str, _scratch_tables: list[str]) -> str:
    """An empty, migrated database of our own; emptied before each test."""
    databases.reset(_scratch_ready, _scratch_tables)
    return _scratch_ready


@pytest.fixture(scope="session")
def _kept_world(_scratch_ready: str, _scratch_tables: list[str]) -> databases.KeptWorld:
    return databases.KeptWorld(_scratch_ready, _scratch_tables)


@pytest.fixture()
def kept_world(_kept_world: databases.KeptWorld):
    """`kept_world(build)`: the scratch database holding the world `build(url)` makes, built
    again only when an earlier test changed it (a module overrides `scratch_url` with it)."""
    return _kept_world.ensure


def demo_app_config(test_url: str, data_dir: Path) -> dict:
    """The configuration of an app over the demo-city test database."""
    return {"DATABASE_URL": test_url, "TESTING": True, "DATA_DIR": data_dir,
            "SECRET_KEY": "test", "PUBLIC_URL": PUBLIC_URL}


@pytest.fixture(scope="session")
def demo_app(test_url: str, tmp_path_factory):
    """One app over this worker's demo-city database for the whole session (creating one
    costs about 0.25 s, mostly compiling the URL rules). Its tests only read: the database
    is this worker's clone, which no test writes, and `app` fails a test that changes the
    app itself (a test that must change it builds its own with `demo_app_config`)."""
    app = create_app(demo_app_config(test_url, tmp_path_factory.mktemp("demo-app") / "data"))
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def app(demo_app):
    """The session's demo app, lent to this test (`shared`)."""
    with shared(demo_app):
        yield demo_app


def _scratch_app(url: str, root: Path):
    return create_app({"DATABASE_URL": url, "TESTING": True,
                       "DATA_DIR": root / "data", "SECRET_KEY": "test",
                       "IMPORT_DIR": root / "imports",  # schedules name paths under it
                       "PUBLIC_URL": PUBLIC_URL})


@pytest.fixture(scope="session")
def _kept_app() -> Iterator[dict]:
    """The app over a kept world, with the number of the build it was made after."""
    held: dict = {}
    yield held
    if held:
        held["app"].extensions["engine"].dispose()


@pytest.fixture()
def scratch_app(request: pytest.FixtureRequest, scratch_url: str, tmp_path: Path,
                tmp_path_factory):
    """An app over the scratch database. In a module of a kept world (its `scratch_url` asks
    for `kept_world`), one app while the world stays as built, lent to each test (`shared`):
    made again when the world is, so no cache of the app outlives the data it came from."""
    if "kept_world" not in request.fixturenames:
        app = _scratch_app(scratch_url, tmp_path)
        yield app
        app.extensions["engine"].dispose()
        return
    kept, held = request.getfixturevalue("_kept_world"), request.getfixturevalue("_kept_app")
    if held.get("builds") != kept.builds:
        if held:
            held["app"].extensions["engine"].dispose()
        held.update(app=_scratch_app(scratch_url, tmp_path_factory.mktemp("kept-app")),
                    builds=kept.builds)
    with shared(held["app"]):
        yield held["app"]


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(monkeypatch, test_url):
    """Runs `gisapp …` in-process against the test database."""
    from gisapp.cli import cli

    monkeypatch.setenv("DATABASE_URL", test_url)
    cli_runner = CliRunner()

    def invoke(*args: str, env: dict | None = None):
        return cli_runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def map_assets() -> Path:
    """The glyphs and sprite `make test` builds into the test data directory (`gisapp fonts
    build`, `gisapp sprite build`); built here when missing (glyphs: about half a minute)."""
    from tiles.fonts import build_fonts
    from tiles.sprite import build_sprite

    data = Path(os.environ.get("GISAPP_TEST_DATA_DIR", "/var/lib/gisapp/test-data"))
    directory = data / "map-assets"
    with databases.locked("map-assets"):  # one xdist worker builds, the others find them built
        build_fonts(directory / "fonts")
        build_sprite(directory / "sprite")
    return directory


@pytest.fixture(scope="session")
def fonts_dir(map_assets: Path) -> Path:
    return map_assets / "fonts"


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, one for the session (Playwright allows one sync instance)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
