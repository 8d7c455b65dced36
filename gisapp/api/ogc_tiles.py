"""OGC API – Tiles: tile matrix sets, tilesets of each collection and of the dataset.

Thin views over `tiles/tilesets.py`. Every tile URL here is served by the same code as
`/tiles/{layers}/{z}/{x}/{y}.mvt` (`serve_tile`): in WebMercatorQuad it answers the same
bytes, ETag and status ({tileMatrix}/{tileRow}/{tileCol} is z/y/x); in WorldCRS84Quad the
same layers and fields in lon/lat tiles. A collection the caller may not see does not
exist for them (404), as in the Features API.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from gisapp.api.features import visible_layer
from gisapp.api.tiles import add_cors, cache_control, serve_tile, tile_address, tile_service
from gisapp.auth import current_levels
from gisapp.errors import BadRequest, NotFound
from gisapp.features.documents import visible_layers
from gisapp.public_url import base_url
from layers import Access, Layer
from tiles.grid import GridError, Tile, parse_crs84_tile
from tiles.tilesets import (MATRIX_SETS, WORLD_CRS84_QUAD, MatrixSet, tile_matrix_set,
                            tile_matrix_sets, tileset, tileset_list)

bp = Blueprint("ogc_tiles", __name__)
bp.after_request(add_cors)
DATASET_TITLE = "Da Nang: every layer you may see"


def _tms(tms_id: str) -> MatrixSet:
    if tms_id not in MATRIX_SETS:
        raise NotFound(f"unknown tile matrix set {tms_id!r}; known: {', '.join(MATRIX_SETS)}")
    return MATRIX_SETS[tms_id]


def _serve(layers: tuple[Layer, ...], levels: frozenset[Access], tms: MatrixSet,
           matrix: str, row: str, col: str):
    """One tile of these layers in the tile matrix set (400 when off its grid)."""
    if tms is not WORLD_CRS84_QUAD:
        return serve_tile(layers, levels, tile_address(matrix, col, row))
    try:
        address: Tile = parse_crs84_tile(matrix, row, col)
    except GridError as exc:
        raise BadRequest(str(exc)) from None
    return serve_tile(layers, levels, address, crs84=True)


def _dataset_layers(levels: frozenset[Access]) -> tuple[Layer, ...]:
    layers = tuple(visible_layers(levels))
    if not layers:
        raise NotFound("no layer is visible to this role")
    return layers


def _json(doc: dict, levels: frozenset[Access]):
    response = jsonify(doc)
    response.headers["Cache-Control"] = cache_control(levels)
    return response


@bp.get("/tileMatrixSets")
def tile_matrix_set_list():
    """The tile matrix sets tiles are served in (WebMercatorQuad, WorldCRS84Quad)."""
    return jsonify(tile_matrix_sets(base_url()))


@bp.get("/tileMatrixSets/<tms_id>")
def tile_matrix_set_document(tms_id: str):
    """A tile matrix set definition (OGC 2D TMS 2.0 JSON)."""
    return jsonify(tile_matrix_set(_tms(tms_id), base_url()))


@bp.get("/collections/<layer_id>/tiles")
def collection_tilesets(layer_id: str):
    """The vector tilesets of one collection."""
    layer, base = visible_layer(layer_id), base_url()
    url = f"{base}/collections/{layer.id}/tiles"
    return _json(tileset_list(layer.title["en"], url, base), current_levels())


@bp.get("/collections/<layer_id>/tiles/<tms_id>")
def collection_tileset(layer_id: str, tms_id: str):
    """Tileset metadata of one collection: tile URL template, zoom limits, properties."""
    layer, levels, base = visible_layer(layer_id), current_levels(), base_url()
    tms = _tms(tms_id)
    url = f"{base}/collections/{layer.id}/tiles/{tms.id}"
    service = tile_service()
    return _json(tileset(tms, layer.title["en"], (layer,), levels, url, base,
                         service.data_bounds((layer,)), service.osm_layers((layer,)),
                         f"{base}/collections/{layer.id}"), levels)


@bp.get("/collections/<layer_id>/tiles/<tms_id>/<tile_matrix>/<tile_row>/<tile_col>")
def collection_tile(layer_id: str, tms_id: str, tile_matrix: str, tile_row: str, tile_col: str):
    """One vector tile of a collection (in WebMercatorQuad, /tiles/{layer}/{z}/{x}/{y}.mvt)."""
    layer = visible_layer(layer_id)
    return _serve((layer,), current_levels(), _tms(tms_id), tile_matrix, tile_row, tile_col)


@bp.get("/tiles")
def dataset_tilesets():
    """The vector tilesets of the whole dataset (all layers the caller may see)."""
    base = base_url()
    return _json(tileset_list(DATASET_TITLE, f"{base}/tiles", base), current_levels())


@bp.get("/tiles/<tms_id>")
def dataset_tileset(tms_id: str):
    """Tileset metadata of the dataset's composite tiles."""
    tms = _tms(tms_id)
    levels, base = current_levels(), base_url()
    layers = _dataset_layers(levels)
    service = tile_service()
    return _json(tileset(tms, DATASET_TITLE, layers, levels, f"{base}/tiles/{tms.id}", base,
                         service.data_bounds(layers), service.osm_layers(layers)), levels)


@bp.get("/tiles/<tms_id>/<tile_matrix>/<tile_row>/<tile_col>")
def dataset_tile(tms_id: str, tile_matrix: str, tile_row: str, tile_col: str):
    """One composite tile of every layer the caller may see."""
    tms = _tms(tms_id)
    levels = current_levels()
    return _serve(_dataset_layers(levels), levels, tms, tile_matrix, tile_row, tile_col)
