"""A small monitored city for the sensor tests: a few assets of every thing kind, registered.

Each test file gets it once (its own database, `<test db>_sensors`), so the write tests can
add readings without disturbing the demo-city database.
"""
from __future__ import annotations

import psycopg
import pytest

from store.sensor_things import register_things

FEATURES = """
INSERT INTO drainage_nodes (node_id, kind, geom) VALUES
  ('TB-1', 'pump_station', ST_SetSRID(ST_MakePoint(108.2200, 16.0600), 4326)),
  ('TB-2', 'pump_station', ST_SetSRID(ST_MakePoint(108.2210, 16.0610), 4326)),
  ('HG-1', 'manhole', ST_SetSRID(ST_MakePoint(108.2220, 16.0620), 4326));
INSERT INTO water (water_id, name, kind, geom) VALUES
  ('HO-1', 'Hồ Thạc Gián', 'lake', ST_Multi(ST_Buffer(ST_SetSRID(
      ST_MakePoint(108.2150, 16.0580), 4326), 0.001))),
  ('SONG-HAN', 'Sông Hàn', 'river', ST_Multi(ST_Buffer(ST_SetSRID(
      ST_MakePoint(108.2250, 16.0700), 4326), 0.002)));
INSERT INTO lighting_cabinets (cabinet_id, name, geom) VALUES
  ('TU-1', 'Tủ Bạch Đằng 1', ST_SetSRID(ST_MakePoint(108.2230, 16.0630), 4326));
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-1', 'Trạm đo mưa Hải Châu', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326)),
  ('DM-2', 'Trạm đo mưa Thanh Khê', '20200', ST_SetSRID(ST_MakePoint(108.1900, 16.0650), 4326));
"""


@pytest.fixture(scope="module")
def sensor_url(own_database) -> str:
    """A migrated database holding the small monitored city, its things and datastreams."""
    url = own_database("sensors")
    with psycopg.connect(url) as conn:
        conn.execute(FEATURES)
        register_things(conn)
    return url


@pytest.fixture(scope="module")
def streams(sensor_url: str) -> dict[str, int]:
    """Datastream ids by code (pump_station/TB-1/flow)."""
    with psycopg.connect(sensor_url) as conn:
        return dict(conn.execute("SELECT code, id FROM datastreams").fetchall())
