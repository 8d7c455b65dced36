"""Tile SQL: one `ST_AsMVT` per layer, built once from the declaration, bound per request.

Like Martin's `table_to_query`, each layer's query is derived from the registry once per
access level; a composite tile concatenates the per-layer MVTs in ONE statement, so a tile
is one round trip and PostGIS does all the encoding. Only z/x/y, the simplification
tolerance, the margin and the feature cap are bound per request.

The statement is sent the way that costs least per tile, measured over the demo city's
z14-16 composite tiles (mean 11.4 ms as plain text): a server-side prepared statement
(PostgreSQL plans a composite of 14 layers in about 1.25 ms, so planning once per
connection saves that on every tile), binary results (the bytea arrives as is, not
hex-encoded at twice its size) and `$n` placeholders written once (psycopg would re-split
the 6 KB statement, too long for its query cache, in 0.19 ms on every execution).
Together: mean 9.2 ms.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql

from layers import Access, Field, FieldType, Layer, get_layer
from tiles.grid import WORLD_HALF_M, Tile

EXTENT = 4096
BUFFER = 64
SIMPLIFY_PIXELS = 1.0
# ST_AsMVTGeom already snaps to the tile grid; the extra ST_Simplify pays off only where
# features are large against the tile. Measured on the demo city at z14 (12,554 parcels):
# ST_Simplify made the tile 15-20 % slower and no smaller, so it applies up to this zoom.
SIMPLIFY_MAX_ZOOM = 13
DEFAULT_MAX_FEATURES = 20_000
LABEL_SUFFIX = "_labels"  # an area layer's label points travel as <layer id>_labels
BIG_TILE_BYTES = 500 * 1024
# WorldCRS84Quad tiles are ST_TileEnvelope's tiles of this 360° square (see grid.py).
CRS84_BOUNDS = ", ST_MakeEnvelope(-180, -270, 180, 90, 4326)"
# The bound values of a composite tile statement, in `$n` order.
PARAMS = ("z", "x", "y", "tolerance", "margin", "max_features", "layer_ids")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedTile:
    """An encoded composite tile and the layer data versions it was read at."""

    data: bytes
    versions: tuple[int, ...]


def tile_fields(layer: Layer, levels: frozenset[Access]) -> tuple[Field, ...]:
    """Fields a tile carries for these levels; personal fields never go in a tile."""
    return tuple(f for f in layer.visible_fields(levels) if f.access is not Access.PERSONAL)


def is_in_zoom(layer: Layer, z: int) -> bool:
    """Whether the layer is drawn at zoom z (its declared min/max zoom)."""
    return layer.minzoom <= z <= layer.maxzoom


def simplify_tolerance(z: int, crs84: bool = False) -> float:
    """SIMPLIFY_PIXELS tile units at zoom z: in EPSG:3857 metres, or degrees for CRS84."""
    return SIMPLIFY_PIXELS * (360.0 if crs84 else 2 * WORLD_HALF_M) / (1 << z) / EXTENT


def _column(layer: Layer, f) -> sql.Composable:
    col = sql.SQL("t.{}").format(sql.Identifier(f.name))
    if f.type is FieldType.DATE:  # MVT values are strings, numbers or booleans
        return sql.SQL("{}::text AS {}").format(col, sql.Identifier(f.name))
    return col


def is_simplified(layer: Layer, z: int) -> bool:
    """Whether the tile SQL simplifies this layer's geometries at zoom z."""
    return not layer.is_point and z <= SIMPLIFY_MAX_ZOOM


def _envelope(crs84: bool, margin: bool = False) -> sql.SQL:
    """The tile's envelope: EPSG:3857, or EPSG:4326 for a WorldCRS84Quad tile (grid.py).

    A scalar subquery, so PostgreSQL computes it once per statement (an InitPlan): as a
    plain call on `$n` parameters a generic plan computed it again for every row.
    """
    bounds = CRS84_BOUNDS if crs84 else ""
    extra = ", margin => %(margin)s::float8" if margin else ""
    return sql.SQL("(SELECT ST_TileEnvelope(%(z)s::integer, %(x)s::integer, %(y)s::integer"
                   + bounds + extra + "))")


def _geometry(layer: Layer, simplify: bool, crs84: bool = False,
              column: str | None = None) -> sql.Composable:
    geom = sql.SQL(column or ("t.geom" if crs84 else "t.geom_3857"))
    if simplify:
        geom = sql.SQL("ST_Simplify({}, %(tolerance)s::float8, true)").format(geom)
    return sql.SQL("ST_AsMVTGeom({}, {}, {}, {}, true)").format(
        geom, _envelope(crs84), sql.Literal(EXTENT), sql.Literal(BUFFER))


def holds_back(layer: Layer, z: int) -> bool:
    """Whether tiles at zoom z leave out the features of Layer.feature_minzoom."""
    return layer.feature_minzoom is not None and z < layer.feature_minzoom.minzoom


def _held_back(layer: Layer) -> sql.Composable:
    """` AND <not one of the features shown only from a higher zoom>` (NULL values stay)."""
    held = layer.feature_minzoom
    return sql.SQL(" AND (t.{} IN ({})) IS NOT TRUE").format(
        sql.Identifier(held.field), sql.SQL(", ").join(map(sql.Literal, held.values)))


@lru_cache(maxsize=None)
def layer_tile_sql(layer_id: str, levels: frozenset[Access], simplify: bool,
                   crs84: bool = False, held_back: bool = False) -> sql.Composed:
    """The bytea expression encoding one layer's features in the tile %(z)s/%(x)s/%(y)s.

    `crs84` encodes a WorldCRS84Quad tile from the lon/lat column `geom` instead;
    `held_back` leaves out the features its Layer.feature_minzoom shows only later.
    """
    layer = get_layer(layer_id)
    limit = sql.SQL("%(max_features)s::integer")
    if layer.tile_max_features is not None:  # the layer's own cap, from the registry
        limit = sql.SQL("LEAST({}, {})").format(limit, sql.Literal(layer.tile_max_features))
    columns = [sql.SQL("t.id"), sql.SQL("{} AS geom").format(_geometry(layer, simplify, crs84))]
    columns += [_column(layer, f) for f in tile_fields(layer, levels)]
    return sql.SQL(
        "COALESCE((SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'id') FROM ("
        "SELECT {columns} FROM {table} AS t WHERE {geom} && {envelope}{held} "
        "LIMIT {limit}) AS q WHERE q.geom IS NOT NULL), ''::bytea)"
    ).format(name=sql.Literal(layer.id), extent=sql.Literal(EXTENT), limit=limit,
             columns=sql.SQL(", ").join(columns), table=sql.Identifier(layer.table),
             geom=sql.SQL("t.geom" if crs84 else "t.geom_3857"),
             envelope=_envelope(crs84, margin=True),
             held=_held_back(layer) if held_back else sql.SQL(""))


def is_overview(layer: Layer, z: int) -> bool:
    """Whether tiles at zoom z carry the layer's overview instead of its features."""
    return layer.overview is not None and z <= layer.overview.maxzoom


@lru_cache(maxsize=None)
def overview_tile_sql(layer_id: str, levels: frozenset[Access],
                      crs84: bool = False) -> sql.Composed:
    """The bytea expression giving a layer's overview (Layer.overview) in the tile.

    A Web Mercator tile reads it as the ETL encoded it (etl/overviews.py: what
    encode_overview_sql encodes, run once per load instead of once per request); a
    WorldCRS84Quad tile encodes it.
    """
    if crs84:
        return encode_overview_sql(layer_id, levels, crs84)
    return sql.SQL(
        "COALESCE((SELECT o.mvt FROM {} AS o WHERE o.z = %(z)s::integer"
        " AND o.x = %(x)s::integer AND o.y = %(y)s::integer), ''::bytea)"
    ).format(sql.Identifier(get_layer(layer_id).overview_tiles_table))


@lru_cache(maxsize=None)
def encode_overview_sql(layer_id: str, levels: frozenset[Access],
                        crs84: bool = False) -> sql.Composed:
    """The bytea expression encoding a layer's overview rows in the tile.

    The MVT layer keeps the layer's id, so the style draws it as the layer, coloured by
    the `group_by` fields it carries; `feature_count` says how many features it merges.
    Overviews are stored in EPSG:3857 only: a WorldCRS84Quad tile transforms them (a few
    hundred rows, so without the index: an envelope near a pole has no Mercator form).
    """
    layer = get_layer(layer_id)
    carried = {f.name for f in tile_fields(layer, levels)}
    geom = "ST_Transform(t.geom_3857, 4326)" if crs84 else "t.geom_3857"
    columns = [sql.SQL("t.id"), sql.SQL("{} AS geom").format(_geometry(layer, False, crs84, geom)),
               sql.SQL("t.feature_count")]
    columns += [sql.SQL("t.{}").format(sql.Identifier(g)) for g in layer.overview.group_by
                if g in carried]
    return sql.SQL(
        "COALESCE((SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'id') FROM ("
        # no `WHERE q.geom IS NOT NULL`: ST_AsMVT skips NULL geometries itself, and the
        # filter, pushed into this subquery, ran ST_AsMVTGeom twice per row
        "SELECT {columns} FROM {table} AS t WHERE {geom} && {envelope}) AS q), ''::bytea)"
    ).format(name=sql.Literal(layer.id), extent=sql.Literal(EXTENT),
             columns=sql.SQL(", ").join(columns), table=sql.Identifier(layer.overview_table),
             geom=sql.SQL(geom), envelope=_envelope(crs84, margin=True))


def label_layer_name(layer: Layer) -> str:
    """The MVT layer holding an area layer's label points: wards -> wards_labels."""
    return f"{layer.id}{LABEL_SUFFIX}"


def has_label_points(layer: Layer, z: int) -> bool:
    """Whether tiles at zoom z carry the layer's label points: an area layer with a label
    drawn somewhere in [z, z + 1) (a style layer's maxzoom is exclusive)."""
    if layer.is_point or layer.is_line:
        return False
    return any(max(layer.minzoom, label.minzoom or 0) < z + 1
               and (layer.maxzoom + 1 if label.maxzoom is None else label.maxzoom) > z
               for label in layer.style.drawn_labels)


def label_zooms(layer: Layer) -> tuple[int, int] | None:
    """The tile zooms carrying an area layer's label points, (min, max); None: no labels."""
    zooms = [z for z in range(layer.minzoom, layer.maxzoom + 1) if has_label_points(layer, z)]
    return (zooms[0], zooms[-1]) if zooms else None


def label_fields(layer: Layer, levels: frozenset[Access]) -> tuple[Field, ...]:
    """The fields an area layer's label points carry: those its labels write."""
    carried = {f.name for f in tile_fields(layer, levels)}
    names = dict.fromkeys(n for label in layer.style.drawn_labels
                          for n in (label.field, label.detail, *label.fields.values())
                          if n in carried)
    return tuple(layer.field(n) for n in names)


@lru_cache(maxsize=None)
def label_tile_sql(layer_id: str, levels: frozenset[Access],
                   crs84: bool = False, held_back: bool = False) -> sql.Composed:
    """The bytea expression encoding one point per area feature to write its labels at.

    A polygon cut by tile edges would be named once per tile it touches (a ward's name
    three times, a zone's code five); its one point on its surface lies in one tile only,
    so each area is named once. The points carry only the fields its labels write.
    """
    layer = get_layer(layer_id)
    envelope = _envelope(crs84)
    columns = [sql.SQL("t.id"),
               sql.SQL("{} AS geom").format(_geometry(layer, False, crs84, "p.at"))]
    columns += [_column(layer, f) for f in label_fields(layer, levels)]
    return sql.SQL(
        "COALESCE((SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'id') FROM ("
        "SELECT {columns} FROM {table} AS t"
        # OFFSET 0 keeps the subquery from being inlined: inlined, PostgreSQL computed the
        # point once per reference (six), 21-27 ms instead of 3.6-7 ms for a z14 tile's
        # 313 zone labels under load
        " CROSS JOIN LATERAL (SELECT ST_PointOnSurface({geom}) AS at OFFSET 0) AS p"
        " WHERE {geom} && {envelope}{held} AND p.at && {envelope}"
        # `&&` compares float4 boxes and includes the edges: a point on (or within float4
        # of) a tile edge would be in two tiles. The exact half-open test keeps it in one.
        " AND ST_X(p.at) >= ST_XMin({envelope}) AND ST_X(p.at) < ST_XMax({envelope})"
        " AND ST_Y(p.at) >= ST_YMin({envelope}) AND ST_Y(p.at) < ST_YMax({envelope})"
        " LIMIT %(max_features)s::integer) AS q WHERE q.geom IS NOT NULL), ''::bytea)"
    ).format(name=sql.Literal(label_layer_name(layer)), extent=sql.Literal(EXTENT),
             columns=sql.SQL(", ").join(columns), table=sql.Identifier(layer.table),
             geom=sql.SQL("t.geom" if crs84 else "t.geom_3857"), envelope=envelope,
             held=_held_back(layer) if held_back else sql.SQL(""))


def _layer_part(layer_id: str, levels: frozenset[Access], z: int,
                crs84: bool) -> sql.Composed:
    layer = get_layer(layer_id)
    if is_overview(layer, z):
        part = overview_tile_sql(layer_id, levels, crs84)
    else:
        part = layer_tile_sql(layer_id, levels, is_simplified(layer, z), crs84,
                              holds_back(layer, z))
    if has_label_points(layer, z):
        part = sql.SQL("{} || {}").format(part, label_tile_sql(layer_id, levels, crs84,
                                                              holds_back(layer, z)))
    return part


@lru_cache(maxsize=4096)
def composite_tile_sql(layer_ids: tuple[str, ...], levels: frozenset[Access], z: int,
                       crs84: bool = False) -> str:
    """ONE statement: the concatenated MVT of these layers at zoom z, plus their versions.

    The versions come from the same snapshot as the features, so a cached tile is
    labelled with exactly the data it holds. Only whether layers are simplified (or carry
    their overview) depends on z; z/x/y themselves are bound parameters, `$1`... in the
    order of PARAMS.
    """
    parts = sql.SQL(" || ").join(_layer_part(lid, levels, z, crs84) for lid in layer_ids)
    text = sql.SQL(
        "SELECT {parts} AS tile, ARRAY(SELECT COALESCE((SELECT s.data_version FROM layer_state"
        " AS s WHERE s.layer = u.l), 0) FROM unnest(%(layer_ids)s::text[]) WITH ORDINALITY"
        " AS u(l, i) ORDER BY u.i) AS versions"
    ).format(parts=parts).as_string(None)
    for number, name in enumerate(PARAMS, 1):
        text = text.replace(f"%({name})s", f"${number}")
    if "%(" in text:
        raise ValueError(f"tile SQL has a placeholder outside PARAMS: {text}")
    return text


def tile_params(layer_ids: tuple[str, ...], tile: Tile, max_features: int,
                crs84: bool = False) -> tuple:
    """The bound values of composite_tile_sql for one tile, in the order of PARAMS."""
    return (tile.z, tile.x, tile.y, simplify_tolerance(tile.z, crs84), BUFFER / EXTENT,
            max_features, list(layer_ids))


def active_layers(layers: tuple[Layer, ...], z: int) -> tuple[str, ...]:
    """Ids of the requested layers drawn at zoom z, in request order."""
    return tuple(layer.id for layer in layers if is_in_zoom(layer, z))


def render_tile(conn: Any, layers: tuple[Layer, ...], tile: Tile, levels: frozenset[Access],
                max_features: int = DEFAULT_MAX_FEATURES, crs84: bool = False,
                prepare: bool = True) -> RenderedTile:
    """Encode the composite tile on a psycopg connection (or a pooled one wrapping it).

    z/x/y are already checked; `crs84` reads `tile` as a WorldCRS84Quad address
    (grid.parse_crs84_tile). The statement is prepared on the connection the first
    time it runs there (see the module docstring), unless `prepare` is False: behind a
    transaction-mode pooler the next tile may run on a server connection that never saw it.
    """
    layer_ids = active_layers(layers, tile.z)
    if not layer_ids:
        return RenderedTile(b"", ())
    with psycopg.RawCursor(getattr(conn, "driver_connection", conn)) as cur:
        cur.execute(composite_tile_sql(layer_ids, levels, tile.z, crs84),
                    tile_params(layer_ids, tile, max_features, crs84), prepare=prepare,
                    binary=True)
        data, versions = cur.fetchone()
    if len(data) > BIG_TILE_BYTES:
        log.warning("tile %s of %s is %d KB (over %d KB): raise the minzoom of its densest "
                    "layer or lower GISAPP_TILE_MAX_FEATURES", tile, ",".join(layer_ids),
                    len(data) // 1024, BIG_TILE_BYTES // 1024)
    return RenderedTile(bytes(data), tuple(versions))
