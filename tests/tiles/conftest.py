"""Tile fixtures: known features of every layer, written into the scratch database."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl.overviews import refresh_overview
from gisapp import create_app
from gisapp.db import migrate, provision
from layers import LAYERS, FieldType, Layer
from tiles.grid import Tile, tile_of

# Dragon Bridge, Da Nang (DOMAIN.md test point); features sit in its z16 tile.
CENTER = (108.22705602, 16.06114045)
ZOOM = 16


def center_tile(z: int = ZOOM) -> Tile:
    return Tile(z, *tile_of(*CENTER, z))


def _value(layer: Layer, field, i: int):
    if field.choices:
        return field.choices[i % len(field.choices)]
    return {FieldType.TEXT: f"{field.name}-{i}", FieldType.INTEGER: i + 1,
            FieldType.FLOAT: i + 0.5, FieldType.DATE: dt.date(2024, 5, 1),
            FieldType.BOOLEAN: i % 2 == 0}[field.type]


def _wkt(layer: Layer, lon: float, lat: float) -> str:
    d = 0.00005
    ring = f"{lon} {lat}, {lon + d} {lat}, {lon + d} {lat + d}, {lon} {lat + d}, {lon} {lat}"
    line = f"{lon} {lat}, {lon + d} {lat + d}"
    return {"Point": f"POINT({lon} {lat})", "MultiPoint": f"MULTIPOINT({lon} {lat})",
            "LineString": f"LINESTRING({line})", "MultiLineString": f"MULTILINESTRING(({line}))",
            "Polygon": f"POLYGON(({ring}))",
            "MultiPolygon": f"MULTIPOLYGON((({ring})))"}[layer.geometry_type]


def insert_features(url: str, layer: Layer, n: int, lon: float = CENTER[0],
                    lat: float = CENTER[1], start: int = 0, step: float = 0.0002) -> None:
    """n features of `layer`, every declared field filled, in a row eastwards from lon/lat."""
    fields = layer.imported_fields
    cols = sql.SQL(", ").join([sql.Identifier(f.name) for f in fields] + [sql.Identifier("geom")])
    marks = sql.SQL(", ").join([sql.Placeholder()] * len(fields) + [
        sql.SQL("ST_GeomFromText({}, 4326)").format(sql.Placeholder())])
    stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(layer.table), cols, marks)
    rows = [[_value(layer, f, i) for f in fields] + [_wkt(layer, lon + (i - start) * step, lat)]
            for i in range(start, start + n)]
    with psycopg.connect(url) as conn:
        conn.cursor().executemany(stmt, rows)


def fill_city(url: str) -> None:
    """3 features of every layer near the Dragon Bridge."""
    for layer in LAYERS.values():
        insert_features(url, layer, 3)
    with psycopg.connect(url) as conn:  # as an import does after its load
        for layer in LAYERS.values():
            refresh_overview(conn, layer)


@pytest.fixture(scope="session")
def city_url(test_url: str) -> str:
    """A database of our own (beside the test database) holding the small city; read-only.

    Built once per session; tests that write use `scratch_url` instead.
    """
    base, _, name = test_url.rpartition("/")
    url = f"{base}/{name}_tilecity"
    if not provision.is_local_url(url):
        with psycopg.connect(test_url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (name + "_tilecity",)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(
                    sql.Identifier(name + "_tilecity")))
    provision.ensure_database(url, log=lambda m: None)
    migrate.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {}, layer_state RESTART IDENTITY").format(
            sql.SQL(", ").join(sql.Identifier(table) for layer in LAYERS.values()
                               for table in (layer.table, layer.overview_table)
                               if table != layer.overview_table or layer.overview)))
    fill_city(url)
    return url


@pytest.fixture()
def make_app(city_url: str, tmp_path: Path):
    """Build apps on the small city with extra settings; disposes their engines."""
    apps = []

    def make(**config):
        app = create_app({"DATABASE_URL": city_url, "TESTING": True, "SECRET_KEY": "test",
                          "DATA_DIR": tmp_path / "data", "PUBLIC_URL": "http://localhost",
                          **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["engine"].dispose()


@pytest.fixture()
def city_client(make_app):
    return make_app().test_client()
