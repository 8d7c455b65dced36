"""PgBouncer in transaction mode: `gisapp pgbouncer`, and every connection kind through it."""
from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from gisapp import create_app
from gisapp.db.timeouts import etl_conninfo
from gisapp.pgbouncer import pooled_url
from gisapp.settings import Settings
from layers import LAYERS, Access
from tests.pgbouncer import pgbouncer, pooler_for  # noqa: F401
from tests.served import free_port
from tiles.grid import Tile, tile_of
from tiles.sql import render_tile

DRAGON_BRIDGE = (108.22705602, 16.06114045)


def _pooled_app(pooler, direct_url: str, data_dir: Path, **config):
    return create_app({"DATABASE_URL": pooled_url(pooler), "DATABASE_POOLER": "transaction",
                       "DATABASE_DIRECT_URL": direct_url, "TESTING": True, "SECRET_KEY": "test",
                       "DATA_DIR": data_dir, "PUBLIC_URL": "http://localhost",
                       "DB_POOL_SIZE": 4, **config})


@pytest.mark.cluster
def test_cli_starts_reports_and_stops_pgbouncer(runner, test_url):
    prefix = Path(tempfile.mkdtemp(prefix="gisapp-pgbouncer-cli-"))
    prefix.chmod(0o755)
    listen = f"127.0.0.1:{free_port()}"
    try:
        started = runner("pgbouncer", "start", "--prefix", str(prefix), "--listen", listen)
        assert started.exit_code == 0, started.output
        assert "DATABASE_POOLER=transaction" in started.output
        status = runner("pgbouncer", "status", "--prefix", str(prefix))
        assert status.exit_code == 0 and "is running" in status.output and listen in status.output
        url = test_url.replace(test_url.split("@")[1].split("/")[0], listen)
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            # what `options` gives a direct connection, the pooler's connect_query gives here
            assert conn.execute("SHOW jit").fetchone()[0] == "off"
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "30s"
        assert "pool_mode = transaction" in (prefix / "pgbouncer.ini").read_text()
        assert (prefix / "userlist.txt").stat().st_mode & 0o077 == 0
    finally:
        stopped = runner("pgbouncer", "stop", "--prefix", str(prefix))
        shutil.rmtree(prefix, ignore_errors=True)
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    gone = runner("pgbouncer", "status", "--prefix", str(prefix))
    assert gone.exit_code == 3 and "not running" in gone.output


def test_missing_pgbouncer_is_a_clear_error(runner, tmp_path):
    result = runner("pgbouncer", "start", "--prefix", str(tmp_path),
                    env={"GISAPP_PGBOUNCER": "no-such-pgbouncer"})
    assert result.exit_code == 1
    assert "PgBouncer is not installed (no-such-pgbouncer not found)" in result.output
    assert "apt-get install pgbouncer" in result.output


def test_transaction_pooler_needs_a_direct_url():
    with pytest.raises(ValueError, match="DATABASE_POOLER=transaction needs DATABASE_DIRECT_URL"):
        Settings.load({"DATABASE_URL": "postgresql://u:p@pooler:6432/gisapp",
                       "DATABASE_POOLER": "transaction"}, environ={})
    with pytest.raises(ValueError, match="DATABASE_POOLER must be one of off, transaction"):
        Settings.load({"DATABASE_POOLER": "session"}, environ={})


def test_imports_and_the_worker_use_the_direct_url():
    settings = Settings.load({"DATABASE_URL": "postgresql://u:p@pooler:6432/gisapp",
                              "DATABASE_POOLER": "transaction",
                              "DATABASE_DIRECT_URL": "postgresql://u:p@primary:5432/gisapp"},
                             environ={})
    assert etl_conninfo(settings).startswith("postgresql://u:p@primary:5432/gisapp?options=")
    assert not settings.prepares_statements


def _some_tiles(n: int) -> list[Tile]:
    x, y = tile_of(*DRAGON_BRIDGE, 16)
    return [Tile(16, x + dx, y + dy) for dx in range(-2, 3) for dy in range(-2, 3)][:n]


def test_web_tiles_and_lookups_work_through_the_pooler(pgbouncer, test_url, tmp_path):
    """4 threads, each with its own pooled connection, over 2 server connections: every
    statement kind runs often enough that psycopg would have prepared it (5 times)."""
    app = _pooled_app(pgbouncer, test_url, tmp_path / "data", TILE_CACHE="off")
    try:
        assert app.extensions["tiles"].versions.conninfo == test_url  # LISTEN goes direct
        tiles = _some_tiles(12)
        paths = ([f"/tiles/{','.join(LAYERS)}/{t.z}/{t.x}/{t.y}.mvt" for t in tiles]
                 + ["/collections/parcels/items?limit=5&offset=%d" % i for i in range(8)]
                 + ["/api/parcels/at?lon=%f&lat=%f" % (DRAGON_BRIDGE[0] + i * 1e-4,
                                                        DRAGON_BRIDGE[1]) for i in range(8)]
                 + ["/readyz"] * 6)

        def fetch(path: str) -> tuple[str, int, bytes]:
            resp = app.test_client().get(path)
            return path, resp.status_code, resp.data[:300]

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(fetch, paths * 2))
        bad = [(p, s, body) for p, s, body in results if s not in (200, 204, 404)]
        assert not bad
        assert sum(s == 200 for p, s, _ in results if "/tiles/" in p) >= 12
        assert all(s == 200 for p, s, _ in results if "/collections/" in p or "/readyz" in p)
    finally:
        app.extensions["engine"].dispose()


@pytest.fixture(scope="module")
def one_connection_pooler(test_url):
    """Every client of this pooler shares ONE server connection, as under load."""
    with pooler_for(test_url, pool_size=1) as cfg:
        yield cfg


@pytest.mark.cluster
def test_prepared_tile_statements_break_through_the_pooler(one_connection_pooler, test_url):
    url = pooled_url(one_connection_pooler)
    layers, tile = tuple(LAYERS.values()), _some_tiles(1)[0]
    levels = frozenset({Access.PUBLIC})
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        render_tile(a, layers, tile, levels, prepare=True)
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            render_tile(b, layers, tile, levels, prepare=True)  # a's name on the same server
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        for conn in (a, b, a, b):  # DATABASE_POOLER=transaction: unnamed statements only
            assert render_tile(conn, layers, tile, levels, prepare=False).data


@pytest.mark.cluster
def test_layer_locks_do_not_hold_through_the_pooler(one_connection_pooler):
    """Why imports use DATABASE_DIRECT_URL: a session-level advisory lock taken through a
    transaction pooler belongs to a server connection other clients are lent too."""
    url = pooled_url(one_connection_pooler)
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        lock = "SELECT pg_try_advisory_lock(hashtext('gisapp.layer'), hashtext('parcels'))"
        assert a.execute(lock).fetchone()[0] is True
        assert b.execute(lock).fetchone()[0] is True  # the "other" run gets it as well
        a.execute("SELECT pg_advisory_unlock_all()")
