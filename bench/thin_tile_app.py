"""The peer bench/tile_serving.py measures our server against: a thin Flask endpoint over the same SQL.

The issue's yardstick ("a thin Flask endpoint over the same SQL measured 0.95-1.0x"):
one route, one connection per thread, `tiles.sql.render_tile` for every layer with the
public attributes, the bytes returned as they come. No authentication, layer checks,
ETag, gzip or cache. Served by the same gunicorn configuration as the app, so the gap
between this and the raw statement is what HTTP and gunicorn cost on this machine, and the
gap between this and our server is what our server adds.

    DATABASE_URL=... gunicorn -c gisapp/gunicorn.conf.py bench.thin_tile_app:app
"""
from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask, Response

from layers import LAYERS, ROLES
from tiles.grid import parse_tile
from tiles.sql import render_tile

ALL = tuple(LAYERS.values())
PUBLIC = ROLES["public"]

app = Flask(__name__)
_local = threading.local()


@app.get("/tiles/<layers>/<z>/<x>/<y>.mvt")
def tile(layers: str, z: str, x: str, y: str) -> Response:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True,
                                             options="-c jit=off")
    data = render_tile(conn, ALL, parse_tile(z, x, y), PUBLIC, 20_000).data
    if not data:
        return Response(status=204)
    return Response(data, mimetype="application/vnd.mapbox-vector-tile")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok")
