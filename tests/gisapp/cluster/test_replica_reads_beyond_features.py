"""Rasters, the home page and SensorThings reads go to a real streaming replica once it has
replayed what they show, else to the primary: a raster replaced while the replica's replay
is paused is served from the primary (the replica's row still names the deleted file), and
a client that posted an observation reads it back while others read the replica."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from etl.rasters import import_raster
from gisapp.read_routing import READ_FLOOR_COOKIE, SOURCE_HEADER
from store.sensor_things import register_things
from tests.auth_helpers import make_token
from tests.etl.test_rasters import dem, write_tiff
from tests.gisapp.cluster.test_read_replicas import make_app  # noqa: F401
from tests.pg_cluster import PgReplica, ReplicatedDatabase
from tests.sensors.conftest import FEATURES

RASTER = "replica_dem"


def test_a_raster_replaced_during_replay_is_read_from_the_primary(
        replicated_db: ReplicatedDatabase, replica: PgReplica, make_app, tmp_path) -> None:
    data = tmp_path / "data"
    first = import_raster(replicated_db.url, RASTER, write_tiff(tmp_path / "a.tif", dem()), data)
    replica.catch_up()
    client = make_app().test_client()
    doc = client.get(f"/rasters/{RASTER}.json")
    assert doc.status_code == 200 and doc.headers[SOURCE_HEADER] == "replica-1"
    assert client.get(f"/rasters/{RASTER}.tif").headers[SOURCE_HEADER] == "replica-1"

    replica.pause_replay()
    second = import_raster(replicated_db.url, RASTER,
                           write_tiff(tmp_path / "b.tif", dem(1000.0)), data)
    assert second["path"] != first["path"]
    with psycopg.connect(replicated_db.read_url) as conn:  # the replica names the old file
        assert conn.execute("SELECT path FROM rasters WHERE name = %s",
                            (RASTER,)).fetchone()[0] == first["path"]
    tif = client.get(f"/rasters/{RASTER}.tif", headers={"Range": "bytes=0-99"})
    assert tif.status_code == 206 and tif.headers[SOURCE_HEADER] == "primary"
    doc = client.get(f"/rasters/{RASTER}.json")
    assert doc.headers[SOURCE_HEADER] == "primary"
    summary = client.get(f"/rasters/{RASTER}/summary?bbox=108.0,15.9,108.4,16.2")
    assert summary.headers[SOURCE_HEADER] == "primary", summary.get_data(as_text=True)

    replica.resume_replay()
    replica.catch_up()
    assert client.get(f"/rasters/{RASTER}.tif").headers[SOURCE_HEADER] == "replica-1"


@pytest.fixture(scope="module")
def sensors(replicated_db: ReplicatedDatabase) -> dict[str, int]:
    """The small monitored city's things on the replicated primary; datastream ids by code."""
    with psycopg.connect(replicated_db.url) as conn:
        conn.execute(FEATURES)
        register_things(conn)
        return dict(conn.execute("SELECT code, id FROM datastreams").fetchall())


def test_a_sensor_writer_reads_its_observation_while_others_read_the_replica(
        replicated_db: ReplicatedDatabase, replica: PgReplica, make_app, sensors) -> None:
    app = make_app()
    token = make_token(replicated_db.url, "etl_operator")
    ds = sensors["lake/HO-1/ph"]
    replica.catch_up()
    writer, reader = app.test_client(), app.test_client()
    things = reader.get("/sta/v1.1/Things")
    assert things.status_code == 200 and things.headers[SOURCE_HEADER] == "replica-1"
    assert len(things.get_json()["value"]) >= 6
    home = reader.get("/", headers={"Accept": "text/html"})
    assert home.status_code == 200 and home.headers[SOURCE_HEADER] == "replica-1"

    replica.pause_replay()
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=2)
    posted = writer.post("/sta/v1.1/Observations",
                         json={"phenomenonTime": when.isoformat(), "result": 7.25,
                               "Datastream": {"@iot.id": ds}},
                         headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 201, posted.get_json()
    assert writer.get_cookie(READ_FLOOR_COOKIE) is not None
    path = f"/sta/v1.1/Datastreams({ds})/Observations"
    own = writer.get(path)
    assert own.headers[SOURCE_HEADER] == "primary"
    assert [o["result"] for o in own.get_json()["value"]] == [7.25]
    other = reader.get(path)
    assert other.headers[SOURCE_HEADER] == "replica-1"  # observations carry no version
    assert other.get_json()["value"] == []
    series = f"/api/live/datastreams/{ds}/series"  # the live map's feeds follow the same rule
    own_series, other_series = writer.get(series), reader.get(series)
    assert own_series.headers[SOURCE_HEADER] == "primary"
    assert [p[1] for p in own_series.get_json()["points"]] == [7.25]
    assert other_series.headers[SOURCE_HEADER] == "replica-1"
    assert other_series.get_json()["points"] == []
    assert reader.get("/api/live/state").headers[SOURCE_HEADER] == "replica-1"

    replica.resume_replay()
    replica.catch_up()
    assert [o["result"] for o in reader.get(path).get_json()["value"]] == [7.25]
