"""The ETL console in Chromium: an operator uploads a file, watches the run finish,
reads its rejects, and manages a schedule; other roles are kept out."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from layers import LAYERS
from tests.served import stop_group
from tests.world import row_values

READY = "() => document.getElementById('etl-app')?.dataset.ready === 'true'"
GISAPP = Path(sys.executable).with_name("gisapp")
GOOD, BAD = 5, 2


def point_layer():
    """The first point layer of the registry (the test names no layer)."""
    return next(layer for layer in LAYERS.values() if layer.geometry_type == "Point")


def points_file(folder: Path, city) -> Path:
    """GeoJSON: GOOD points in the known city, then BAD ones in Paris (outside the city)."""
    layer = point_layer()
    lon, lat = city.middle()
    features = []
    for i in range(GOOD + BAD):
        where = [lon + i * 1e-4, lat] if i < GOOD else [2.35, 48.85]
        # rows from 100 on: keys apart from the known city's own row 0
        features.append({"type": "Feature", "properties": row_values(layer, 100 + i),
                         "geometry": {"type": "Point", "coordinates": where}})
    path = folder / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture()
def worker(live_server, tmp_path):
    """`gisapp worker` on the live server's database and data directory."""
    env = {**os.environ, "DATABASE_URL": live_server.database_url,
           "GISAPP_DATA_DIR": str(live_server.data_dir)}
    log = open(tmp_path / "worker.log", "wb")
    proc = subprocess.Popen([str(GISAPP), "worker", "--tick", "1", "--heartbeat", "1"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    stop_group(proc)
    log.close()


def test_an_operator_uploads_a_file_watches_it_finish_and_reads_its_rejects(
        session, city, live_server, worker, tmp_path):
    session.sign_in(live_server.database_url, "etl_operator")
    session.page.goto("/etl")
    session.page.wait_for_function(READY, timeout=30_000)
    session.page.set_input_files("#up-file", str(points_file(tmp_path, city)))
    session.page.select_option("#up-layer", point_layer().id)
    session.page.select_option("#up-mode", "append")
    session.page.fill("#up-crs", "EPSG:4326")
    session.page.click("#upload button[type=submit]")
    status = session.page.locator("#progress dd[data-field='status']")
    status.wait_for()
    session.page.wait_for_function(
        "() => document.querySelector(\"#progress dd[data-field='status']\")?.dataset.status"
        " === 'succeeded'", timeout=90_000)
    assert session.page.inner_text("#progress dd[data-field='rows_loaded']") == str(GOOD)
    assert session.page.inner_text("#progress dd[data-field='rows_rejected']") == str(BAD)
    session.page.click("#progress button")
    rejects = session.page.locator("table.rejects tbody tr")
    rejects.first.wait_for()
    assert rejects.count() == BAD
    assert session.page.locator("table.runs tbody tr").count() >= 1
    csv_href = session.page.get_attribute("table.rejects a.csv", "href")
    csv_text = session.page.evaluate("async (u) => (await fetch(u)).text()", csv_href)
    assert len(csv_text.strip().splitlines()) == BAD + 1
    session.screenshot("etl_console", full_page=True)
    assert session.console_errors == []


def next_run_times(row) -> list[str]:
    """The schedule row's next run times as shown (hh:mm, in the schedule's time zone)."""
    return [re.search(r"\d\d:\d\d", text).group(0)
            for text in row.locator("ul.next-runs time").all_inner_texts()]


def test_an_operator_creates_edits_and_pauses_a_schedule_and_sees_its_next_runs(
        session, live_server):
    session.sign_in(live_server.database_url, "etl_operator")
    session.page.goto("/etl")
    session.page.wait_for_function(READY, timeout=30_000)
    session.page.fill("#s-source", "https://example.org/points.geojson")
    session.page.fill("#s-cron", "0 2 * * *")
    session.page.click("#new-schedule button[type=submit]")
    row = session.page.locator("table.schedules tbody tr[data-schedule]").last
    row.wait_for()
    assert "0 2 * * *" in row.inner_text()
    assert next_run_times(row) == ["02:00"] * 3  # daily at 02:00 in the schedule's zone
    shown = row.locator("ul.next-runs time").evaluate_all("(ts) => ts.map((t) => t.dateTime)")
    days = [datetime.fromisoformat(iso) for iso in shown]
    assert [(b - a).total_seconds() for a, b in zip(days, days[1:])] == [86_400.0] * 2
    schedule_id = row.get_attribute("data-schedule")
    row.locator("button.edit").click()
    assert session.page.input_value("#s-cron") == "0 2 * * *"
    session.page.fill("#s-cron", "30 3 * * *")
    session.page.click("#new-schedule button[type=submit]")
    edited = session.page.locator(f"table.schedules tbody tr[data-schedule='{schedule_id}']")
    session.page.wait_for_function(
        "(id) => document.querySelector(`table.schedules tr[data-schedule='${id}']`)"
        "?.textContent.includes('30 3 * * *')", arg=schedule_id)
    assert session.page.locator("table.schedules tbody tr[data-schedule]").count() == 1
    assert next_run_times(edited) == ["03:30"] * 3
    assert session.page.is_hidden("#s-cancel")
    session.screenshot("etl_schedules", full_page=True)
    edited.locator("button.toggle").click()
    session.page.wait_for_function(
        "(id) => document.querySelector(`table.schedules tr[data-schedule='${id}']`)"
        "?.dataset.enabled === 'false'", arg=schedule_id)
    assert next_run_times(edited) == []
    assert session.console_errors == []


def test_other_roles_are_kept_out_of_the_console(session, live_server):
    session.page.goto("/etl")
    assert "/login" in session.page.url
    session.sign_in(live_server.database_url, "planner")
    assert session.page.locator("nav a[href='/etl']").count() == 0
    assert session.page.goto("/etl").status == 403


def test_the_console_has_no_serious_accessibility_violations(session, live_server):
    session.sign_in(live_server.database_url, "etl_operator")
    assert session.page.locator("nav a[href='/etl']").count() == 1
    session.page.goto("/etl")
    session.page.wait_for_function(READY, timeout=30_000)
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
