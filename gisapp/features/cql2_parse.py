"""CQL2 text and JSON parsed with pygeofilter into its AST, with size and depth bounds.

pygeofilter's CQL2 text grammar lacks the distance predicate and the doubled-quote escape
of CQL2 string literals; we load its grammar and extend it with both rather than
pre-processing the text.
"""
from __future__ import annotations

import json
import logging
import os
from functools import lru_cache

import lark
from lark import Lark, v_args
from pygeofilter import ast, values
from pygeofilter.parsers import cql2_text
from pygeofilter.parsers.cql2_json.parser import walk_cql_json
from pygeofilter.parsers.cql2_text.parser import CQLTransformer

from gisapp.errors import BadRequest

# pygeofilter turns lark's logger to DEBUG on import, which prints every grammar conflict.
lark.logger.setLevel(logging.WARNING)

MAX_FILTER_BYTES = 20_000
MAX_DEPTH = 20
DISTANCE_OPS = ("s_dwithin", "dwithin")

_GRAMMAR_EXTENSION = r"""
%extend spatial_predicate: _distance_func "(" expression "," expression "," full_number ["," DISTANCE_UNIT] ")" -> distance_predicate
%extend temporal_predicate: _binary_temporal_predicate_func "(" expression "," expression ")" -> temporal_function
%extend predicate: boolean_predicate
boolean_predicate.2: BOOLEAN
_distance_func: "S_DWITHIN"i | "DWITHIN"i
DISTANCE_UNIT: /[a-zA-Z]+/
interval: "INTERVAL"i "(" _instant_parameter "," _instant_parameter ")"
_instant_parameter: "'" DATETIME "'" | "'" DATE "'" | OPEN_END | date | timestamp
OPEN_END: "'..'"
"""
# pygeofilter's grammar, corrected to CQL2: one-letter property names, case-insensitive
# DATE/TIMESTAMP, and INTERVAL over dates, timestamps or '..' (defined above).
_GRAMMAR_FIXES = (
    ("attribute: /[a-zA-Z][a-zA-Z_:0-9.]+/", "attribute: /[a-zA-Z_][a-zA-Z_:0-9.]*/"),
    ('?timestamp: "TIMESTAMP" "("', '?timestamp: "TIMESTAMP"i "("'),
    ('?date: "DATE" "("', '?date: "DATE"i "("'),
    ('''?interval: "INTERVAL" "("  "'" DATETIME "'" "," "'" DATETIME "'" ")"''', ""),
)


@v_args(meta=False, inline=True)
class _Transformer(CQLTransformer):
    def distance_predicate(self, lhs, rhs, distance, units=None):
        return ast.DistanceWithin(lhs, rhs, distance, str(units) if units else "meters")

    def temporal_function(self, op, lhs, rhs):
        return self.binary_temporal_predicate(lhs, op, rhs)

    def SINGLE_QUOTED(self, token):
        return token[1:-1].replace("''", "'")

    def boolean_predicate(self, value):
        """A bare TRUE or FALSE is a condition (CQL2 Basic): all features, or none."""
        return ast.Include(not value)

    def OPEN_END(self, token):
        return None

    def interval(self, start, end):
        return values.Interval(start, end)


@lru_cache(maxsize=1)
def _text_parser() -> Lark:
    folder = os.path.dirname(cql2_text.__file__)
    with open(os.path.join(folder, "grammar.lark"), encoding="utf-8") as fh:
        grammar = fh.read()
    grammar = grammar.replace('"NOT"i "(" predicate ")"', '"NOT"i "(" condition ")"')
    for old, new in _GRAMMAR_FIXES:
        if old not in grammar:
            raise RuntimeError(f"pygeofilter's CQL2 grammar changed: {old!r} not found")
        grammar = grammar.replace(old, new)
    grammar = grammar.replace('SINGLE_QUOTED: "\'" /.*?/ "\'"',
                              'SINGLE_QUOTED: "\'" /(?:[^\']|\'\')*/ "\'"')
    return Lark(grammar + _GRAMMAR_EXTENSION, parser="lalr", maybe_placeholders=False,
                transformer=_Transformer(), import_paths=[os.path.dirname(folder)])


def parse_filter(text: str, lang: str) -> ast.Node:
    """The filter's AST; a 400 for anything too big, too deep or not CQL2."""
    if len(text.encode("utf-8")) > MAX_FILTER_BYTES:
        raise BadRequest(f"filter is {len(text.encode('utf-8'))} bytes; "
                         f"the limit is {MAX_FILTER_BYTES}")
    if lang == "cql2-json":
        node = _parse_json(text)
    else:
        try:
            node = _text_parser().parse(text)
        except lark.exceptions.UnexpectedInput as exc:
            raise BadRequest(f"filter is not valid cql2-text near character {exc.column}: "
                             f"{_context(text, exc)}") from None
        except (lark.exceptions.LarkError, ValueError, TypeError) as exc:
            raise BadRequest(f"filter is not valid cql2-text: {_first_line(exc)}") from None
    check_depth(node)
    if isinstance(node, bool):  # a bare true/false is a condition (CQL2 Basic)
        node = ast.Include(not node)
    if not isinstance(node, ast.Node):
        raise BadRequest("filter must be a condition, not a bare value")
    return node


def _parse_json(text: str) -> ast.Node:
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest("filter is not valid JSON (cql2-json expects a JSON object)") from None
    _check_json_depth(tree)
    try:
        return walk_cql_json(_cql2_json_nodes(tree))
    except BadRequest:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, Exception) as exc:
        raise BadRequest(f"filter is not valid cql2-json: {_first_line(exc)}") from None


def _cql2_json_nodes(tree):
    """Bring CQL2-JSON 1.0 forms pygeofilter 0.4 lacks to ones it reads.

    s_dwithin becomes a DistanceWithin node; `between` takes [property, low, high] (the
    draft nested [low, high]); accenti, a function, takes pygeofilter's function form; a
    bbox literal keeps its axis order.
    """
    if isinstance(tree, list):
        return [_cql2_json_nodes(t) for t in tree]
    if not isinstance(tree, dict):
        return tree
    box = tree.get("bbox")
    if isinstance(box, list) and len(box) in (4, 6) and "op" not in tree:
        # CQL2 orders minx, miny, maxx, maxy; pygeofilter's Envelope wants x1, x2, y1, y2
        half = len(box) // 2
        return values.Envelope(box[0], box[half], box[1], box[half + 1])
    out = {k: _cql2_json_nodes(v) for k, v in tree.items()}
    op = out.get("op").lower() if isinstance(out.get("op"), str) else None
    args = out.get("args")
    if op == "between" and isinstance(args, list) and len(args) == 3:
        return {"op": "between", "args": [args[0], [args[1], args[2]]]}
    if op == "accenti" and isinstance(args, list) and len(args) == 1:
        return {"function": {"name": "accenti", "arguments": args}}
    if op in DISTANCE_OPS:
        args = out.get("args")
        if not isinstance(args, list) or len(args) not in (3, 4):
            raise BadRequest("s_dwithin takes args [geometry, geometry, distance(, units)]")
        lhs, rhs = (walk_cql_json(a) for a in args[:2])
        units = args[3] if len(args) == 4 else "meters"
        return ast.DistanceWithin(lhs, rhs, args[2], units)
    return out


def _check_json_depth(tree) -> None:
    """A 400 for nesting past the bound, or for a string PostgreSQL cannot hold (NUL)."""
    stack = [(tree, 1)] if isinstance(tree, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH * 3:  # JSON nests op/args/lists: about three levels a condition
            raise BadRequest(f"filter nests deeper than {MAX_DEPTH} conditions")
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        if any(isinstance(c, str) and "\x00" in c for c in children):
            raise BadRequest("filter contains a NUL character (U+0000) in a string")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def check_depth(node) -> None:
    """A 400 when conditions nest deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"filter nests deeper than {MAX_DEPTH} levels")
        if isinstance(current, ast.Node):
            children = current.get_sub_nodes()
        elif isinstance(current, list):
            children = current
        else:
            continue
        stack.extend((c, depth + 1) for c in children if isinstance(c, (ast.Node, list)))


def _context(text: str, exc: lark.exceptions.UnexpectedInput) -> str:
    start = max(0, getattr(exc, "pos_in_stream", 0) or 0)
    return repr(text[max(0, start - 10):start + 20])


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


__all__ = ["parse_filter", "check_depth", "values", "MAX_DEPTH", "MAX_FILTER_BYTES"]
