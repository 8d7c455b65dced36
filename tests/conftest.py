"""Shared fixtures: a real PostGIS test database (demo city) and a scratch database.

`TEST_DATABASE_URL` names the demo-city test database (`make test` provisions, migrates and
loads it). Tests must not change its data. Tests that write use `scratch_url`: a second
database beside it, migrated once and emptied before each test that asks for it.
"""
from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from gisapp import create_app
from gisapp.db import migrate, provision
from gisapp.settings import LOCAL_TEST_DATABASE_URL

TEST_URL = os.environ.get("TEST_DATABASE_URL", LOCAL_TEST_DATABASE_URL)
ROOT = Path(__file__).resolve().parent.parent
# The test client reaches the app at http://localhost (Flask's default); the app's
# absolute URLs and its host check follow the configured public URL.
PUBLIC_URL = "http://localhost"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _with_dbname(url: str, dbname: str) -> str:
    base, _, _ = provision.libpq_url(url).rpartition("/")
    return f"{base}/{dbname}"


def _prepare(url: str) -> None:
    if provision.is_local_url(url):
        provision.ensure_database(url, log=lambda m: None)
    else:
        dbname = url.rpartition("/")[2]
        with psycopg.connect(provision.libpq_url(TEST_URL), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", (dbname,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        provision.ensure_database(url, log=lambda m: None)
    migrate.upgrade(url)


@pytest.fixture(scope="session")
def test_url() -> str:
    _prepare(TEST_URL)
    return provision.libpq_url(TEST_URL)


@pytest.fixture(scope="session")
def _scratch_ready() -> str:
    url = _with_dbname(TEST_URL, provision.libpq_url(TEST_URL).rpartition("/")[2] + "_scratch")
    _prepare(url)
    return url


KEEP_TABLES = {"spatial_ref_sys", "alembic_version"}


@pytest.fixture()
def scratch_url(_scratch_ready: str) -> str:
    """An empty, migrated database of our own; emptied before each test."""
    with psycopg.connect(_scratch_ready, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if r[0] not in KEEP_TABLES]
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
    return _scratch_ready


@pytest.fixture()
def app(test_url: str, tmp_path: Path):
    app = create_app({"DATABASE_URL": test_url, "TESTING": True, "DATA_DIR": tmp_path / "data",
                      "SECRET_KEY": "test", "PUBLIC_URL": PUBLIC_URL})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def scratch_app(scratch_url: str, tmp_path: Path):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True,
                      "DATA_DIR": tmp_path / "data", "SECRET_KEY": "test",
                      "IMPORT_DIR": tmp_path / "imports",  # schedules name paths under it
                      "PUBLIC_URL": PUBLIC_URL})
    yield app
    app.extensions["engine"].dispose()


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
