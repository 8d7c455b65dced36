"""The SensorThings subset of OData: $filter expressions and the query options, parsed to values.

Parsing knows no entity: names stay names until gisapp.sta.compile maps them onto declared
columns. A malformed option raises BadRequest naming the option and what was expected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gisapp.errors import BadRequest

MAX_INTEGER = 2**53 - 1  # I-JSON's range, as for JSON bodies
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
ADDITIVE = ("add", "sub")
MULTIPLICATIVE = ("mul", "div", "mod")

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<datetime>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?
                 (?:Z|[+-][0-9]{2}:[0-9]{2}))
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<geo>(?:geography|geometry)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_@][\w.@]*)
  | (?P<punct>[()/,-])
""", re.VERBOSE)


@dataclass(frozen=True)
class Literal:
    value: Any  # str, int, float, bool, None or datetime


@dataclass(frozen=True)
class Geo:
    wkt: str


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]  # Datastream/Thing/name -> ("Datastream", "Thing", "name")


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class Negate:
    operand: Any


@dataclass(frozen=True)
class OrderItem:
    expr: Any
    descending: bool


@dataclass
class QueryOptions:
    """One level's query options: the request's, or those nested in an $expand item."""

    filter: Any = None
    select: tuple[str, ...] = ()
    expand: dict[str, "QueryOptions"] = field(default_factory=dict)
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    skip: int = 0
    count: bool = False


def _tokens(text: str, option: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            raise BadRequest(f"{option}: cannot read {text[pos:pos + 20]!r} at character {pos}")
        pos = match.end()
        kind = match.lastgroup
        if kind != "space":
            tokens.append((kind, match.group()))
    return tokens


class _Parser:
    """Recursive descent over the tokens of one expression."""

    def __init__(self, text: str, option: str):
        self.option = option
        self.tokens = _tokens(text, option)
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self) -> str | None:
        token = self.peek()
        return token[1].lower() if token and token[0] == "name" else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            said = "the end" if token is None else repr(token[1])
            raise BadRequest(f"{self.option}: expected {value or 'more'} but found {said}")
        self.pos += 1
        return token

    def done(self) -> None:
        if self.peek() is not None:
            raise BadRequest(f"{self.option}: unexpected {self.peek()[1]!r}")

    def expression(self) -> Any:
        left = self.conjunction()
        while self.word() == "or":
            self.take()
            left = BinOp("or", left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.word() == "and":
            self.take()
            left = BinOp("and", left, self.negation())
        return left

    def negation(self) -> Any:
        if self.word() == "not":
            self.take()
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.additive()
        if self.word() in COMPARISONS:
            op = self.take()[1].lower()
            return BinOp(op, left, self.additive())
        return left

    def additive(self) -> Any:
        left = self.multiplicative()
        while self.word() in ADDITIVE:
            op = self.take()[1].lower()
            left = BinOp(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Any:
        left = self.unary()
        while self.word() in MULTIPLICATIVE:
            op = self.take()[1].lower()
            left = BinOp(op, left, self.unary())
        return left

    def unary(self) -> Any:
        token = self.peek()
        if token == ("punct", "-"):
            self.take()
            return Negate(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if (kind, text) == ("punct", "("):
            inner = self.expression()
            self.take(")")
            return inner
        if kind == "number":
            if any(c in text for c in ".eE"):
                return Literal(float(text))
            if abs(int(text)) > MAX_INTEGER:
                raise BadRequest(f"{self.option}: {text} is beyond ±{MAX_INTEGER}")
            return Literal(int(text))
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"))
        if kind == "geo":
            return Geo(text[text.index("'") + 1:-1].replace("''", "'"))
        if kind == "datetime":
            try:
                return Literal(datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                raise BadRequest(f"{self.option}: {text} is not a valid date-time") from None
        if kind != "name":
            raise BadRequest(f"{self.option}: unexpected {text!r}")
        lowered = text.lower()
        if lowered in ("true", "false"):
            return Literal(lowered == "true")
        if lowered == "null":
            return Literal(None)
        if self.peek() == ("punct", "("):
            self.take()
            args = []
            if self.peek() != ("punct", ")"):
                args.append(self.expression())
                while self.peek() == ("punct", ","):
                    self.take()
                    args.append(self.expression())
            self.take(")")
            return Call(lowered, tuple(args))
        parts = [text]
        while self.peek() == ("punct", "/"):
            self.take()
            parts.append(self.take()[1])
        return Path(tuple(parts))


def parse_filter(text: str) -> Any:
    """A $filter expression as a tree of Literal, Geo, Path, Call, BinOp, Not and Negate."""
    parser = _Parser(text, "$filter")
    tree = parser.expression()
    parser.done()
    return tree


def parse_orderby(text: str) -> tuple[OrderItem, ...]:
    """$orderby: expressions, each optionally followed by asc or desc, separated by commas."""
    parser = _Parser(text, "$orderby")
    items = []
    while True:
        expr = parser.additive()
        descending = False
        if parser.word() in ("asc", "desc"):
            descending = parser.take()[1].lower() == "desc"
        items.append(OrderItem(expr, descending))
        if parser.peek() is None:
            return tuple(items)
        parser.take(",")


def _split(text: str, separator: str, option: str) -> list[str]:
    """Split at separators outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise BadRequest(f"{option}: unbalanced ')' at character {i}")
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise BadRequest(f"{option}: unbalanced parentheses or quotes")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


MAX_SKIP = 2**31 - 1


def _count(value: str, option: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > MAX_SKIP:
        raise BadRequest(f"{option} must be a whole number from 0 to {MAX_SKIP}, not {value!r}")
    return int(value)


def parse_options(raw: dict[str, str], max_top: int) -> QueryOptions:
    """The query options of one level from their raw text ({"$top": "10", …})."""
    options = QueryOptions()
    for name, value in raw.items():
        if name == "$filter":
            options.filter = parse_filter(value)
        elif name == "$select":
            options.select = tuple(_split(value, ",", "$select"))
        elif name == "$expand":
            for item in _split(value, ",", "$expand"):
                _add_expand(options.expand, item, max_top)
        elif name == "$orderby":
            options.orderby = parse_orderby(value)
        elif name == "$top":
            options.top = _count(value, "$top")
            if options.top > max_top:
                raise BadRequest(f"$top {options.top} is over the limit of {max_top}")
        elif name == "$skip":
            options.skip = _count(value, "$skip")
        elif name == "$count":
            if value not in ("true", "false"):
                raise BadRequest(f"$count must be true or false, not {value!r}")
            options.count = value == "true"
        elif name.startswith("$") and name not in ("$resultFormat", "$format"):
            raise BadRequest(f"unknown query option {name}; known: $filter, $select, $expand, "
                             "$orderby, $top, $skip, $count")
    return options


def _add_expand(into: dict[str, QueryOptions], item: str, max_top: int) -> None:
    """One $expand item: Nav(options) or Nav/Nav2(options), merged into `into`."""
    head, _, rest = item.partition("(")
    nested: dict[str, str] = {}
    if rest:
        if not rest.endswith(")"):
            raise BadRequest(f"$expand: {item!r} must end with ')'")
        for part in _split(rest[:-1], ";", "$expand"):
            name, eq, value = part.partition("=")
            if not eq:
                raise BadRequest(f"$expand: nested option {part!r} must be $name=value")
            nested[name.strip()] = value.strip()
    names = [n.strip() for n in head.split("/")]
    if not all(re.fullmatch(r"[A-Za-z]+", n) for n in names):
        raise BadRequest(f"$expand: {head!r} is not a navigation path")
    level = into
    for name in names[:-1]:
        level = level.setdefault(name, QueryOptions()).expand
    level[names[-1]] = parse_options(nested, max_top)
