"""Heavy and slow requests are contained: statement timeouts per kind of connection become a
503 `query_timeout`, and concurrent maximum feature pages leave /healthz answering."""
from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gisapp import create_app
from gisapp.cli import cli
from layers.land import PARCELS
from tests.gisapp.etl_ops.conftest import geojson_points, point_layer
from tests.served import get, gunicorn
from tiles.grid import tile_of

MAX_PAGE = f"/collections/{PARCELS.id}/items?limit=10000"
CENTRE = (108.223, 16.067)  # central Da Nang, where the demo city's parcels are


def _app(test_url: str, tmp_path: Path, **settings):
    return create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                       "DATA_DIR": tmp_path / "data", **settings})


def _assert_query_timeout(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "query_timeout"
    assert "statement timeout" in error["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_a_feature_page_past_the_web_statement_timeout_is_a_503(test_url, tmp_path):
    app = _app(test_url, tmp_path, WEB_STATEMENT_TIMEOUT_MS=25)
    try:
        client = app.test_client()
        started = time.monotonic()
        _assert_query_timeout(client.get(MAX_PAGE))  # 10,000 parcels as GeoJSON: ~60 ms of SQL
        assert time.monotonic() - started < 10
        # the cancelled statement left its pooled connection usable for the next request: one
        # parcel by its id, well inside 25 ms even on a busy machine (a page of one also
        # counts the 250,000 matches, which may not be)
        with psycopg.connect(test_url) as conn:
            first = conn.execute(sql.SQL("SELECT min(id) FROM {}").format(
                sql.Identifier(PARCELS.table))).fetchone()[0]
        small = client.get(f"/collections/{PARCELS.id}/items/{first}")
        assert small.status_code == 200, small.get_data(as_text=True)[:300]
        assert small.get_json()["id"] == first
    finally:
        app.extensions["engine"].dispose()


def test_a_tile_past_the_tile_statement_timeout_is_a_503(test_url, tmp_path):
    """The tile's statement waits on a lock another session holds, until its timeout."""
    app = _app(test_url, tmp_path, TILE_STATEMENT_TIMEOUT_MS=300, TILE_CACHE="off")
    x, y = tile_of(*CENTRE, 16)
    path = f"/tiles/{PARCELS.id}/16/{x}/{y}.mvt"
    try:
        client = app.test_client()
        assert client.get(path).status_code == 200
        with psycopg.connect(test_url) as locker:
            locker.execute(f"LOCK TABLE {PARCELS.table} IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            _assert_query_timeout(client.get(path))
            assert time.monotonic() - started < 10
            locker.rollback()
        assert client.get(path).status_code == 200
    finally:
        app.extensions["engine"].dispose()


def test_web_connections_idle_in_a_transaction_are_closed(test_url, tmp_path):
    app = _app(test_url, tmp_path, IDLE_IN_TRANSACTION_TIMEOUT_MS=200)
    try:
        with app.extensions["engine"].connect() as conn:
            conn.execute(text("SELECT 1"))  # opens the transaction
            time.sleep(1.0)
            with pytest.raises(DBAPIError, match="idle-in-transaction timeout"):
                conn.execute(text("SELECT 1"))
    finally:
        app.extensions["engine"].dispose()


def test_etl_connections_have_their_own_statement_timeout(scratch_url, tmp_path, monkeypatch):
    """Tiny web and tile timeouts leave imports alone; a tiny ETL timeout cuts them."""
    layer = point_layer()
    source = tmp_path / "points.geojson"
    source.write_bytes(geojson_points(layer, 3000))
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    monkeypatch.setenv("GISAPP_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    env = {"GISAPP_WEB_STATEMENT_TIMEOUT_MS": "1", "GISAPP_TILE_STATEMENT_TIMEOUT_MS": "1"}
    result = runner.invoke(cli, ["etl", "import", layer.id, str(source)], env=env)
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    result = runner.invoke(cli, ["etl", "import", layer.id, str(source)],
                           env={"GISAPP_ETL_STATEMENT_TIMEOUT_MS": "1"})
    assert result.exit_code != 0
    assert "statement timeout" in result.output


def test_concurrent_maximum_pages_do_not_starve_healthz(test_url, tmp_path):
    """8 clients asking for 10,000-feature pages at once against 2 workers x 2 threads."""
    clients, seconds = 8, 8.0
    answers: list[tuple[int, dict, bytes]] = []
    stop = threading.Event()

    def heavy() -> None:
        while not stop.is_set():
            status, headers, body = get(port, MAX_PAGE, timeout=120)
            answers.append((status, headers, body[:400]))
            if status == 503:
                stop.wait(float(headers.get("retry-after", 1)) / 4)

    with gunicorn(test_url, tmp_path / "data", workers=2, threads=2) as port:
        threads = [threading.Thread(target=heavy) for _ in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every worker is busy with a page by now
        healthz = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            status, _, _ = get(port, "/healthz", timeout=120)
            healthz.append(time.monotonic() - started)
            assert status == 200
            time.sleep(0.25)
        stop.set()
        for thread in threads:
            thread.join()
    print(f"healthz during {clients} max pages: median {statistics.median(healthz):.3f} s, "
          f"max {max(healthz):.3f} s over {len(healthz)}; pages {len(answers)}")
    assert statistics.median(healthz) < 0.5, healthz
    assert max(healthz) < 5.0, healthz
    assert any(status == 200 for status, _, _ in answers)
    for status, headers, body in answers:
        assert status in (200, 503), (status, body)
        if status == 503:
            assert json.loads(body)["error"]["code"] == "busy" and "retry-after" in headers
