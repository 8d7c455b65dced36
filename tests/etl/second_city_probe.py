"""Run by test_second_city in a process started with GISAPP_CITY naming tests.etl.second_city.

Imports a source file into a migrated database, then serves /api/layers, the layer's items
in the city's metric CRS and the tile holding the first point; prints what it saw as JSON.
usage: python -m tests.etl.second_city_probe DATABASE_URL SOURCE LAYER DATA_DIR
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import mapbox_vector_tile

from etl.pipeline import ImportRequest, run_import
from gisapp import create_app
from layers.city import CITY
from tiles.grid import tile_of


def probe(url: str, source: Path, layer: str, data_dir: Path) -> dict:
    """What the app imports and serves for this source, in the city this process runs for."""
    result = run_import(url, ImportRequest(layer, source))
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": data_dir, "PUBLIC_URL": "http://localhost",
                      "TILE_CACHE": "off"})
    client = app.test_client()
    catalogue = client.get("/api/layers").json
    metric_uri = f"http://www.opengis.net/def/crs/EPSG/0/{CITY.metric_srid}"
    lonlat = client.get(f"/collections/{layer}/items").json
    metric = client.get(f"/collections/{layer}/items", query_string={"crs": metric_uri}).json
    lon, lat = lonlat["features"][0]["geometry"]["coordinates"]
    x, y = tile_of(lon, lat, 16)
    tile = client.get(f"/tiles/{layer}/16/{x}/{y}.mvt")
    features = mapbox_vector_tile.decode(tile.data)[layer]["features"] if tile.data else []
    app.extensions["engine"].dispose()
    return {"city": catalogue["city"], "loaded": result.rows_loaded, "rejected": result.rows_rejected,
            "lonlat": [f["geometry"]["coordinates"] for f in lonlat["features"]],
            "metric": [f["geometry"]["coordinates"] for f in metric["features"]],
            "tile_status": tile.status_code, "tile_features": len(features)}


if __name__ == "__main__":
    url, source, layer, data_dir = sys.argv[1:5]
    print(json.dumps(probe(url, Path(source), layer, Path(data_dir))))
