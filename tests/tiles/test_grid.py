"""The tile grid: every bad address is refused before any SQL."""
import pytest

from layers import LAYERS, UnknownLayer
from tiles.grid import (GridError, Tile, count_tiles, parse_layer_list, parse_tile,
                        parse_zoom_range, tile_bounds_lonlat, tiles_in_bbox, tiles_touching)


@pytest.mark.parametrize("z,x,y", [("23", "0", "0"), ("99", "0", "0"), ("1", "2", "0"),
                                   ("1", "0", "2"), ("0", "1", "0"), ("22", "4194304", "0")])
def test_address_outside_the_grid_is_refused(z, x, y):
    with pytest.raises(GridError):
        parse_tile(z, x, y)


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "", " 1", "+1", "1e3", "0x1",
                                   "123456789", "١"])
def test_non_integer_segment_is_refused(value):
    with pytest.raises(GridError):
        parse_tile("5", value, "0")
    with pytest.raises(GridError):
        parse_tile(value, "0", "0")


def test_grid_corners_are_accepted():
    assert parse_tile("0", "0", "0") == Tile(0, 0, 0)
    assert parse_tile("22", "4194303", "4194303") == Tile(22, 4194303, 4194303)


def test_repeated_layer_is_refused():
    with pytest.raises(GridError, match="repeated"):
        parse_layer_list("parcels,roads,parcels")


def test_layer_list_longer_than_the_registry_is_refused():
    with pytest.raises(GridError, match="at most"):
        parse_layer_list(",".join(list(LAYERS) + ["x"]))


@pytest.mark.parametrize("text", ["Parcels", "parcels;drop", "", "parcels,", "a" * 200])
def test_malformed_layer_name_is_refused(text):
    with pytest.raises(GridError):
        parse_layer_list(text)


def test_unknown_layer_raises_unknown_layer():
    with pytest.raises(UnknownLayer):
        parse_layer_list("parcels,nope")


def test_every_layer_at_once_is_accepted():
    assert [layer.id for layer in parse_layer_list(",".join(LAYERS))] == list(LAYERS)


def test_tiles_touching_a_point_are_its_tile_and_neighbours_within_the_buffer():
    tile = Tile(16, 52468, 30398)
    west, south, east, north = tile_bounds_lonlat(tile)
    inside = ((west + east) / 2, (south + north) / 2) * 2
    assert tiles_touching(inside, 16, 64 / 4096) == (tile.x, tile.y, tile.x, tile.y)
    on_edge = (east, (south + north) / 2) * 2
    assert tiles_touching(on_edge, 16, 64 / 4096) == (tile.x, tile.y, tile.x + 1, tile.y)


def test_tiles_in_bbox_are_counted_exactly():
    bbox = (108.15, 16.0, 108.25, 16.1)
    assert len(list(tiles_in_bbox(bbox, range(10, 15)))) == count_tiles(bbox, range(10, 15))


@pytest.mark.parametrize("text,zooms", [("10-16", range(10, 17)), ("14", range(14, 15))])
def test_zoom_range_is_parsed(text, zooms):
    assert parse_zoom_range(text) == zooms


@pytest.mark.parametrize("text", ["16-10", "0-23", "a-b", "-3"])
def test_bad_zoom_range_is_refused(text):
    with pytest.raises(GridError):
        parse_zoom_range(text)
