"""$filter and $orderby trees -> SQL over an entity's declared columns, values as bound parameters.

Every expression is typed (number, text, time, bool, geometry, json) so that a comparison
of unlike things is a 400 rather than a database error. Paths through to-one navigation
(`Datastream/Thing/name`) become scalar subqueries on the declared keys.
"""
from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

from psycopg import sql

from gisapp.errors import BadRequest
from gisapp.sta.entities import EntitySet, get_set
from gisapp.sta.odata import BinOp, Call, Geo, Literal, Negate, Not, Path

SQL_COMPARISON = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
SQL_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
TEXT_FUNCTIONS = {"tolower": "lower", "toupper": "upper", "trim": "btrim"}
TIME_PARTS = {"year": "year", "month": "month", "day": "day", "hour": "hour",
              "minute": "minute", "second": "second"}
MATH_FUNCTIONS = {"round": "round", "floor": "floor", "ceiling": "ceil"}
SPATIAL_PREDICATES = {"st_intersects": "ST_Intersects", "geo.intersects": "ST_Intersects",
                      "st_within": "ST_Within", "st_contains": "ST_Contains",
                      "st_disjoint": "ST_Disjoint", "st_equals": "ST_Equals",
                      "st_touches": "ST_Touches", "st_overlaps": "ST_Overlaps",
                      "st_crosses": "ST_Crosses"}
GEOMETRY_COLUMNS = {"location": "geom", "feature": "geom"}

Typed = tuple[sql.Composable, str]


class Compiler:
    """Compiles expressions for one query: unique aliases, values bound as named parameters."""

    def __init__(self) -> None:
        self._aliases = count()
        self.params: dict[str, Any] = {}

    def alias(self) -> sql.Identifier:
        return sql.Identifier(f"e{next(self._aliases)}")

    def bind(self, value: Any) -> sql.Placeholder:
        """A named placeholder for a value; the value goes to `params`."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def condition(self, entity: EntitySet, alias: sql.Identifier, node: Any) -> sql.Composable:
        """A $filter tree as a boolean SQL condition."""
        expr, kind = self.compile(entity, alias, node)
        if kind != "bool":
            raise BadRequest("$filter must be a condition (a comparison, a function giving "
                             "true or false, or such conditions joined by and/or)")
        return expr

    def compile(self, entity: EntitySet, alias: sql.Identifier, node: Any) -> Typed:
        if isinstance(node, Literal):
            return self.literal(node.value)
        if isinstance(node, Geo):
            return sql.SQL("ST_GeomFromText({}, 4326)").format(self.bind(node.wkt)), "geometry"
        if isinstance(node, Path):
            return self.path(entity, alias, node.parts)
        if isinstance(node, Not):
            return sql.SQL("(NOT {})").format(self.condition(entity, alias, node.operand)), "bool"
        if isinstance(node, Negate):
            expr, kind = self.compile(entity, alias, node.operand)
            _expect(kind, "number", "-")
            return sql.SQL("(-{})").format(expr), "number"
        if isinstance(node, BinOp):
            return self.binary(entity, alias, node)
        if isinstance(node, Call):
            return self.call(entity, alias, node)
        raise BadRequest(f"$filter: cannot use {node!r}")

    def path(self, entity: EntitySet, alias: sql.Identifier, parts: tuple[str, ...]) -> Typed:
        """A property, or a property reached through to-one navigation, as SQL."""
        name = parts[0]
        if len(parts) == 1:
            if name == "id" and entity.name == "Observations":
                raise BadRequest("Observations are filtered by Datastream/id and phenomenonTime,"
                                 " not by id")
            prop = entity.prop(name)
            if not prop.filterable:
                raise BadRequest(f"{entity.name}: {name} cannot be used in $filter or $orderby")
            if prop.kind == "geometry":
                return sql.SQL("{}.{}").format(alias, sql.Identifier(GEOMETRY_COLUMNS[name])), \
                    "geometry"
            return prop.sql(alias), prop.kind
        nav = entity.nav(name)
        if nav.many or nav.self_column is None:
            raise BadRequest(f"$filter: {name} is a collection; only paths through single "
                             "entities (Datastream/Thing/name) can be compared")
        target = get_set(nav.target)
        inner = self.alias()
        value, kind = self.path(target, inner, parts[1:])
        return sql.SQL("(SELECT {value} FROM {table} {inner} WHERE {inner}.id = {alias}.{fk})"
                       ).format(value=value, table=sql.Identifier(target.table), inner=inner,
                                alias=alias, fk=sql.Identifier(nav.self_column)), kind

    def binary(self, entity: EntitySet, alias: sql.Identifier, node: BinOp) -> Typed:
        if node.op in ("and", "or"):
            left = self.condition(entity, alias, node.left)
            right = self.condition(entity, alias, node.right)
            return sql.SQL("({} {} {})").format(left, sql.SQL(node.op.upper()), right), "bool"
        left, lkind = self.compile(entity, alias, node.left)
        right, rkind = self.compile(entity, alias, node.right)
        if node.op in (*SQL_ARITHMETIC, "mod"):
            _expect(lkind, "number", node.op)
            _expect(rkind, "number", node.op)
            if node.op in ("mod", "div"):  # by zero: null (compares false), not an error
                right = sql.SQL("nullif({}, 0)").format(right)
            if node.op == "mod":  # float8 has no %: the remainder of the numeric values
                return sql.SQL("mod(({})::numeric, ({})::numeric)::float8").format(
                    left, right), "number"
            return sql.SQL("({} {} {})").format(left, sql.SQL(SQL_ARITHMETIC[node.op]),
                                                right), "number"
        if "null" in (lkind, rkind):
            if node.op not in ("eq", "ne"):
                raise BadRequest("$filter: null can only be compared with eq or ne")
            other = right if lkind == "null" else left
            test = "IS NULL" if node.op == "eq" else "IS NOT NULL"
            return sql.SQL("({} {})").format(other, sql.SQL(test)), "bool"
        if {lkind, rkind} == {"number", "bool"}:  # truth results are stored as 1.0 and 0.0
            left, right = (self.truth_number(node.left, left, lkind),
                           self.truth_number(node.right, right, rkind))
            lkind = rkind = "number"
        if lkind != rkind or lkind in ("json", "geometry"):
            raise BadRequest(f"$filter: cannot compare {lkind} with {rkind} using {node.op}")
        return sql.SQL("({} {} {})").format(left, sql.SQL(SQL_COMPARISON[node.op]), right), "bool"

    def call(self, entity: EntitySet, alias: sql.Identifier, node: Call) -> Typed:
        args = [self.compile(entity, alias, a) for a in node.args]
        name = node.name

        def arity(n: int) -> None:
            if len(args) != n:
                raise BadRequest(f"$filter: {name}() takes {n} argument(s), got {len(args)}")

        def kinds(*wanted: str) -> list[sql.Composable]:
            for (_, kind), want in zip(args, wanted):
                _expect(kind, want, name)
            return [a for a, _ in args]

        if name in ("substringof", "contains", "startswith", "endswith", "indexof", "concat"):
            arity(2)
            a, b = kinds("text", "text")
            if name == "substringof":  # substringof(needle, haystack), as STA 1.1 writes it
                return sql.SQL("(strpos({}, {}) > 0)").format(b, a), "bool"
            if name == "contains":
                return sql.SQL("(strpos({}, {}) > 0)").format(a, b), "bool"
            if name == "startswith":
                return sql.SQL("(left({a}, char_length({b})) = {b})").format(a=a, b=b), "bool"
            if name == "endswith":
                return sql.SQL("(right({a}, char_length({b})) = {b})").format(a=a, b=b), "bool"
            if name == "indexof":
                return sql.SQL("(strpos({}, {}) - 1)").format(a, b), "number"
            return sql.SQL("({} || {})").format(a, b), "text"
        if name == "length":
            arity(1)
            return sql.SQL("char_length({})").format(*kinds("text")), "number"
        if name in TEXT_FUNCTIONS:
            arity(1)
            return sql.SQL("{}({})").format(sql.SQL(TEXT_FUNCTIONS[name]), *kinds("text")), \
                "text"
        if name == "substring":
            if len(args) not in (2, 3):
                raise BadRequest("$filter: substring() takes 2 or 3 arguments")
            parts = kinds("text", "number", "number")
            # positions and lengths clamped to what substr's int takes
            bounded = [sql.SQL("least(greatest(({}), 0), 1000000000)::int").format(p)
                       for p in parts[1:]]
            tail = sql.SQL(", {}").format(bounded[1]) if len(bounded) == 2 else sql.SQL("")
            return sql.SQL("substr({}, {} + 1{})").format(parts[0], bounded[0], tail), "text"
        if name in TIME_PARTS:
            arity(1)
            return sql.SQL("extract({} FROM {} AT TIME ZONE 'UTC')").format(
                sql.SQL(TIME_PARTS[name]), *kinds("time")), "number"
        if name == "now":
            arity(0)
            return sql.SQL("now()"), "time"
        if name in MATH_FUNCTIONS:
            arity(1)
            return sql.SQL("{}({})").format(sql.SQL(MATH_FUNCTIONS[name]), *kinds("number")), \
                "number"
        if name in SPATIAL_PREDICATES:
            arity(2)
            a, b = kinds("geometry", "geometry")
            return sql.SQL("{}({}, {})").format(sql.SQL(SPATIAL_PREDICATES[name]), a, b), "bool"
        if name in ("geo.distance", "st_distance"):
            arity(2)
            a, b = kinds("geometry", "geometry")
            return sql.SQL("ST_Distance({}::geography, {}::geography)").format(a, b), "number"
        if name == "geo.length":
            arity(1)
            return sql.SQL("ST_Length({}::geography)").format(*kinds("geometry")), "number"
        raise BadRequest(f"$filter: unknown function {name}(); known: substringof, contains, "
                         "startswith, endswith, indexof, concat, length, tolower, toupper, trim,"
                         " substring, year, month, day, hour, minute, second, now, round, "
                         "floor, ceiling, geo.intersects, geo.distance, geo.length, "
                         + ", ".join(k for k in SPATIAL_PREDICATES if k.startswith("st_")))

    def order(self, entity: EntitySet, alias: sql.Identifier, items) -> list[sql.Composable]:
        """$orderby items as ORDER BY terms."""
        terms = []
        for item in items:
            expr, kind = self.compile(entity, alias, item.expr)
            if kind in ("json", "geometry", "bool"):
                raise BadRequest(f"$orderby: cannot order by a {kind} value")
            terms.append(sql.SQL("{} {}").format(expr, sql.SQL("DESC" if item.descending
                                                               else "ASC")))
        return terms


    def literal(self, value: Any) -> Typed:
        """A bound literal with its SQL type."""
        if value is None:
            return sql.SQL("NULL"), "null"
        for python_type, cast, kind in ((bool, "boolean", "bool"), (int, "bigint", "number"),
                                        (float, "float8", "number"),
                                        (datetime, "timestamptz", "time"), (str, "text", "text")):
            if isinstance(value, python_type):
                return sql.SQL("{}::{}").format(self.bind(value), sql.SQL(cast)), kind
        raise BadRequest(f"$filter: cannot use the value {value!r}")

    def truth_number(self, node: Any, expr: sql.Composable, kind: str) -> sql.Composable:
        """true/false compared with a truth result (stored as 1.0 or 0.0) becomes that number."""
        if kind != "bool":
            return expr
        if not isinstance(node, Literal):
            raise BadRequest("$filter: a number can be compared with true or false only")
        return sql.SQL("{}::float8").format(self.bind(1.0 if node.value else 0.0))


def _expect(kind: str, wanted: str, where: str) -> None:
    if kind != wanted:
        raise BadRequest(f"$filter: {where} needs a {wanted}, not a {kind}")
