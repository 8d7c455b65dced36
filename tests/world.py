"""Test worlds derived from the registry: the one value generator for declared fields, the
rows it fills, and the INSERT that writes a row of any declared table.

Every fixture that needs "some valid value for this field" takes it from `field_value`, so a
new field, type or choice list is covered everywhere at once. Row i of a layer has unique
business-key values; row 0 is what the browser tests' known city shows.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from layers import Field, FieldType, Table
from layers.city import CITY

# SQL text reading a WKT placeholder in the city's metric CRS (VN-2000 / TM-3) as WGS 84.
FROM_METRIC = sql.SQL("ST_Transform(ST_GeomFromText(%s, {}), 4326)").format(
    CITY.metric_srid).as_string()


def field_value(field: Field, i: int = 0):
    """The i-th test value of a declared field: its choices in turn, else one of its type."""
    if field.choices:
        return field.choices[i % len(field.choices)]
    if field.year:
        return 2015 + i
    return {FieldType.TEXT: f"{field.name}-{i + 1}", FieldType.INTEGER: i + 7,
            FieldType.FLOAT: i + 12.5, FieldType.DATE: "2024-05-01",
            FieldType.BOOLEAN: i % 2 == 0}[field.type]


def row_values(decl: Table, i: int = 0) -> dict:
    """Row i of a layer or table: every imported field filled, its keys unique to i."""
    return {f.name: field_value(f, i) for f in decl.imported_fields}


def insert_statement(decl: Table, names: list[str], geometry: bool) -> sql.Composed:
    """INSERT of the named fields (plus `geom` from lon/lat WKT, made multi where declared)."""
    columns = [sql.Identifier(n) for n in names]
    marks = [sql.Placeholder() for _ in names]
    if geometry:
        make = ("ST_Multi(ST_GeomFromText({}, 4326))"
                if decl.geometry_type.startswith("Multi") else "ST_GeomFromText({}, 4326)")
        columns.append(sql.Identifier("geom"))
        marks.append(sql.SQL(make).format(sql.Placeholder()))
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(decl.table), sql.SQL(", ").join(columns), sql.SQL(", ").join(marks))


def insert_rows(conn: psycopg.Connection, decl: Table, rows: list[dict],
                wkts: list[str] | None = None) -> None:
    """Write rows (dicts of field values) of a declared table; `wkts` are their geometries."""
    if not rows:
        return
    names = list(rows[0])
    stmt = insert_statement(decl, names, wkts is not None)
    conn.cursor().executemany(stmt, [[row[n] for n in names] + ([wkts[k]] if wkts else [])
                                     for k, row in enumerate(rows)])
