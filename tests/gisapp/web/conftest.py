"""Browser fixtures: a live gisapp server, headless Debian Chromium, a known little city.

The known city is one feature per registry layer, each in its own 100 m cell near the
Dragon Bridge, with values derived from the field declarations, plus a holder (party) and
a right on the parcel so tests can check that personal data never reaches a public user.
"""
from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import psycopg
import pytest
import rasterio
from playwright.sync_api import Browser, Page
from psycopg import sql
from rasterio.transform import from_origin
from werkzeug.serving import make_server

from gisapp import create_app
from etl.rasters import import_raster
from layers import LAYERS, TABLES, THEMES, Layer, Table
from tests import databases
from tests.auth_helpers import PASSWORD, ensure_user
from tests.gisapp.permits.known_site import copy_rules
from tests.world import field_value, insert_rows

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
AXE = ROOT / "static" / "node_modules" / "axe-core" / "axe.min.js"

ORIGIN = (108.2250, 16.0595)  # south-west corner of the known city, by the Dragon Bridge
CELL = 0.0012  # degrees between cells (about 130 m)
HALF = 0.0004  # half size of each feature (about 43 m)
COLUMNS = 4
OWNER_NAME = "Nguyễn Thị Bí Mật"  # a holder's name: public users must never see it
PARCEL_ADDRESS = "12 Bạch Đằng, phường Hải Châu"
# The zone (it covers the whole known city, so the parcel has one): a central residential block.
KNOWN_ZONE = {"allowed_uses": "ODT;CLN;TMD", "max_coverage": 80.0, "max_floors": 6,
              "max_height_m": 25.0, "min_setback_m": 0.0, "max_far": 4.5}
PAST_LAND_USE = ("CLN", "2020-01-01", "2024-06-01")  # the parcel's earlier version: use, from, to
GROUND_LEVEL_M = 4.0  # the known city's ground, everywhere: above the permit rules' minimum


def cell_centre(layer_id: str) -> tuple[float, float]:
    """Where the known feature of a layer sits: its own cell, in registry order."""
    index = list(LAYERS).index(layer_id)
    return (ORIGIN[0] + (index % COLUMNS) * CELL, ORIGIN[1] + (index // COLUMNS) * CELL)


def known_value(decl: Table, name: str):
    """A field value derived from its declaration (row 0 of tests/world.py, the first
    styled value), or the known city's own."""
    field = decl.field(name)
    if decl.id == "parcels" and name == "address":
        return PARCEL_ADDRESS
    if decl.id == "parties" and name == "name":
        return OWNER_NAME
    if decl.id == "drainage_pipes" and name == "from_node":  # the pipe drains the known node
        return known_value(LAYERS["drainage_nodes"], "node_id")
    if decl.id == "zoning" and name in KNOWN_ZONE:
        return KNOWN_ZONE[name]
    style = getattr(decl, "style", None)
    if not field.choices and style is not None and style.by is not None and style.by[0] == name:
        return style.by[1][0][0]
    return field_value(field)


def known_wkt(layer: Layer) -> str:
    """A point, a horizontal line or a square in the layer's cell."""
    x, y = cell_centre(layer.id)
    if layer.id == "zoning":  # one zone over every cell
        rows = (len(LAYERS) + COLUMNS - 1) // COLUMNS
        west, south = ORIGIN[0] - CELL / 2, ORIGIN[1] - CELL / 2
        east, north = west + COLUMNS * CELL, south + rows * CELL
        return f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
    if layer.is_point:
        return f"POINT({x} {y})"
    if layer.is_line:
        return f"LINESTRING({x - HALF} {y}, {x + HALF} {y})"
    ring = [(x - HALF, y - HALF), (x + HALF, y - HALF), (x + HALF, y + HALF),
            (x - HALF, y + HALF), (x - HALF, y - HALF)]
    return "POLYGON((" + ", ".join(f"{a} {b}" for a, b in ring) + "))"


def _insert(conn: psycopg.Connection, decl: Table, values: dict, wkt: str | None) -> None:
    insert_rows(conn, decl, [values], None if wkt is None else [wkt])


def seed_known_city(url: str) -> None:
    """Empty our scratch database and write the known city."""
    databases.reset(url, databases.public_tables(url))
    with psycopg.connect(url, autocommit=True) as conn:
        for layer in LAYERS.values():
            values = {f.name: known_value(layer, f.name) for f in layer.imported_fields}
            _insert(conn, layer, values, known_wkt(layer))
        parcel_uid = conn.execute(sql.SQL("SELECT parcel_uid FROM {}").format(
            sql.Identifier(LAYERS["parcels"].table))).fetchone()[0]
        for table in TABLES.values():
            values = {f.name: known_value(table, f.name) for f in table.imported_fields}
            if "parcel_uid" in values:
                values["parcel_uid"] = parcel_uid
            if "party_id" in values:
                values["party_id"] = known_value(TABLES["parties"], "party_id")
            _insert(conn, table, values, None)
        _record_parcel_versions(conn)


def add_feature(url: str, layer_id: str, wkt: str, **values) -> None:
    """One more feature of a layer: the given values, the rest as the known city's, its key
    made unique with a suffix."""
    layer = LAYERS[layer_id]
    row = {f.name: known_value(layer, f.name) for f in layer.imported_fields}
    for name in layer.key:
        row[name] = f"{row[name]}-{uuid.uuid4().hex[:8]}"
    row.update(values)
    with psycopg.connect(url, autocommit=True) as conn:
        _insert(conn, layer, row, wkt)


def _record_parcel_versions(conn: psycopg.Connection) -> None:
    """The parcel's history: an older, smaller version with another land use, then today's."""
    parcels = LAYERS["parcels"]
    table = sql.Identifier(parcels.table)
    versions = sql.Identifier(parcels.versions_table)
    names = sql.SQL(", ").join(sql.Identifier(f.name) for f in parcels.fields)
    land_use, since, until = PAST_LAND_USE
    conn.execute(sql.SQL(
        "INSERT INTO {v} (feature_id, {names}, geom, valid_from, valid_to, change) "
        "SELECT id, {names}, ST_Multi(ST_Buffer(ST_Centroid(geom), 0.0002, 1)), %s, %s, 'create' "
        "FROM {t}").format(v=versions, names=names, t=table), (since, until))
    conn.execute(sql.SQL("UPDATE {v} SET {use} = %s").format(
        v=versions, use=sql.Identifier("land_use")), (land_use,))
    conn.execute(sql.SQL(
        "INSERT INTO {v} (feature_id, {names}, geom, valid_from, valid_to, change) "
        "SELECT id, {names}, geom, %s, NULL, 'update' FROM {t}").format(
            v=versions, names=names, t=table), (until,))


def register_elevation(url: str, data_dir: Path) -> None:
    """A flat elevation raster over the whole known city, registered under the rules' name."""
    with psycopg.connect(url) as conn:
        name = conn.execute("SELECT params->>'elevation_raster' FROM permit_rules"
                            " WHERE rule_id = 'ground_elevation' LIMIT 1").fetchone()[0]
    rows = (len(LAYERS) + COLUMNS - 1) // COLUMNS
    west, north = ORIGIN[0] - CELL, ORIGIN[1] + (rows + 1) * CELL
    size, pixel = (rows + 2) * 20, CELL / 20
    path = data_dir / "known-elevation.tif"
    with rasterio.open(path, "w", driver="GTiff", width=(COLUMNS + 2) * 20, height=size, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999.0,
                       transform=from_origin(west, north, pixel, pixel)) as dst:
        dst.write(np.full((size, (COLUMNS + 2) * 20), GROUND_LEVEL_M, dtype="float32"), 1)
    import_raster(url, name, path, data_dir, unit="m")


class KnownCity:
    """What the tests may rely on about the known city."""

    owner_name = OWNER_NAME
    past_land_use = PAST_LAND_USE
    ground_level_m = GROUND_LEVEL_M
    centre = staticmethod(cell_centre)

    def middle(self) -> tuple[float, float]:
        """The centre of the whole grid of cells."""
        rows = (len(LAYERS) + COLUMNS - 1) // COLUMNS
        return (ORIGIN[0] + (COLUMNS - 1) * CELL / 2, ORIGIN[1] + (rows - 1) * CELL / 2)


@pytest.fixture(scope="session")
def city() -> KnownCity:
    return KnownCity()

# The map opens the base map, land use and planning; tests of every layer open every theme.
ALL_THEMES = ",".join(THEMES)

# Scripts the map tests wait on: the page has built its map, and the map has drawn.
MAP_BUILT = ("window.map instanceof maplibregl.Map"
             " && document.getElementById('map-app').dataset.ready === 'true'")
MAP_READY = f"() => {MAP_BUILT}"
MAP_IDLE = """() => new Promise((resolve) => {
  if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) resolve(true);
  else map.once('idle', () => resolve(true));
})"""


@dataclass
class LiveServer:
    url: str
    app: object
    database_url: str
    data_dir: Path


@contextmanager
def serve(database_url: str, data_dir: Path, map_assets: Path,
          **config) -> Iterator[LiveServer]:
    """gisapp on a free 127.0.0.1 port in a thread, until the block ends; its public URL is
    that address (the port is known once the server is bound, so the app is made after).
    `config` adds settings (ALERT_STREAMS=1)."""
    made: list = []
    server = make_server("127.0.0.1", 0, lambda environ, start: made[0](environ, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": data_dir, "MAP_ASSETS_DIR": map_assets, "PUBLIC_URL": url,
                      "IMPORT_URL_ALLOW": "https://example.org",  # schedules in the console
                      **config})
    made.append(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url, app, database_url, data_dir)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["engine"].dispose()


@pytest.fixture(scope="module")
def live_server(_scratch_ready: str, test_url: str, tmp_path_factory,
                map_assets: Path) -> Iterator[LiveServer]:
    """gisapp serving the known city, with the seeded permit rules and a flat elevation raster,
    from our scratch database."""
    seed_known_city(_scratch_ready)
    copy_rules(test_url, _scratch_ready)
    data_dir = tmp_path_factory.mktemp("data")
    register_elevation(_scratch_ready, data_dir)
    with serve(_scratch_ready, data_dir, map_assets) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server(test_url: str, tmp_path_factory, map_assets: Path) -> Iterator[LiveServer]:
    """gisapp serving the demo city of the test database (`gisapp demo load`; read only)."""
    with serve(test_url, tmp_path_factory.mktemp("data"), map_assets) as server:
        yield server


@dataclass
class BrowserSession:
    """A page plus everything it said: console errors and every response body."""

    page: Page
    console_errors: list[str]
    responses: list[tuple[str, bytes]]

    def sign_in(self, database_url: str, role: str) -> str:
        """Sign in through the /login form as a user of this role; returns the user name."""
        user = ensure_user(database_url, role)
        self.page.goto("/login?next=/map")
        self.page.fill("#username", user)
        self.page.fill("#password", PASSWORD)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url("**/map")
        return user

    def screenshot(self, name: str, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def axe_violations(self) -> list[dict]:
        """axe-core's serious and critical violations on the page as it is now."""
        # Evaluated, not added as a <script>: the pages' Content-Security-Policy refuses
        # inline scripts, as it should.
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate("async () => (await axe.run(document)).violations")
        return [v for v in result if v["impact"] in ("serious", "critical")]


@contextmanager
def browse(browser: Browser, server: LiveServer) -> Iterator[BrowserSession]:
    """A fresh browser context (no cookies, no storage), 1280×800, set up as a browser in
    Da Nang (Vietnamese locale, Indochina time), recording its traffic."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url,
                                  locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    errors: list[str] = []
    responses: list[tuple[str, bytes]] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def record(response):
        try:
            responses.append((response.url, response.body()))
        except Exception:  # redirects and aborted requests have no body
            responses.append((response.url, b""))

    page.on("response", record)
    try:
        yield BrowserSession(page, errors, responses)
    finally:
        context.close()


@pytest.fixture()
def session(browser: Browser, live_server: LiveServer) -> Iterator[BrowserSession]:
    """A browser on the known city."""
    with browse(browser, live_server) as opened:
        yield opened


@pytest.fixture()
def demo_session(browser: Browser, demo_server: LiveServer) -> Iterator[BrowserSession]:
    """A browser on the demo city."""
    with browse(browser, demo_server) as opened:
        yield opened
