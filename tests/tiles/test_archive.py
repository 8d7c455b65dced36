"""Seeding into the shared store and exporting PMTiles / MBTiles archives."""
import gzip
import sqlite3

import mapbox_vector_tile
import psycopg
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles

from layers import LAYERS, ROLES
from tiles.archive import tile_of_entry
from tiles.grid import count_tiles, tiles_in_bbox
from tiles.sql import LABEL_SUFFIX, render_tile

from .conftest import CENTER, center_tile

PUBLIC = ROLES["public"]
BBOX = (CENTER[0] - 0.002, CENTER[1] - 0.002, CENTER[0] + 0.004, CENTER[1] + 0.002)
BBOX_ARG = ",".join(str(v) for v in BBOX)
ZOOMS = range(14, 17)


def expected_tiles(city_url) -> dict:
    layers = tuple(LAYERS.values())
    with psycopg.connect(city_url) as conn:
        rendered = {t: render_tile(conn, layers, t, PUBLIC).data
                    for t in tiles_in_bbox(BBOX, ZOOMS)}
    return {t: data for t, data in rendered.items() if data}


def test_pmtiles_export_holds_every_tile_with_data(runner, city_url, tmp_path):
    out = tmp_path / "city.pmtiles"
    result = runner("tiles", "export", "all", str(out), "--zoom", "14-16", "--bbox", BBOX_ARG,
                    env={"DATABASE_URL": city_url})
    assert result.exit_code == 0, result.output
    expected = expected_tiles(city_url)
    with open(out, "rb") as fh:
        source = MmapSource(fh)
        reader = Reader(source)
        header, meta = reader.header(), reader.metadata()
        assert (header["min_zoom"], header["max_zoom"]) == (14, 16)
        assert header["clustered"] and header["tile_type"].name == "MVT"
        assert [v["id"] for v in meta["vector_layers"]
                if not v["id"].endswith(LABEL_SUFFIX)] == list(LAYERS)
        stored = {tuple(zxy): data for zxy, data in all_tiles(source)}
        assert len(stored) == len(expected)
        for tile, data in expected.items():
            got = gzip.decompress(reader.get(tile.z, tile.x, tile.y))
            assert mapbox_vector_tile.decode(got) == mapbox_vector_tile.decode(data)


def test_mbtiles_export_uses_tms_rows_and_metadata(runner, city_url, tmp_path):
    out = tmp_path / "city.mbtiles"
    result = runner("tiles", "export", "parcels,wifi_aps", str(out), "--zoom", "14-16",
                    "--bbox", BBOX_ARG, env={"DATABASE_URL": city_url})
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(out)
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    assert meta["format"] == "pbf" and (meta["minzoom"], meta["maxzoom"]) == ("14", "16")
    rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert rows
    for z, column, row, data in rows:
        tile = tile_of_entry(z, column, row)
        decoded = mapbox_vector_tile.decode(gzip.decompress(data))
        assert decoded and set(decoded) <= {"parcels", "wifi_aps"}
        assert tile in set(tiles_in_bbox(BBOX, ZOOMS))
    db.close()


def test_export_refuses_an_unknown_format(runner, city_url, tmp_path):
    result = runner("tiles", "export", "parcels", str(tmp_path / "x.zip"), "--zoom", "14",
                    "--bbox", BBOX_ARG, env={"DATABASE_URL": city_url})
    assert result.exit_code != 0 and ".pmtiles or .mbtiles" in result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("args,message", [
    (["nope", "--zoom", "14"], "unknown layer"),
    (["parcels", "--zoom", "16-10"], "zoom range"),
    (["parcels", "--zoom", "14", "--bbox", "1,2,3"], "west,south,east,north"),
])
def test_seed_refuses_bad_arguments(runner, city_url, args, message):
    result = runner("tiles", "seed", *args, env={"DATABASE_URL": city_url})
    assert result.exit_code != 0 and message in result.output


def test_seed_fills_the_store_the_server_reads(runner, city_url, make_app, tmp_path):
    data_dir = tmp_path / "data"
    result = runner("tiles", "seed", "wifi_aps,parcels", "--zoom", "14-16", "--bbox", BBOX_ARG,
                    env={"DATABASE_URL": city_url, "GISAPP_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert f"seeded {count_tiles(BBOX, ZOOMS)} tiles" in result.output
    stored = list((data_dir / "tiles" / "public" / "wifi_aps,parcels").rglob("*.mvt.gz"))
    assert len(stored) == count_tiles(BBOX, ZOOMS)
    service = make_app(DATA_DIR=data_dir).extensions["tiles"]
    service.connect = None  # a render would fail: every tile must come from the store
    tile = center_tile(16)
    body = service.get_tile((LAYERS["wifi_aps"], LAYERS["parcels"]), PUBLIC, tile)
    assert body.gzipped and body.data
