"""A small known site in EPSG:5899, built in the scratch database, with the seeded rules.

Local metres (x, y) are offsets from E 550 800, N 1 776 400 (near the Dragon Bridge):
- parcel 20242-20245-14-125: x 0..10, y 0..20 (200 m²), legal area 200.0;
- road reserve R1 (14 m wide street): x -20..30, y -12..2, so 20 m² of the parcel lies in it;
- zone Z1 (residential, max coverage 80 %, 5 floors, 22 m): x -50..50, y -50..50;
- drainage pipe P1 (800 mm, corridor 2 m each side): x = 12, y -5..30;
- flood zone F1 (medium, 0.4 m): x 5..15, y 10..30, so 50 m² (25 %) of the parcel;
- heritage area H1 (protection zone II): x -5..2, y 15..25, so 10 m² (5 %) of the parcel;
- elevation raster (1 m pixels): 3.0 m everywhere except 1.8 m over x 0..10, y 0..5.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import psycopg
import pytest

from gisapp.db.engine import make_engine
from layers.city import CITY
from tests.gisapp.permits.known_site import copy_rules, rect, line, to_4326, write_elevation


@pytest.fixture(scope="session")
def build_site(test_url: str, tmp_path_factory) -> Callable[[str], None]:
    """Builds the known site into a database; its elevation raster is written once."""
    tif = tmp_path_factory.mktemp("site") / "elevation.tif"
    write_elevation(tif)

    def build(url: str) -> None:
        _build_site(url, test_url, tif)
    return build


@pytest.fixture()
def scratch_url(kept_world, build_site) -> str:
    """The known site (built once, kept while the tests leave it unchanged)."""
    return kept_world(build_site)


@pytest.fixture()
def site_url(scratch_url: str) -> str:
    return scratch_url


def _build_site(scratch_url: str, test_url: str, tif: Path) -> None:
    copy_rules(test_url, scratch_url)
    with psycopg.connect(scratch_url) as c:
        c.execute("INSERT INTO parcels (ward_code, former_ward_code, sheet_no, parcel_no, "
                  "land_use, legal_area, geom) VALUES ('20242','20245',14,125,'ODT',200.0,"
                  + to_4326("%s") + ")", (rect(0, 0, 10, 20),))
        c.execute("INSERT INTO road_reserves (reserve_id, road_name, reserve_width_m, geom) "
                  "VALUES ('R1', 'Bạch Đằng', 14.0, " + to_4326("%s") + ")",
                  (rect(-20, -12, 30, 2),))
        c.execute("INSERT INTO zoning (zone_code, category, max_coverage, max_floors, "
                  "max_height_m, plan_ref, geom) VALUES ('Z1', 'residential', 80, 5, 22, "
                  "'QĐ 1234/QĐ-UBND', " + to_4326("%s") + ")", (rect(-50, -50, 50, 50),))
        c.execute("INSERT INTO drainage_pipes (pipe_id, from_node, to_node, diameter_mm, geom) "
                  "VALUES ('P1', 'N1', 'N2', 800, " + to_4326("%s", multi=False) + ")",
                  (line(12, -5, 12, 30),))
        c.execute("INSERT INTO flood_zones (zone_id, risk, typical_depth_m, return_period, geom)"
                  " VALUES ('F1', 'medium', 0.4, 10, " + to_4326("%s") + ")",
                  (rect(5, 10, 15, 30),))
        c.execute("INSERT INTO heritage_areas (heritage_id, name, protection_zone, geom) "
                  "VALUES ('H1', 'Đình Hải Châu', 'II', " + to_4326("%s") + ")",
                  (rect(-5, 15, 2, 25),))
        c.execute("INSERT INTO rasters (name, path, crs, width, height, nodata, unit) "
                  "VALUES ('elevation', %s, %s, 40, 60, -9999, 'm')", (str(tif), CITY.metric_crs))


@pytest.fixture()
def site_engine(site_url: str):
    engine = make_engine(site_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()
