"""Layer overviews: the generalised features that low-zoom tiles carry (Layer.overview).

A feature belongs to the square cell (Overview.cell_m, EPSG:3857 metres) that holds the
centre of its bounding box; the features of one cell that share the `group_by` values are
merged (intersecting areas unioned, lines joined end to end), simplified and stored as one
row. A load rebuilds
only the cells its changes touch, inside the load's own transaction, so the overview and
the layer's data version always move together.

The overview is also stored encoded, one MVT layer per tile of its zooms (the layer's
minzoom to Overview.maxzoom), re-encoded for the tiles the changed rows touch: a z14
tile of the 250,000-parcel city spent most of its time (buildings 264 ms, parcels 93 ms
of ~700 ms at load 12) clipping and validating the same overview rows on every request.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from layers import Layer

Box = tuple[float, float, float, float]  # lon/lat: west, south, east, north
Box3857 = tuple[float, float, float, float]  # EPSG:3857 metres: xmin, ymin, xmax, ymax

# The tiles' MVT extent and buffer: tiles.sql's EXTENT and BUFFER (the ETL does not import
# tiles/; tests/etl/test_overviews.py checks a stored tile against the one tiles/ encodes).
TILE_EXTENT = 4096
TILE_BUFFER = 64
WORLD_HALF_M = 20037508.342789244
_EXTENT_OF = sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                     " (SELECT ST_Extent(geom_3857) AS e FROM {}) AS x")

# The cells an extent touches (%(w)s... in lon/lat): their first and last cell_x, cell_y.
_CELL_RANGE = sql.SQL(
    "SELECT floor(ST_XMin(b) / %(cell)s)::integer, floor(ST_YMin(b) / %(cell)s)::integer,"
    " floor(ST_XMax(b) / %(cell)s)::integer, floor(ST_YMax(b) / %(cell)s)::integer"
    " FROM ST_Transform(ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326), 3857) AS b")
_CELLS = sql.SQL("ST_MakeEnvelope(%(cx0)s * %(cell)s, %(cy0)s * %(cell)s,"
                 " (%(cx1)s + 1) * %(cell)s, (%(cy1)s + 1) * %(cell)s, 3857)")
# A statement's sort of every feature by cell spilled 28 MB to disk at 200,000 parcels
_WORK_MEM = "64MB"


def refresh_overview(conn: psycopg.Connection, layer: Layer, extent: Box | None = None,
                     encode_tiles: bool = True, schema: str = "public",
                     part: tuple[int, int] = (0, 1)) -> int:
    """Rebuild the overview cells that `extent` touches (every cell when None); rows written.

    Runs in the caller's transaction; `conn` is a psycopg connection (from SQLAlchemy,
    its driver connection). `encode_tiles=False` leaves the stored overview tiles alone
    (migration 0008, which runs before 0016 made their tables, and encodes them itself;
    a first load's shadow overview, encoded once moved in). `schema` holds the layer table
    read and the overview table written (etl_load for a first load's shadow tables);
    `part` (i, n) rebuilds only the cell columns with |cell_x| mod n = i, so n connections
    can rebuild a layer together.
    """
    ov = layer.overview
    if ov is None:
        return 0
    groups = sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(g)) for g in ov.group_by)
    params: dict[str, object] = {"cell": ov.cell_m, "simplify": ov.simplify_m,
                                 "part": part[0], "parts": part[1]}
    in_cells = sql.SQL("abs(cell_x) %% %(parts)s = %(part)s")
    if extent is not None:
        # numbers, not a per-row point-in-rectangle test (1.6 s of a 200,000-parcel rebuild)
        params.update(zip(("w", "s", "e", "n"), extent))
        params.update(zip(("cx0", "cy0", "cx1", "cy1"),
                          conn.execute(_CELL_RANGE, params).fetchone()))
        in_cells = sql.SQL("{} AND cell_x BETWEEN %(cx0)s AND %(cx1)s"
                           " AND cell_y BETWEEN %(cy0)s AND %(cy1)s").format(in_cells)
    work_mem = conn.execute("SELECT current_setting('work_mem'),"
                            " set_config('work_mem', %s, true)", (_WORK_MEM,)).fetchone()[0]
    removed = conn.execute(sql.SQL("WITH d AS (DELETE FROM {} WHERE {} RETURNING geom_3857) "
                                   ).format(sql.Identifier(schema, layer.overview_table), in_cells)
                           + _EXTENT_OF.format(sql.Identifier("d")), params).fetchone()
    near = sql.SQL("t.geom_3857 && {}").format(_CELLS) if extent else sql.SQL("true")
    merge, shape = _merge_sql(layer)
    added = conn.execute(sql.SQL(
        "WITH i AS (INSERT INTO {ov} ({groups}cell_x, cell_y, feature_count, geom_3857)"
        " SELECT {groups}cell_x, cell_y, n, shape FROM (SELECT {groups}cell_x, cell_y, n, {shape}"
        " AS shape FROM (SELECT {groups}cell_x, cell_y, count(*) AS n, {merge} AS merged"
        " FROM (SELECT {groups}geom_3857,"
        " floor((ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 / %(cell)s)::integer AS cell_x,"
        " floor((ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 / %(cell)s)::integer AS cell_y"
        " FROM {table} AS t WHERE {near}) AS f"
        # OFFSET 0 keeps `s` a subquery: pulled up, its shape was computed twice (filter, list)
        " WHERE {in_cells} GROUP BY {groups}cell_x, cell_y) AS g OFFSET 0) AS s"
        " WHERE NOT ST_IsEmpty(shape) RETURNING geom_3857) "
        "SELECT (SELECT count(*) FROM i), x.* FROM ({extent}) AS x").format(
        ov=sql.Identifier(schema, layer.overview_table), groups=groups, merge=merge, shape=shape,
        table=sql.Identifier(schema, layer.table), near=near, in_cells=in_cells,
        extent=_EXTENT_OF.format(sql.Identifier("i"))), params).fetchone()
    conn.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))
    boxes = [b for b in (removed, added[1:]) if b[0] is not None]
    changed = (min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes)) if boxes else None
    if not encode_tiles:
        pass
    elif extent is None:
        encode_overview_tiles(conn, layer)
    elif changed is not None:
        encode_overview_tiles(conn, layer, changed)
    return added[0]


def overview_columns(layer: Layer) -> list[str]:
    """The overview table's columns that a rebuild writes (all but its id)."""
    return [*layer.overview.group_by, "cell_x", "cell_y", "feature_count", "geom_3857"]


def tile_range(box: Box3857, z: int) -> tuple[int, int, int, int]:
    """The tiles at zoom z (x0, y0, x1, y1, inclusive) whose buffered envelope meets `box`."""
    size = 2 * WORLD_HALF_M / (1 << z)
    margin = size * TILE_BUFFER / TILE_EXTENT
    last = (1 << z) - 1

    def clamp(v: float) -> int:
        return min(max(int(v // 1), 0), last)
    return (clamp((box[0] - margin + WORLD_HALF_M) / size),
            clamp((WORLD_HALF_M - box[3] - margin) / size),
            clamp((box[2] + margin + WORLD_HALF_M) / size),
            clamp((WORLD_HALF_M - box[1] + margin) / size))


def encode_overview_tiles(conn: psycopg.Connection, layer: Layer,
                          box: Box3857 | None = None, schema: str = "public",
                          zooms: list[int] | None = None) -> int:
    """Encode the overview tiles meeting `box` (EPSG:3857; None: every tile); tiles written.

    Each is the MVT layer tiles/ would encode from the overview rows (same columns, extent
    and buffer); an empty tile is not stored. `schema` holds the overview read and the
    tiles written (etl_load for a first load's shadows); `zooms` encodes only those.
    """
    ov = layer.overview
    table = sql.Identifier(schema, layer.overview_tiles_table)
    overview = sql.Identifier(schema, layer.overview_table)
    if box is None:
        if zooms is None:
            conn.execute(sql.SQL("DELETE FROM {}").format(table))
        else:
            conn.execute(sql.SQL("DELETE FROM {} WHERE z = ANY(%s)").format(table), (zooms,))
        box = conn.execute(_EXTENT_OF.format(overview)).fetchone()
        if box[0] is None:
            return 0
    envelope = "ST_TileEnvelope(%(z)s::integer, g.x, g.y{})"
    columns = [sql.SQL("t.id"), sql.SQL("ST_AsMVTGeom(t.geom_3857, {}, {}, {}, true) AS geom")
               .format(sql.SQL(envelope.format("")), sql.Literal(TILE_EXTENT),
                       sql.Literal(TILE_BUFFER)), sql.SQL("t.feature_count")]
    columns += [sql.SQL("t.{}").format(sql.Identifier(g)) for g in ov.group_by]
    written = 0
    for z in zooms if zooms is not None else range(layer.minzoom, ov.maxzoom + 1):
        x0, y0, x1, y1 = tile_range(box, z)
        params = {"z": z, "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                  "margin": TILE_BUFFER / TILE_EXTENT}
        conn.execute(sql.SQL("DELETE FROM {} WHERE z = %(z)s AND x BETWEEN %(x0)s AND %(x1)s"
                             " AND y BETWEEN %(y0)s AND %(y1)s").format(table), params)
        written += conn.execute(sql.SQL(
            "INSERT INTO {tiles} (z, x, y, mvt) SELECT %(z)s, g.x, g.y, m.mvt"
            " FROM (SELECT x, y FROM generate_series(%(x0)s::integer, %(x1)s::integer) AS x,"
            " generate_series(%(y0)s::integer, %(y1)s::integer) AS y) AS g,"
            " LATERAL (SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'id') AS mvt FROM"
            " (SELECT {columns} FROM {ov} AS t WHERE t.geom_3857 && {margin}) AS q) AS m"
            " WHERE length(m.mvt) > 0").format(
            tiles=table, name=sql.Literal(layer.id), extent=sql.Literal(TILE_EXTENT),
            columns=sql.SQL(", ").join(columns), ov=overview,
            margin=sql.SQL(envelope.format(", margin => %(margin)s::float8"))),
            params).rowcount
    return written


def _merge_sql(layer: Layer) -> tuple[sql.SQL, sql.SQL]:
    """The aggregate merging one group's features (`merged`), and the stored shape made of it."""
    if layer.is_line:  # segments that meet end to end become one line (pipes: 2-point pieces)
        return (sql.SQL("ST_Collect(geom_3857)"), sql.SQL(
            "ST_Multi(ST_Simplify(ST_LineMerge(merged), %(simplify)s, true))"))
    shape = sql.SQL("ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SimplifyPreserveTopology("
                    "{}, %(simplify)s)), 3))")
    # Only features that intersect need an overlay: each cluster of intersecting features
    # is unioned, the disjoint rest is collected (4x cheaper than ST_Union of the cell on a
    # 200,000-parcel city, same area).
    return (sql.SQL("ST_ClusterIntersecting(geom_3857)"), shape.format(sql.SQL(
        "(SELECT ST_Collect(CASE WHEN ST_NumGeometries(k) > 1 THEN ST_UnaryUnion(k)"
        " ELSE ST_GeometryN(k, 1) END) FROM unnest(merged) AS k)")))
