"""`gisapp tiles changed RUN`: the tiles an import can have changed, as a CDN purges them."""
from __future__ import annotations

import geopandas as gpd
import shapely

from etl.pipeline import ImportRequest, run_import
from layers import get_layer
from tests.world import field_value
from tiles.grid import tile_of

WIFI = get_layer("wifi_aps")
POINT = (108.22705602, 16.06114045)  # the Dragon Bridge


def test_changed_lists_the_tiles_around_the_imported_features(runner, scratch_url, tmp_path):
    data = {f.name: [field_value(f, 0)] for f in WIFI.imported_fields}
    path = tmp_path / "one-ap.geojson"
    gpd.GeoDataFrame(data, geometry=[shapely.Point(*POINT)], crs="EPSG:4326").to_file(
        path, driver="GeoJSON")
    run = run_import(scratch_url, ImportRequest(WIFI.id, path))
    result = runner("tiles", "changed", str(run.run_id), "--zoom", "15-17",
                    env={"DATABASE_URL": scratch_url})
    assert result.exit_code == 0, result.output
    listed = {line for line in result.stdout.splitlines() if line.count("/") == 2}
    for z in (15, 16, 17):
        assert "{}/{}/{}".format(z, *tile_of(*POINT, z)) in listed
        # one point: its tile, and a neighbour only where it lies within the MVT buffer
        assert 1 <= sum(line.startswith(f"{z}/") for line in listed) <= 4
    assert not any(line.startswith(("14/", "18/")) for line in listed)


def test_changed_names_a_missing_run(runner):
    result = runner("tiles", "changed", "987654321", "--zoom", "10-12")
    assert result.exit_code == 1
    assert "there is no run 987654321" in result.output
