"""Layer overviews: the generalised features that low-zoom tiles carry (Layer.overview).

A feature belongs to the square cell (Overview.cell_m, EPSG:3857 metres) that holds the
centre of its bounding box; the features of one cell that share the `group_by` values are
merged (the intersecting ones unioned), simplified and stored as one row. A load rebuilds only the cells its
changes touch, inside the load's own transaction, so the overview and the layer's data
version always move together.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from layers import Layer

Box = tuple[float, float, float, float]  # lon/lat: west, south, east, north

# The cells an extent touches, as a 3857 rectangle; %(w)s... are the extent in lon/lat.
_CELLS = sql.SQL(
    "(SELECT ST_MakeEnvelope(floor(ST_XMin(b) / %(cell)s) * %(cell)s,"
    " floor(ST_YMin(b) / %(cell)s) * %(cell)s, (floor(ST_XMax(b) / %(cell)s) + 1) * %(cell)s,"
    " (floor(ST_YMax(b) / %(cell)s) + 1) * %(cell)s, 3857)"
    " FROM ST_Transform(ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326), 3857) AS b)")


def refresh_overview(conn: psycopg.Connection, layer: Layer, extent: Box | None = None) -> int:
    """Rebuild the overview cells that `extent` touches (every cell when None); rows written.

    Runs in the caller's transaction; `conn` is a psycopg connection (from SQLAlchemy,
    its driver connection).
    """
    ov = layer.overview
    if ov is None:
        return 0
    groups = sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(g)) for g in ov.group_by)
    params: dict[str, object] = {"cell": ov.cell_m, "simplify": ov.simplify_m}
    # a cell is wholly inside or outside the rectangle, so cell centres decide membership
    in_cells = sql.SQL("true")
    if extent is not None:
        params.update(zip(("w", "s", "e", "n"), extent))
        in_cells = sql.SQL("ST_Intersects(ST_Point((cell_x + 0.5) * %(cell)s,"
                           " (cell_y + 0.5) * %(cell)s, 3857), {})").format(_CELLS)
    conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(
        sql.Identifier(layer.overview_table), in_cells), params)
    near = sql.SQL("t.geom_3857 && {}").format(_CELLS) if extent else sql.SQL("true")
    # Only features that intersect need an overlay: each cluster of intersecting features
    # is unioned, the disjoint rest is collected (4x cheaper than ST_Union of the cell on a
    # 200,000-parcel city, same area).
    cur = conn.execute(sql.SQL(
        "INSERT INTO {ov} ({groups}cell_x, cell_y, feature_count, geom_3857)"
        " SELECT {groups}cell_x, cell_y, n, ST_Multi(ST_CollectionExtract(ST_MakeValid("
        "ST_SimplifyPreserveTopology((SELECT ST_Collect(CASE WHEN ST_NumGeometries(k) > 1"
        " THEN ST_UnaryUnion(k) ELSE ST_GeometryN(k, 1) END) FROM unnest(clusters) AS k),"
        " %(simplify)s)), 3))"
        " FROM (SELECT {groups}cell_x, cell_y, count(*) AS n,"
        " ST_ClusterIntersecting(geom_3857) AS clusters"
        " FROM (SELECT {groups}geom_3857,"
        " floor((ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 / %(cell)s)::integer AS cell_x,"
        " floor((ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 / %(cell)s)::integer AS cell_y"
        " FROM {table} AS t WHERE {near}) AS f"
        " WHERE {in_cells} GROUP BY {groups}cell_x, cell_y) AS g").format(
        ov=sql.Identifier(layer.overview_table), groups=groups,
        table=sql.Identifier(layer.table), near=near, in_cells=in_cells), params)
    return cur.rowcount
