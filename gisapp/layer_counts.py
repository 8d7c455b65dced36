"""Feature counts per layer, for the landing page and `gisapp db status`."""
from __future__ import annotations

from psycopg import sql
from sqlalchemy import Connection

from layers import LAYERS, TABLES


def count_rows(conn: Connection) -> dict[str, int]:
    """Rows in every registry table, by id; exact counts (the tables are city-sized)."""
    ids = [*LAYERS, *TABLES]
    parts = [sql.SQL("SELECT {lit}, count(*) FROM {tbl}").format(
        lit=sql.Literal(i), tbl=sql.Identifier(i)) for i in ids]
    query = sql.SQL(" UNION ALL ").join(parts).as_string()
    return {name: n for name, n in conn.exec_driver_sql(query).all()}
