"""Walk every rule of `app.url_map` with hostile values; collect each 5xx it provokes.

Which query parameters, form fields and JSON fields a view reads is found out, not listed:
the walker asks the OpenAPI document (gisapp/openapi/) and also records, while a baseline
request runs, every name the view looks up in `request.args`, `request.form` and the JSON
body (at any depth). Each of those names then gets every hostile value, one at a time, so a
new route or a new parameter is walked without touching this file.
"""
from __future__ import annotations

import copy
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import quote, urlencode

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule
from werkzeug.utils import cached_property

from gisapp.openapi.document import build_document, openapi_path
from layers import Access

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
SENTINEL = "\u2063hostile\u2063"
LONG = "9" * 5000

# Query, form and path text; each is sent percent-encoded as a value.
HOSTILE_TEXT: tuple[str, ...] = (
    "Infinity", "NaN", "1e999", "-1e308", "99999999999999999999999", "-1", "0", "1.5", "abc",
    "", "\x00", LONG, "\u00b2", "2024-13-45", "99999-01-01", "1,2,3", "NaN,0,1,1",
    "-200,-100,200,100", "EPSG:99999999999", "legal_area > 1e999", "' OR '1'='1", "\ud800",
)
# Raw query-string text (bad percent-encoding, invalid UTF-8), appended as name=<raw>.
HOSTILE_RAW: tuple[str, ...] = ("%FF%FE", "%", "%ED%A0%80")
# JSON value texts put in place of one field; not all of them are JSON by the standard.
HOSTILE_JSON: tuple[str, ...] = (
    "Infinity", "NaN", "1e999", "1e308", "1" + "0" * 400, "-1", "0", "1.5", "null", "true",
    "[]", "{}", '"x"', '"\\u0000"', '"\\ud800"', json.dumps("x" * 5000), '"2024-13-45"',
    '"EPSG:\u00b2"', '{"type": "Point", "coordinates": [1e300, 0]}',
)
# Whole bodies: (content type, bytes).
HOSTILE_BODIES: tuple[tuple[str, bytes], ...] = (
    ("application/json", b'{"a":'), ("application/json", b"[]"), ("application/json", b'"x"'),
    ("application/json", b"Infinity"), ("application/json", b'{"a": "\xff\xfe"}'),
    ("application/json", b"[" * 100_000), ("application/x-www-form-urlencoded", b"a=%FF&b=%00"),
    ("multipart/form-data; boundary=x", b"--x\r\nbroken"), ("text/plain", b"\x00\xff"),
)
# Path values, sent percent-encoded (and one raw, undecodable).
HOSTILE_PATH: tuple[str, ...] = (
    "\x00", "x" * 3000, LONG, "-1", "99999999999999999999999", "9223372036854775808", "NaN",
    "1e999", "' OR 1=1", "\u00b2", "\ud800", "a,a",
)
RAW_PATH: tuple[str, ...] = ("%FF",)
# Sent to the first route of each blueprint (headers are read by shared code, not by views).
HOSTILE_HEADERS: tuple[dict[str, str], ...] = (
    {"Authorization": "Bearer \x00"}, {"Authorization": "Bearer " + "x" * 5000},
    {"Authorization": "Basic !!!"}, {"Cookie": "session=" + "x" * 4000},
    {"Cookie": "session=.eJw\x00"}, {"If-None-Match": '"\x00", W/"' + "x" * 3000},
    {"Accept-Encoding": "gzip;q=NaN"}, {"Accept-Language": "vi;q=1e999"},
    {"Accept": "text/html;q=Infinity"}, {"X-CSRF-Token": "\x00"},
)
# Every other role gets one value of each kind; the full lists go to one role a route.
COMPACT_TEXT = ("Infinity",)
COMPACT_JSON = ("NaN",)
COMPACT_PATH = ("\x00",)
SLOW_BASELINE_S = 0.5  # a route this slow gets the compact values only, from every role
SHARED_AFTER = 2  # a name read on this many routes already (lang, f…) is shared code: compact


# --- recording what a view reads -------------------------------------------------------

_SEEN: set[tuple] = set()


def _note(kind: str, key: Any) -> None:
    _SEEN.add((kind, key))


class _FormRecorder(ImmutableMultiDict):
    kind = "form"

    def __getitem__(self, key):
        _note(self.kind, key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _note(self.kind, key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        _note(self.kind, key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        _note(self.kind, key)
        return super().getlist(key, type)


class _QueryRecorder(_FormRecorder):
    kind = "query"


class RecordingRequest(Request):
    """A request whose args, form and JSON body note every name a view looks up; mixed
    into the app's own request class by `install_recorder`."""

    parameter_storage_class = _FormRecorder

    @cached_property
    def args(self):
        return _QueryRecorder(Request.args.__get__(self).items(multi=True))


class _RecordingDict(dict):
    def __init__(self, data: Any = (), path: tuple = ()):  # asdict() copies with type(d)(pairs)
        super().__init__({k: _wrap(v, (*path, k)) for k, v in dict(data).items()})
        self._path = path

    def __getitem__(self, key):
        _note("json", (*self._path, key))
        return super().__getitem__(key)

    def __contains__(self, key):
        _note("json", (*self._path, key))
        return super().__contains__(key)

    def get(self, key, default=None):
        _note("json", (*self._path, key))
        return super().get(key, default)

    def pop(self, key, *default):
        _note("json", (*self._path, key))
        return super().pop(key, *default)


def _wrap(value: Any, path: tuple) -> Any:
    if isinstance(value, dict):
        return _RecordingDict(value, path)
    if isinstance(value, list):
        return [_wrap(v, (*path, 0)) for v in value]  # every item is walked as item 0
    return value


def install_recorder(app: Flask) -> None:
    """Make `app` note the names its views read (tests only)."""
    app.request_class = type("Recording" + app.request_class.__name__,
                             (RecordingRequest, app.request_class), {})
    loads = app.json.loads
    app.json.loads = lambda s, **kw: _wrap(loads(s, **kw), ())


# --- the walk ----------------------------------------------------------------------------

@dataclass
class Target:
    """One rule and method, with the values that make a valid request of it."""

    rule: Rule
    method: str
    path_values: dict[str, list[str]]
    body: Any = None            # a JSON body that passes validation, when the view takes one
    form: dict[str, str] | None = None
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Walk:
    """Sends requests and keeps every 5xx (and every exception) it meets."""

    client_for: Callable[[str], Any]    # role -> test client (signed in or with a token)
    headers_for: Callable[[str], dict]  # role -> extra headers
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    walked: Counter = field(default_factory=Counter)  # (kind, name) -> routes walked fully
    baselines: dict = field(default_factory=dict)  # endpoint -> statuses of its baselines

    def send(self, role: str, method: str, url: str, what: str, query: str = "",
             body: bytes | None = None, content_type: str | None = None,
             headers: dict | None = None):
        self.sent += 1
        _SEEN.clear()
        kwargs: dict[str, Any] = {"method": method, "query_string": query,
                                  "headers": {**self.headers_for(role), **(headers or {})}}
        if body is not None:
            kwargs.update(data=body, content_type=content_type)
        try:
            resp = self.client_for(role).open(url, **kwargs)
        except Exception as exc:  # an exception escaping the app is a 500 in production
            self.failures.append(f"{method} {url}?{query[:80]} [{role}] {what}: raised "
                                 f"{type(exc).__name__}: {str(exc)[:160]}")
            return None
        if resp.status_code >= 500:
            self.failures.append(f"{method} {url[:120]}?{query[:80]} [{role}] {what}: "
                                 f"{resp.status_code} {resp.get_data(as_text=True)[:160]}")
        return resp


def documented_names(app: Flask) -> dict[tuple[str, str], tuple[set[str], set[tuple]]]:
    """(path, method) -> (query parameter names, JSON body field paths) from /openapi.json."""
    max_limit = app.extensions["settings"].max_features_per_page
    doc = build_document(app, frozenset(Access), max_limit)
    names = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
            schema = (op.get("requestBody", {}).get("content", {})
                      .get("application/json", {}).get("schema", {}))
            names[(path, method.upper())] = (query, set(_schema_paths(schema, ())))
    return names


def _schema_paths(schema: dict, path: tuple) -> Iterable[tuple]:
    for name, sub in (schema.get("properties") or {}).items():
        yield (*path, name)
        yield from _schema_paths(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from _schema_paths(schema["items"], (*path, 0))


def rule_targets(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the app: collection routes before item routes (so what a POST
    creates is there for them), DELETE last on each."""
    out = [(rule, method) for rule in app.url_map.iter_rules()
           for method in sorted((rule.methods or set()) - SKIPPED_METHODS)]
    return sorted(out, key=lambda rm: (len(rm[0].arguments), rm[0].rule, rm[1] == "DELETE",
                                       rm[1]))


def build_url(rule: Rule, values: dict[str, str], raw: set[str] = frozenset()) -> str:
    """The rule's path with each variable's value percent-encoded (or raw when named)."""
    parts = {k: (v if k in raw else quote(v, safe="/" if _is_path(rule, k) else "",
                                           errors="surrogatepass")) for k, v in values.items()}
    url = rule.rule
    for name in rule.arguments:
        url = _replace_var(url, name, parts[name])
    return url


def _is_path(rule: Rule, name: str) -> bool:
    return type(rule._converters[name]).__name__ == "PathConverter"


def _replace_var(url: str, name: str, value: str) -> str:
    start = 0
    while True:
        i = url.index("<", start)
        j = url.index(">", i)
        if url[i + 1:j].split(":")[-1] == name:
            return url[:i] + value + url[j + 1:]
        start = j


def set_path(body: Any, path: tuple, value: Any) -> bool:
    """Put `value` at `path` in `body` (a copy); False when a parent is missing."""
    node = body
    for key in path[:-1]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and len(node) > key:
            node = node[key]
        else:
            return False
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
        return True
    if isinstance(node, list) and isinstance(last, int) and len(node) > last:
        node[last] = value
        return True
    return False


def json_with(body: Any, path: tuple, raw: str) -> bytes | None:
    """`body` as JSON text with the raw JSON text `raw` at `path`, or None if it has no place."""
    doc = copy.deepcopy(body)
    if not set_path(doc, path, SENTINEL):
        return None
    return json.dumps(doc).replace(json.dumps(SENTINEL), raw).encode("utf-8", "surrogatepass")


def query_with(base: dict[str, str], name: str, value: str) -> str:
    """The baseline query with `name` set to `value` (percent-encoded)."""
    pairs = {**base, name: value}
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs.items()])


def seen() -> set[tuple]:
    return set(_SEEN)


def walk_target(walk: Walk, target: Target, roles: list[str], documented: dict,
                authorised_first: list[str], headers: bool) -> None:
    """Baseline as every role; hostile values: all of them as one authorised role (the
    first of `authorised_first` let in), one of each kind as every other role. A slow route
    gets one of each kind from the authorised role only; a name already walked on
    SHARED_AFTER routes (read by shared code: `lang`) gets one value, from that role only."""
    rule, method = target.rule, target.method
    path_doc, _ = openapi_path(rule)
    doc_query, doc_json = documented.get((path_doc, method), (set(), set()))
    names = {"query": set(doc_query), "form": set(), "json": set(doc_json)}
    base_path = {name: values[0] for name, values in target.path_values.items()}
    let_in: list[str] = []
    statuses: dict[str, int | None] = {}
    slow = False
    for role in roles:
        started = time.perf_counter()
        resp = _send_valid(walk, role, target, base_path, "baseline")
        statuses[role] = None if resp is None else resp.status_code
        slow = slow or time.perf_counter() - started > SLOW_BASELINE_S
        _learn(names)
        if resp is not None and resp.status_code not in (401, 403):
            let_in.append(role)
    full = next((r for r in authorised_first if r in let_in), roles[0])
    walk.baselines.setdefault(rule.endpoint, []).append(statuses.get(full))
    for values in _other_paths(target.path_values):  # every valid value, as that role
        _send_valid(walk, full, target, values, "baseline")
        _learn(names)
    for role in roles if not slow else [full]:
        is_full = role == full and not slow
        url = build_url(rule, base_path)
        query = urlencode(target.query)
        for name in sorted(names["query"]):
            shared = walk.walked[("query", name)] >= SHARED_AFTER
            walk.walked[("query", name)] += is_full
            if shared and not is_full:
                continue
            full_name = is_full and not shared
            for value in HOSTILE_TEXT if full_name else COMPACT_TEXT:
                _send_valid(walk, role, target, base_path, f"query {name}={value[:20]!r}",
                            query=query_with(target.query, name, value))
            for raw in HOSTILE_RAW if full_name else ():
                _send_valid(walk, role, target, base_path, f"query {name}={raw}",
                            query=query_with(target.query, name, "") + raw)
        for name in sorted(names["form"]):
            shared = walk.walked[("form", name)] >= SHARED_AFTER
            walk.walked[("form", name)] += is_full
            if shared and not is_full:
                continue
            full_name = is_full and not shared
            for value in HOSTILE_TEXT if full_name else COMPACT_TEXT:
                form = {**(target.form or {}), name: value}
                walk.send(role, method, url, f"form {name}={value[:20]!r}",
                          body=urlencode([(k, v.encode("utf-8", "surrogatepass"))
                                          for k, v in form.items()]).encode(),
                          content_type="application/x-www-form-urlencoded", query=query)
        if target.body is not None:
            for path in sorted(names["json"], key=repr):
                for raw in HOSTILE_JSON if is_full else COMPACT_JSON:
                    data = json_with(target.body, path, raw)
                    if data is not None:
                        walk.send(role, method, url, f"json {'.'.join(map(str, path))}="
                                  f"{raw[:20]}", body=data, content_type="application/json",
                                  query=query)
        if method != "GET" and is_full:
            for content_type, data in HOSTILE_BODIES:
                walk.send(role, method, url, f"body {content_type} {data[:20]!r}", body=data,
                          content_type=content_type, query=query)
        for name in rule.arguments:
            for value in HOSTILE_PATH if is_full else COMPACT_PATH:
                _send_valid(walk, role, target, base_path, f"path {name}={value[:20]!r}",
                            url=build_url(rule, {**base_path, name: value}))
            for raw in RAW_PATH if is_full else ():
                _send_valid(walk, role, target, base_path, f"path {name}={raw}",
                            url=build_url(rule, {**base_path, name: raw}, raw={name}))
        if headers and is_full:
            for extra in HOSTILE_HEADERS:
                _send_valid(walk, role, target, base_path, f"headers {list(extra)}",
                            headers=extra)


def _learn(names: dict[str, set]) -> None:
    for kind, key in seen():
        names[kind].add(key)


def _other_paths(values: dict[str, list[str]]) -> list[dict[str, str]]:
    """Each further valid value of one variable, the others at their first value."""
    first = {name: vals[0] for name, vals in values.items()}
    return [{**first, name: v} for name, vals in values.items() for v in vals[1:]]


def _send_valid(walk: Walk, role: str, target: Target, values: dict[str, str], what: str,
                url: str | None = None, query: str | None = None,
                headers: dict | None = None):
    url = url or build_url(target.rule, values)
    query = urlencode(target.query) if query is None else query
    if target.body is not None:
        return walk.send(role, target.method, url, what, query=query,
                         body=json.dumps(target.body).encode(),
                         content_type="application/json", headers=headers)
    if target.form is not None:
        return walk.send(role, target.method, url, what, query=query,
                         body=urlencode(target.form).encode(),
                         content_type="application/x-www-form-urlencoded", headers=headers)
    return walk.send(role, target.method, url, what, query=query, headers=headers)
