"""Raster statistics over a polygon: the pixels it holds, or those it touches when it holds none."""
import psycopg
import pytest
import shapely

from gisapp.analysis.raster_stats import raster_stats
from gisapp.db.engine import make_engine
from layers.city import CITY
from tests.gisapp.permits.known_site import E0, N0, write_elevation

# write_elevation: 1 m pixels over x -10..30, y -20..40; 1.8 m over x 0..10, y 0..5, else 3.0 m


@pytest.fixture()
def raster_engine(scratch_url, tmp_path):
    tif = tmp_path / "elevation.tif"
    write_elevation(tif)
    with psycopg.connect(scratch_url) as c:
        c.execute("INSERT INTO rasters (name, path, crs, width, height, nodata, unit) "
                  "VALUES ('elevation', %s, %s, 40, 60, -9999, 'm')", (str(tif), CITY.metric_crs))
    engine = make_engine(scratch_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def box(x0, y0, x1, y1):
    return shapely.box(E0 + x0, N0 + y0, E0 + x1, N0 + y1)


@pytest.mark.parametrize("shift", [0.0, 0.0002, -0.0002])
def test_a_polygon_on_pixel_edges_reads_only_its_own_pixels(raster_engine, tmp_path, shift):
    # x 0..10, y 0..20, nudged by a fraction of a millimetre as a 4326 round trip does
    with raster_engine.connect() as conn:
        s = raster_stats(conn, "elevation", box(shift, shift, 10 + shift, 20 + shift), tmp_path)
    assert (s["pixels"], s["min"], s["max"]) == (200, pytest.approx(1.8), pytest.approx(3.0))
    assert s["mean"] == pytest.approx((50 * 1.8 + 150 * 3.0) / 200)


def test_a_polygon_holding_no_pixel_centre_reads_the_pixels_it_touches(raster_engine, tmp_path):
    with raster_engine.connect() as conn:
        s = raster_stats(conn, "elevation", box(2.1, 4.6, 2.4, 5.4), tmp_path)
    # touches (2..3, 4..5) at 1.8 m and (2..3, 5..6) at 3.0 m; holds neither centre
    assert (s["pixels"], s["min"], s["max"]) == (2, pytest.approx(1.8), pytest.approx(3.0))


def test_outside_the_raster_and_unknown_rasters(raster_engine, tmp_path):
    with raster_engine.connect() as conn:
        assert raster_stats(conn, "elevation", box(100, 100, 110, 110), tmp_path)["pixels"] == 0
        assert raster_stats(conn, "no_such_raster", box(0, 0, 1, 1), tmp_path) is None
