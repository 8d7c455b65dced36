"""CQL2 (parsed by pygeofilter) translated into SQLAlchemy expressions over a layer table.

Every property name is checked against the fields the caller may see before anything is
built, every value becomes a bound parameter, and distances are metres in the city's metric CRS.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import shapely
from pygeofilter import ast, values
from sqlalchemy import (Boolean, ColumnElement, Float, FromClause, Text, and_, false, func, literal,
                        literal_column, not_, or_, true)
from sqlalchemy.types import BigInteger, Date

from gisapp.errors import BadRequest
from gisapp.features.cql2_parse import parse_filter
from gisapp.features.crs import METRIC_SRID, geometry_to_crs84
from layers import Field, FieldType, Layer

GEOMETRY_NAMES = ("geom", "geometry")
MAX_IN_VALUES = 1000
MAX_VERTICES = 10_000
MAX_DISTANCE_M = 100_000
INT64 = 2**63 - 1
UNITS_TO_METRES = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
                   "km": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0,
                   "kilometre": 1000.0, "kilometres": 1000.0}
SPATIAL_FUNCS = {
    ast.GeometryIntersects: func.ST_Intersects, ast.GeometryDisjoint: func.ST_Disjoint,
    ast.GeometryContains: func.ST_Contains, ast.GeometryWithin: func.ST_Within,
    ast.GeometryTouches: func.ST_Touches, ast.GeometryCrosses: func.ST_Crosses,
    ast.GeometryOverlaps: func.ST_Overlaps, ast.GeometryEquals: func.ST_Equals,
}
COMPARISONS = {
    ast.Equal: lambda a, b: a == b, ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b, ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b, ast.GreaterEqual: lambda a, b: a >= b,
}
FLIPPED = {ast.LessThan: ast.GreaterThan, ast.GreaterThan: ast.LessThan,
           ast.LessEqual: ast.GreaterEqual, ast.GreaterEqual: ast.LessEqual}
# The feature id: queryable (the queryables document lists it) though no declared field.
# CQL2's text functions; pygeofilter spells CASEI as lower.
TEXT_FUNCTIONS = {"casei": "casei", "lower": "casei", "accenti": "accenti"}
ID_FIELD = Field("id", FieldType.INTEGER, "Mã đối tượng", "Feature id")
SQL_TYPES = {FieldType.TEXT: Text, FieldType.INTEGER: BigInteger, FieldType.FLOAT: Float,
             FieldType.DATE: Date, FieldType.BOOLEAN: Boolean}


def build_filter(text: str, lang: str, layer: Layer, table: FromClause,
                 fields: tuple[Field, ...], filter_crs: str) -> ColumnElement[bool]:
    """The WHERE clause for a CQL2 filter on `layer`; `fields` are those the caller may see."""
    return _Translator(layer, table, fields, filter_crs).condition(parse_filter(text, lang))


class _Translator:
    def __init__(self, layer: Layer, table: FromClause, fields: tuple[Field, ...], crs: str):
        self.layer, self.table, self.crs = layer, table, crs
        self.fields = {ID_FIELD.name: ID_FIELD, **{f.name: f for f in fields}}

    # conditions -----------------------------------------------------------------------
    def condition(self, node: Any) -> ColumnElement[bool]:
        if isinstance(node, bool):  # TRUE/FALSE as a condition (CQL2 Basic)
            return true() if node else false()
        if isinstance(node, ast.And):
            return and_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node))
        if isinstance(node, ast.Include):
            return false() if node.not_ else true()
        if type(node) in COMPARISONS:
            return self.comparison(node)
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.In):
            return self.in_list(node)
        if isinstance(node, ast.Between):
            column, field = self.operand(node.lhs)
            low, high = self.value(node.low, field), self.value(node.high, field)
            expr = column.between(low, high)
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.IsNull):
            column, _ = self.operand(node.lhs)
            return column.is_not(None) if node.not_ else column.is_(None)
        if type(node) in SPATIAL_FUNCS:
            return SPATIAL_FUNCS[type(node)](self.geometry_column(node.lhs),
                                              self.geometry_value(node.rhs))
        if isinstance(node, ast.BBox):
            box = values.Envelope(node.minx, node.maxx, node.miny, node.maxy)
            return func.ST_Intersects(self.geometry_column(node.lhs), self.geometry_value(box))
        if isinstance(node, ast.DistanceWithin):
            return self.distance_within(node)
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        name = type(node).__name__
        raise BadRequest(f"filter uses {name}, which is not supported; supported: comparisons, "
                         "LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT, S_INTERSECTS, S_WITHIN, "
                         "S_CONTAINS (and the other S_ predicates), S_DWITHIN in metres, "
                         "T_BEFORE/T_AFTER/T_EQUALS/T_DURING on date properties")

    def comparison(self, node: ast.Comparison) -> ColumnElement[bool]:
        kind, lhs, rhs = type(node), node.lhs, node.rhs
        if not self.is_property(lhs) and self.is_property(rhs):
            kind, lhs, rhs = FLIPPED.get(kind, kind), rhs, lhs
        column, field = self.operand(lhs)
        if self.is_property(rhs):
            other, other_field = self.operand(rhs)
            if _family(other_field.type) != _family(field.type):
                raise BadRequest(f"cannot compare {field.name} ({field.type.value}) with "
                                 f"{other_field.name} ({other_field.type.value})")
            return COMPARISONS[kind](column, other)
        return COMPARISONS[kind](column, self.value(rhs, field))

    def like(self, node: ast.Like) -> ColumnElement[bool]:
        """LIKE on a text property; CASEI/ACCENTI apply to the side they wrap."""
        pattern, ops = _peel(node.pattern)
        if not isinstance(pattern, str):
            raise BadRequest("LIKE needs a text pattern, e.g. name LIKE 'Lê%' or "
                             "CASEI(name) LIKE CASEI('lê%')")
        inner, _ = _peel(node.lhs)
        self.text_operand(inner, "LIKE")
        column, _ = self.operand(node.lhs)
        expr = column.like(_apply(ops, literal(pattern, Text)))
        return not_(expr) if node.not_ else expr

    def in_list(self, node: ast.In) -> ColumnElement[bool]:
        column, field = self.operand(node.lhs)
        if len(node.sub_nodes) > MAX_IN_VALUES:
            raise BadRequest(f"IN lists at most {MAX_IN_VALUES} values")
        expr = column.in_([self.value(v, field) for v in node.sub_nodes])
        return not_(expr) if node.not_ else expr

    def distance_within(self, node: ast.DistanceWithin) -> ColumnElement[bool]:
        column = self.geometry_column(node.lhs)
        units = str(node.units).lower()
        if units not in UNITS_TO_METRES:
            raise BadRequest(f"distance unit {node.units!r} is not supported; use metres or km")
        distance = node.distance
        if isinstance(distance, bool) or not isinstance(distance, (int, float)) \
                or not math.isfinite(distance):
            raise BadRequest("S_DWITHIN distance must be a number")
        metres = float(distance) * UNITS_TO_METRES[units]
        if not 0 <= metres <= MAX_DISTANCE_M:
            raise BadRequest(f"S_DWITHIN distance {metres:g} m is out of range 0..{MAX_DISTANCE_M}")
        target = func.ST_Transform(self.geometry_value(node.rhs), METRIC_SRID)
        # The index prefilter: a box around the target, grown by the distance plus a margin
        # for the curvature of its edges once back in degrees.
        grown = func.ST_Transform(func.ST_Expand(target, literal(metres * 1.01 + 1.0, Float)), 4326)
        within = func.ST_DWithin(func.ST_Transform(column, METRIC_SRID), target,
                                 literal(metres, Float))
        return and_(column.op("&&")(grown), within)

    def temporal(self, node: ast.TemporalPredicate) -> ColumnElement[bool]:
        column, field = self.operand(node.lhs)
        if field.type is not FieldType.DATE:
            raise BadRequest(f"{type(node).__name__} needs a date property; "
                             f"{field.name} is {field.type.value}")
        if isinstance(node.rhs, values.Interval):
            start, end = (None if v is None else self.value(v, field)
                          for v in (node.rhs.start, node.rhs.end))
            strict = isinstance(node, ast.TimeDuring)
            if isinstance(node, (ast.TimeDuring, ast.TimeOverlaps)):
                parts = [] if start is None else [column > start if strict else column >= start]
                parts += [] if end is None else [column < end if strict else column <= end]
                return and_(true(), *parts)
        elif isinstance(node, (ast.TimeAfter, ast.TimeBefore, ast.TimeEquals)):
            instant = self.value(node.rhs, field)
            return {ast.TimeAfter: column > instant, ast.TimeBefore: column < instant,
                    ast.TimeEquals: column == instant}[type(node)]
        raise BadRequest(f"{type(node).__name__} is not supported here; use T_BEFORE, T_AFTER, "
                         "T_EQUALS with a DATE, or T_DURING/T_INTERSECTS with an INTERVAL")

    # operands -------------------------------------------------------------------------
    @staticmethod
    def is_property(node: Any) -> bool:
        """A property, bare or inside CASEI/ACCENTI; CASEI('text') is a value."""
        return isinstance(_peel(node)[0], ast.Attribute)

    def field(self, name: str) -> Field:
        if name not in self.fields:
            raise BadRequest(f"filter: {self.layer.id} has no queryable property {name!r}; "
                             f"queryables: {', '.join([*self.fields, 'geom'])}")
        return self.fields[name]

    def operand(self, node: Any) -> tuple[ColumnElement, Field]:
        if isinstance(node, ast.Attribute):
            field = self.field(node.name)
            return self.table.c[field.name], field
        inner, ops = _peel(node)
        if ops and isinstance(inner, ast.Attribute):
            column, field = self.text_operand(inner, "CASEI and ACCENTI")
            return _apply(ops, column), field
        if isinstance(node, ast.Function):
            raise BadRequest(f"function {node.name!r} is not supported here; allowed: CASEI "
                             "and ACCENTI over a text property or a text literal")
        if isinstance(node, ast.Arithmetic):
            raise BadRequest("arithmetic in filters is not supported")
        raise BadRequest(f"expected a property name, got the value {node!r}"[:200])

    def text_operand(self, node: Any, what: str) -> tuple[ColumnElement, Field]:
        if not isinstance(node, ast.Attribute):
            raise BadRequest(f"{what} applies to one text property")
        column, field = self.operand(node)
        if field.type is not FieldType.TEXT:
            raise BadRequest(f"{what} needs a text property; {field.name} is {field.type.value}")
        return column, field

    def value(self, raw: Any, field: Field) -> ColumnElement:
        """A literal checked against the field's type, as a bound parameter."""
        raw, ops = _peel(raw)
        if ops and not isinstance(raw, str):
            raise BadRequest(f"CASEI and ACCENTI take text; got {_describe(raw)}")
        ok = {
            FieldType.TEXT: isinstance(raw, str),
            FieldType.INTEGER: isinstance(raw, int) and not isinstance(raw, bool)
            and -INT64 <= raw <= INT64,
            FieldType.FLOAT: isinstance(raw, (int, float)) and not isinstance(raw, bool)
            and math.isfinite(raw) and abs(raw) < 1e300,
            FieldType.DATE: isinstance(raw, date),
            FieldType.BOOLEAN: isinstance(raw, bool),
        }[field.type]
        if not ok:
            raise BadRequest(f"{field.name} is {field.type.value}; {_describe(raw)} does not fit")
        if isinstance(raw, datetime):
            raw = raw.date()
        if ops:
            return _apply(ops, literal(raw, Text))
        return literal(raw, SQL_TYPES[field.type]())

    def geometry_column(self, node: Any) -> ColumnElement:
        if not (isinstance(node, ast.Attribute) and node.name in GEOMETRY_NAMES):
            raise BadRequest(f"spatial predicates compare the property 'geom' with a geometry "
                             f"literal; got {_describe(node)}")
        return self.table.c.geom

    def geometry_value(self, raw: Any) -> ColumnElement:
        """A validated geometry literal in CRS84 as a bound WKB parameter in SRID 4326."""
        if isinstance(raw, ast.Function) and raw.name.lower() == "bbox" and len(raw.arguments) == 4:
            minx, miny, maxx, maxy = raw.arguments
            raw = values.Envelope(minx, maxx, miny, maxy)
        if not isinstance(raw, (values.Geometry, values.Envelope)):
            raise BadRequest(f"expected a geometry literal (WKT or GeoJSON), got {_describe(raw)}")
        try:
            geom = shapely.geometry.shape(raw.__geo_interface__)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise BadRequest(f"invalid geometry literal: {exc}"[:200]) from None
        if shapely.get_num_coordinates(geom) > MAX_VERTICES:
            raise BadRequest(f"geometry literal has more than {MAX_VERTICES} vertices")
        coords = shapely.get_coordinates(geom)
        if geom.is_empty or not all(math.isfinite(v) for v in coords.flat):
            raise BadRequest("geometry literal is empty or has non-finite coordinates")
        geom = geometry_to_crs84(geom, self.crs)
        coords = shapely.get_coordinates(geom)
        if (abs(coords[:, 0]) > 180).any() or (abs(coords[:, 1]) > 90).any():
            raise BadRequest("geometry literal is outside longitude -180..180, latitude -90..90 "
                             "(coordinates are lon lat in CRS84 unless filter-crs says otherwise)")
        if not geom.is_valid:
            raise BadRequest(f"invalid geometry literal: {shapely.is_valid_reason(geom)}")
        return func.ST_GeomFromWKB(literal(shapely.to_wkb(geom, output_dimension=2)), 4326)


def _peel(node: Any) -> tuple[Any, tuple[str, ...]]:
    """A node without its CASEI/ACCENTI wrappers, and those wrappers (outermost first)."""
    ops: list[str] = []
    while (isinstance(node, ast.Function) and node.name.lower() in TEXT_FUNCTIONS
           and len(node.arguments) == 1):
        ops.append(TEXT_FUNCTIONS[node.name.lower()])
        node = node.arguments[0]
    return node, tuple(ops)


def _apply(ops: tuple[str, ...], expr: ColumnElement) -> ColumnElement:
    """Apply text wrappers, innermost first: casei is lower(); accenti strips diacritics.

    unaccent maps Vietnamese letters (ả, ư, đ/Đ…) to their base letters; NFC first so
    decomposed input (a + combining hook) folds the same as precomposed.
    """
    for op in reversed(ops):
        if op == "casei":
            expr = func.lower(expr)
        else:
            expr = func.unaccent(func.normalize(expr, literal_column("NFC")))
    return expr


def _family(kind: FieldType) -> str:
    return "number" if kind in (FieldType.INTEGER, FieldType.FLOAT) else kind.value


def _describe(raw: Any) -> str:
    return f"{type(raw).__name__} {raw!r}"[:120]
