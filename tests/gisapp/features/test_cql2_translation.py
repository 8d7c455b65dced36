"""The CQL2 visitor's SQL: values only ever as bound parameters; temporal on date fields."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy.dialects import postgresql

from gisapp.errors import BadRequest
from gisapp.features.cql2 import build_filter
from gisapp.features.crs import CRS84
from layers import LAYERS, TABLES
from store.tables import LAYER_TABLES, PLAIN_TABLES

# No layer has a date field yet; the rights table's issued_on exercises the temporal operators.
RIGHTS = TABLES["rights"]
RIGHTS_TABLE = PLAIN_TABLES["rights"]


def compiled(text: str, layer=RIGHTS, table=RIGHTS_TABLE, lang="cql2-text"):
    expr = build_filter(text, lang, layer, table, layer.fields, CRS84)
    sql = expr.compile(dialect=postgresql.dialect())
    return str(sql), sql.params


@pytest.mark.parametrize("cql, op, value", [
    ("T_AFTER(issued_on, DATE('2024-01-01'))", ">", date(2024, 1, 1)),
    ("T_BEFORE(issued_on, DATE('2024-01-01'))", "<", date(2024, 1, 1)),
    ("T_EQUALS(issued_on, DATE('2024-01-01'))", "=", date(2024, 1, 1)),
    ("issued_on >= DATE('2024-02-29')", ">=", date(2024, 2, 29)),
])
def test_temporal_predicates_on_a_date_field(cql, op, value):
    sql, params = compiled(cql)
    assert f"rights.issued_on {op} %(" in sql
    assert list(params.values()) == [value]


def test_t_during_an_interval_is_strictly_inside():
    sql, params = compiled("T_DURING(issued_on, INTERVAL('2024-01-01T00:00:00Z',"
                           "'2024-02-01T00:00:00Z'))")
    assert "issued_on >" in sql and "issued_on <" in sql
    assert sorted(params.values()) == [date(2024, 1, 1), date(2024, 2, 1)]


def test_temporal_predicate_on_a_text_field_is_400():
    with pytest.raises(BadRequest, match="needs a date property; issued_by is text"):
        compiled("T_AFTER(issued_by, DATE('2024-01-01'))")


@pytest.mark.parametrize("hostile", ["x' OR '1'='1", "'; DROP TABLE roads; --", "a\\' OR 1=1"])
def test_string_values_never_reach_the_sql_text(hostile):
    cql = "name = '" + hostile.replace("'", "''") + "'"
    sql, params = compiled(cql, LAYERS["roads"], LAYER_TABLES["roads"])
    assert list(params.values()) == [hostile]
    assert hostile not in sql and "DROP" not in sql
    assert re.fullmatch(r"roads\.name = %\(param_1\)s(::VARCHAR)?", sql)


def test_geometry_literals_are_bound_as_wkb():
    sql, params = compiled("S_INTERSECTS(geom, POINT(108.2 16.0))", LAYERS["roads"],
                           LAYER_TABLES["roads"])
    assert sql.startswith("ST_Intersects(roads.geom, ST_GeomFromWKB(%(param_1)s, ")
    assert isinstance(params["param_1"], bytes)
