"""Reading SensorThings entities: a resource path and query options -> JSON documents.

A path (`Things(1)/Datastreams`, `Datastreams(3)/Observations`, `Observations('3-17…')/
Datastream`) becomes a chain of conditions: each step's rows are those its navigation
property joins to the previous step's rows, as `IN (SELECT …)` subqueries over declared
keys. Collections are paged with $top/$skip (one row more is fetched to know whether a
@iot.nextLink is due); $expand runs one query per expanded parent, with its own options.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gisapp.errors import BadRequest, NotFound
from gisapp.sta.entities import (EntitySet, Nav, get_set, observation_id, observation_result,
                                 parse_observation_id)
from gisapp.sta.expressions import Compiler
from gisapp.sta.odata import QueryOptions

SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>[0-9]{1,18}|'[^']*')\))?$")
Where = Callable[[Compiler, sql.Identifier], sql.Composable]


@dataclass(frozen=True)
class Resource:
    """What a path addresses: rows of an entity set matching `where`; one entity or many."""

    entity: EntitySet
    where: Where
    single: bool
    path: str  # the path as a client writes it, for links


def key_condition(entity: EntitySet, key: Any) -> Where:
    """The condition selecting one entity by its key (an id, or an observation's id)."""
    if entity.name == "Observations":
        ds, when = parse_observation_id(str(key))
        return lambda c, a: sql.SQL("({a}.datastream_id = {ds} AND {a}.phenomenon_time = {t})"
                                    ).format(a=a, ds=c.bind(ds), t=c.bind(when))
    if not isinstance(key, int):
        raise BadRequest(f"{entity.name} ids are integers, not {key!r}")
    return lambda c, a: sql.SQL("{}.id = {}").format(a, c.bind(key))


def navigate(parent: EntitySet, parent_where: Where, nav: Nav) -> Where:
    """The condition on the target's rows that this navigation joins to the parent's rows."""
    table = sql.Identifier(parent.table)

    def where(c: Compiler, alias: sql.Identifier) -> sql.Composable:
        p = c.alias()
        inner = parent_where(c, p)
        if nav.self_column:
            return sql.SQL("{a}.id IN (SELECT {p}.{col} FROM {t} {p} WHERE {w})").format(
                a=alias, p=p, col=sql.Identifier(nav.self_column), t=table, w=inner)
        if nav.target_column:
            return sql.SQL("{a}.{col} IN (SELECT {p}.id FROM {t} {p} WHERE {w})").format(
                a=alias, col=sql.Identifier(nav.target_column), p=p, t=table, w=inner)
        link, mine, theirs = nav.link
        return sql.SQL("{a}.id IN (SELECT l.{theirs} FROM {link} l WHERE l.{mine} IN "
                       "(SELECT {p}.id FROM {t} {p} WHERE {w}))").format(
            a=alias, theirs=sql.Identifier(theirs), link=sql.Identifier(link),
            mine=sql.Identifier(mine), p=p, t=table, w=inner)
    return where


def _key(text: str | None) -> Any:
    if text is None:
        return None
    return text[1:-1] if text.startswith("'") else int(text)


def resolve(path: str) -> Resource:
    """The resource a path under /sta/v1.1/ names; 404 for an unknown set or navigation."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        raise NotFound("no entity set in the path")
    entity, where, single, written = None, None, False, []
    for segment in segments:
        match = SEGMENT.match(segment)
        if match is None:
            raise NotFound(f"cannot read the path segment {segment!r}; write EntitySet, "
                           "EntitySet(id) or a navigation property")
        name, key = match["name"], _key(match["key"])
        if entity is None:
            try:
                entity = get_set(name)
            except BadRequest as exc:
                raise NotFound(exc.message) from None
            where, single = (lambda c, a: sql.SQL("true")), False
        else:
            if not entity.has_nav(name):
                raise NotFound(f"{entity.name} have no navigation property {name!r}; "
                               f"navigation: {', '.join(n.name for n in entity.navs)}")
            nav = entity.nav(name)
            where, entity = navigate(entity, where, nav), get_set(nav.target)
            single = not nav.many
        if key is not None:
            if single:
                raise NotFound(f"{name} is a single entity; it takes no id")
            where, single = _both(where, key_condition(entity, key)), True
        written.append(segment)
    return Resource(entity, where, single, "/".join(written))


def _both(first: Where, second: Where) -> Where:
    return lambda c, a: sql.SQL("({} AND {})").format(first(c, a), second(c, a))


class Reader:
    """Reads documents for one request: the connection, the base URL and the paging limits."""

    def __init__(self, conn: psycopg.Connection, base: str, default_top: int):
        self.conn = conn
        self.base = base
        self.default_top = default_top

    def entity(self, resource: Resource, options: QueryOptions) -> dict:
        """The one entity the resource names, with its expansions; 404 when there is none."""
        rows = self._rows(resource.entity, resource.where, options, top=1, skip=0)
        if not rows:
            raise NotFound(f"no {resource.entity.singular} at {resource.path}")
        return self._document(resource.entity, rows[0], options)

    def collection(self, resource: Resource, options: QueryOptions,
                   raw_query: dict[str, str]) -> dict:
        """A page of the collection, with @iot.count and @iot.nextLink as asked."""
        top = self.default_top if options.top is None else options.top
        rows = self._rows(resource.entity, resource.where, options, top + 1, options.skip)
        page = {}
        if options.count:
            page["@iot.count"] = self._count(resource.entity, resource.where, options)
        page["value"] = [self._document(resource.entity, r, options) for r in rows[:top]]
        if len(rows) > top:
            query = {**raw_query, "$top": str(top), "$skip": str(options.skip + top)}
            page["@iot.nextLink"] = (f"{self.base}/{resource.path}?"
                                     + urlencode(query, quote_via=quote, safe="$,'()/:"))
        return page

    def _select(self, entity: EntitySet, compiler: Compiler, alias: sql.Identifier,
                options: QueryOptions) -> sql.Composable:
        columns = [sql.SQL("{}.{} AS {}").format(alias, sql.Identifier(k), sql.Identifier(
            f"_key_{k}")) for k in entity.key]
        for name, expr in entity.hidden:
            columns.append(sql.SQL("{} AS {}").format(expr(alias), sql.Identifier(f"_{name}")))
        for prop in self._props(entity, options):
            columns.append(sql.SQL("{} AS {}").format(prop.sql(alias), sql.Identifier(prop.name)))
        return sql.SQL(", ").join(columns)

    def _props(self, entity: EntitySet, options: QueryOptions):
        if not options.select:
            return [p for p in entity.props if p.name != "id"]
        chosen = []
        for name in options.select:
            if name in ("id", "@iot.id") or entity.has_nav(name):
                continue
            prop = entity.prop(name)
            if prop.name != "id":
                chosen.append(prop)
        return chosen

    def _rows(self, entity: EntitySet, where: Where, options: QueryOptions,
              top: int, skip: int) -> list[dict]:
        compiler = Compiler()
        alias = compiler.alias()
        conditions = [where(compiler, alias)]
        if options.filter is not None:
            conditions.append(compiler.condition(entity, alias, options.filter))
        order = compiler.order(entity, alias, options.orderby)
        order += [sql.SQL("{}.{}").format(alias, sql.Identifier(k)) for k in entity.default_order]
        query = sql.SQL("SELECT {cols} FROM {table} {alias} WHERE {where} ORDER BY {order}"
                        " LIMIT {top} OFFSET {skip}").format(
            cols=self._select(entity, compiler, alias, options),
            table=sql.Identifier(entity.table), alias=alias,
            where=sql.SQL(" AND ").join(conditions), order=sql.SQL(", ").join(order),
            top=compiler.bind(top), skip=compiler.bind(skip))
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, compiler.params).fetchall()

    def _count(self, entity: EntitySet, where: Where, options: QueryOptions) -> int:
        compiler = Compiler()
        alias = compiler.alias()
        conditions = [where(compiler, alias)]
        if options.filter is not None:
            conditions.append(compiler.condition(entity, alias, options.filter))
        query = sql.SQL("SELECT count(*) FROM {} {} WHERE {}").format(
            sql.Identifier(entity.table), alias, sql.SQL(" AND ").join(conditions))
        return self.conn.execute(query, compiler.params).fetchone()[0]

    def _document(self, entity: EntitySet, row: dict, options: QueryOptions) -> dict:
        """One entity as JSON: id, selfLink, properties, navigation links, expansions."""
        if entity.name == "Observations":
            ident: Any = observation_id(row["_key_datastream_id"], row["_key_phenomenon_time"])
            path = f"{entity.name}('{ident}')"
        else:
            ident = row["_key_id"]
            path = f"{entity.name}({ident})"
        doc: dict[str, Any] = {"@iot.id": ident, "@iot.selfLink": f"{self.base}/{path}"}
        for prop in self._props(entity, options):
            value = prop.to_json(row[prop.name])
            if entity.name == "Observations" and prop.name == "result":
                value = observation_result(value, row["_observation_type"], row["_result_json"])
            doc[prop.name] = value
        for nav in entity.navs:
            if nav.name in options.expand:
                doc[nav.name] = self._expanded(entity, key_condition(entity, ident), nav,
                                               options.expand[nav.name])
            elif not options.select or nav.name in options.select:
                doc[f"{nav.name}@iot.navigationLink"] = f"{self.base}/{path}/{nav.name}"
        for name in options.expand:
            entity.nav(name)  # an unknown name in $expand is a 400
        return doc

    def _expanded(self, entity: EntitySet, where: Where, nav: Nav, options: QueryOptions):
        target = get_set(nav.target)
        child = navigate(entity, where, nav)
        if not nav.many:
            rows = self._rows(target, child, options, top=1, skip=0)
            return self._document(target, rows[0], options) if rows else None
        top = self.default_top if options.top is None else options.top
        rows = self._rows(target, child, options, top, options.skip)
        return [self._document(target, r, options) for r in rows]
