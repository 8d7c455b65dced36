"""Reading SensorThings entities: a resource path and query options -> JSON documents.

A path (`Things(1)/Datastreams`, `Datastreams(3)/Observations`, `Observations('3-17…')/
Datastream`) becomes a chain of conditions: each step's rows are those its navigation
property joins to the previous step's rows, as `IN (SELECT …)` subqueries over declared
keys. A request is ONE statement: PostgreSQL writes every entity's JSON text (to_json
values concatenated: json_build_object costs twice as much) and each $expand is a
correlated subquery of its parent's row with its own options ($top per parent), so no
Python runs per row and no query runs per parent; $count adds a count only when asked.
Collections are paged with $top/$skip (one row more is fetched to know whether a
@iot.nextLink is due). `Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime
desc)` is answered from the latest values the write path keeps (`datastream_latest`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql

from gisapp.errors import BadRequest, NotFound
from gisapp.sta.entities import EntitySet, Nav, get_set, observation_id_sql, parse_observation_id
from gisapp.sta.expressions import Compiler
from gisapp.sta.odata import Path as PropertyPath
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


# The columns of datastream_latest: an Observations expansion reading only these is answered
# from it alone (no partition is touched).
LATEST_PROPS = frozenset({"phenomenonTime", "result"})


def latest_only(parent: EntitySet, nav: Nav, options: QueryOptions) -> bool:
    """Whether an expansion asks exactly for each datastream's newest observation."""
    return (parent.name == "Datastreams" and nav.name == "Observations" and options.top == 1
            and options.skip == 0 and options.filter is None and len(options.orderby) == 1
            and options.orderby[0].descending
            and options.orderby[0].expr == PropertyPath(("phenomenonTime",)))


class Reader:
    """Reads documents for one request: the connection, the base URL and the paging limits."""

    def __init__(self, conn: psycopg.Connection, base: str, default_top: int):
        self.conn = conn
        self.base = base
        self.default_top = default_top

    def entity(self, resource: Resource, options: QueryOptions) -> dict:
        """The one entity the resource names, with its expansions; 404 when there is none."""
        return json.loads(self.entity_json(resource, options))

    def entity_json(self, resource: Resource, options: QueryOptions) -> str:
        """`entity` as the JSON text PostgreSQL wrote."""
        compiler = Compiler()
        alias = compiler.alias()
        base = compiler.bind(json.dumps(self.base)[1:-1])
        query = sql.SQL("SELECT {doc} FROM {table} {alias} WHERE {where} ORDER BY {order}"
                        " LIMIT 1").format(
            doc=self._doc(resource.entity, compiler, alias, options, base),
            table=sql.Identifier(resource.entity.table), alias=alias,
            where=self._conditions(resource.entity, compiler, alias, resource.where, options),
            order=self._order(resource.entity, compiler, alias, options))
        row = self.conn.execute(query, compiler.params).fetchone()
        if row is None:
            raise NotFound(f"no {resource.entity.singular} at {resource.path}")
        return row[0]

    def collection(self, resource: Resource, options: QueryOptions,
                   raw_query: dict[str, str]) -> dict:
        """A page of the collection, with @iot.count and @iot.nextLink as asked."""
        return json.loads(self.collection_json(resource, options, raw_query))

    def collection_json(self, resource: Resource, options: QueryOptions,
                        raw_query: dict[str, str]) -> str:
        """`collection` as JSON text: the page's documents are written by PostgreSQL."""
        top = self.default_top if options.top is None else options.top
        compiler = Compiler()
        alias = compiler.alias()
        base = compiler.bind(json.dumps(self.base)[1:-1])
        rows = self._ranked(resource.entity, compiler, alias, options, base,
                            self._conditions(resource.entity, compiler, alias, resource.where,
                                             options), top + 1, options.skip)
        query = sql.SQL("SELECT '[' || coalesce(string_agg(s.doc, ',' ORDER BY s.n) FILTER"
                        " (WHERE s.n <= {last}), '') || ']', count(*) FROM ({rows}) s").format(
            last=compiler.bind(options.skip + top), rows=rows)
        value, fetched = self.conn.execute(query, compiler.params).fetchone()
        parts = []
        if options.count:
            parts.append(f'"@iot.count": {self._count(resource.entity, resource.where, options)}')
        parts.append(f'"value": {value}')
        if fetched > top:
            query = {**raw_query, "$top": str(top), "$skip": str(options.skip + top)}
            link = (f"{self.base}/{resource.path}?"
                    + urlencode(query, quote_via=quote, safe="$,'()/:"))
            parts.append(f'"@iot.nextLink": {json.dumps(link)}')
        return "{" + ", ".join(parts) + "}"

    @staticmethod
    def _conditions(entity: EntitySet, compiler: Compiler, alias: sql.Identifier,
                    where: Where, options: QueryOptions) -> sql.Composable:
        conditions = [where(compiler, alias)]
        if options.filter is not None:
            conditions.append(compiler.condition(entity, alias, options.filter))
        return sql.SQL(" AND ").join(conditions)

    @staticmethod
    def _order(entity: EntitySet, compiler: Compiler, alias: sql.Identifier,
               options: QueryOptions) -> sql.Composable:
        order = compiler.order(entity, alias, options.orderby)
        order += [sql.SQL("{}.{}").format(alias, sql.Identifier(k)) for k in entity.default_order]
        return sql.SQL(", ").join(order)

    def _ranked(self, entity: EntitySet, compiler: Compiler, alias: sql.Identifier,
                options: QueryOptions, base: sql.Placeholder, where: sql.Composable,
                top: int, skip: int, table: str | None = None) -> sql.Composable:
        """SELECT of (doc, n): the documents of one page, n their rank in the order."""
        order = self._order(entity, compiler, alias, options)
        return sql.SQL("SELECT {doc} AS doc, row_number() OVER (ORDER BY {order}) AS n"
                       " FROM {table} {alias} WHERE {where} ORDER BY {order}"
                       " LIMIT {top} OFFSET {skip}").format(
            doc=self._doc(entity, compiler, alias, options, base), order=order,
            table=sql.Identifier(table or entity.table), alias=alias, where=where,
            top=compiler.bind(top), skip=compiler.bind(skip))

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

    def _count(self, entity: EntitySet, where: Where, options: QueryOptions) -> int:
        compiler = Compiler()
        alias = compiler.alias()
        query = sql.SQL("SELECT count(*) FROM {} {} WHERE {}").format(
            sql.Identifier(entity.table), alias,
            self._conditions(entity, compiler, alias, where, options))
        return self.conn.execute(query, compiler.params).fetchone()[0]

    def _doc(self, entity: EntitySet, compiler: Compiler, alias: sql.Identifier,
             options: QueryOptions, base: sql.Placeholder) -> sql.Composable:
        """SQL writing one entity's JSON text: id, selfLink, properties, navigation links and
        expansions (each a subquery of this row). `base` is the JSON-escaped base URL; ids
        are digits (and '-'), names are declared ones, values go through to_json."""
        for name in options.expand:
            entity.nav(name)  # an unknown name in $expand is a 400
        if entity.name == "Observations":
            ident = sql.SQL("'\"' || {} || '\"'").format(observation_id_sql(alias))
            path = sql.SQL("'/Observations(''' || {} || ''')'").format(observation_id_sql(alias))
        else:
            ident = sql.SQL("{}.id::text").format(alias)
            path = sql.SQL("{} || {}.id || ')'").format(sql.Literal(f"/{entity.name}("), alias)
        link = sql.SQL("{} || {}").format(base, path)  # inside a JSON string
        parts = [sql.Literal('{"@iot.id":'), ident, sql.Literal(',"@iot.selfLink":"'), link,
                 sql.Literal('"')]
        for prop in self._props(entity, options):
            parts += [sql.Literal(f",{json.dumps(prop.name)}:"),
                      prop.json_text(alias)]
        for nav in entity.navs:
            if nav.name in options.expand:
                parts += [sql.Literal(f",{json.dumps(nav.name)}:"), self._expansion(
                    entity, alias, nav, options.expand[nav.name], compiler, base)]
            elif not options.select or nav.name in options.select:
                parts += [sql.Literal(f',"{nav.name}@iot.navigationLink":"'), link,
                          sql.Literal(f'/{nav.name}"')]
        return sql.SQL("({} || '}}')").format(sql.SQL(" || ").join(parts))

    def _expansion(self, parent: EntitySet, parent_alias: sql.Identifier, nav: Nav,
                   options: QueryOptions, compiler: Compiler,
                   base: sql.Placeholder) -> sql.Composable:
        """A subquery of the parent's row: the related entity's JSON, or a JSON array of the
        related entities ($filter, $orderby, $top and $skip applied per parent)."""
        target = get_set(nav.target)
        alias = compiler.alias()
        if nav.self_column:
            where = sql.SQL("{}.id = {}.{}").format(alias, parent_alias,
                                                    sql.Identifier(nav.self_column))
        elif nav.target_column:
            where = sql.SQL("{}.{} = {}.id").format(alias, sql.Identifier(nav.target_column),
                                                    parent_alias)
        else:
            link, mine, theirs = nav.link
            where = sql.SQL("{a}.id IN (SELECT l.{theirs} FROM {link} l WHERE l.{mine} = {p}.id)"
                            ).format(a=alias, theirs=sql.Identifier(theirs),
                                     link=sql.Identifier(link), mine=sql.Identifier(mine),
                                     p=parent_alias)
        table = None
        if latest_only(parent, nav, options):
            if not options.expand and {p.name for p in self._props(target, options)} \
                    <= LATEST_PROPS:
                table = "datastream_latest"  # the same column names, one row per datastream
            else:
                where = sql.SQL("{w} AND ({a}.datastream_id, {a}.phenomenon_time) IN (SELECT"
                                " l.datastream_id, l.phenomenon_time FROM datastream_latest l"
                                " WHERE l.datastream_id = {p}.id)").format(
                    w=where, a=alias, p=parent_alias)
        if options.filter is not None:
            where = sql.SQL("{} AND {}").format(
                where, compiler.condition(target, alias, options.filter))
        if not nav.many:
            return sql.SQL("coalesce((SELECT {doc} FROM {table} {alias} WHERE {where}"
                           " ORDER BY {order} LIMIT 1), 'null')").format(
                doc=self._doc(target, compiler, alias, options, base),
                table=sql.Identifier(target.table), alias=alias, where=where,
                order=self._order(target, compiler, alias, options))
        top = self.default_top if options.top is None else options.top
        rows = self._ranked(target, compiler, alias, options, base, where, top, options.skip,
                            table)
        return sql.SQL("(SELECT '[' || coalesce(string_agg(s.doc, ',' ORDER BY s.n), '') || ']'"
                       " FROM ({}) s)").format(rows)
