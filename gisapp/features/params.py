"""Items request parameters, parsed once into a typed dataclass; limits from settings."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from gisapp.errors import BadRequest
from gisapp.features.crs import CRS84, bbox_to_crs84, parse_crs
from gisapp.land.source import CITY_TZ, parse_as_of as parse_day_end
from gisapp.query_args import bounded_int
from layers import LAYERS, Access, Field, FieldType, Layer

DEFAULT_LIMIT = 100
MAX_OFFSET = 2**31 - 1
MAX_ID = 2**63 - 1
FORMATS = ("json", "csv", "html")
# "cql-text" is the draft's name for cql2-text, which GDAL before 3.7 sends and looks for
# in the OpenAPI document before it filters on the server.
FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")
ID_FIELD = "id"
# Every resource takes these: the format, and the language the web pages' switch appends.
COMMON_PARAMETERS = ("f", "lang")
ITEMS_PARAMETERS = ("bbox", "bbox-crs", "limit", "offset", "after", "properties", "sortby", "filter",
                    "filter-lang", "filter-crs", "as_of", "datetime", "crs", "skipGeometry")
ITEM_PARAMETERS = ("crs", "as_of", "skipGeometry")


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool


@dataclass(frozen=True)
class ItemsQuery:
    """What /collections/{layer}/items was asked for, checked against the layer and caller."""

    fields: tuple[Field, ...]  # the properties to return, all visible to the caller
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    after: int | None = None  # keyset paging in the default order: ids above this one
    bbox: tuple[float, float, float, float] | None = None  # CRS84 lon/lat
    sortby: tuple[SortKey, ...] = ()
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: str = CRS84
    as_of: datetime | None = None  # the end of the asked day in Da Nang
    format: str = "json"
    crs: str = CRS84  # of the returned geometries
    equals: tuple[tuple[Field, Any], ...] = ()  # queryables as query parameters
    skip_geometry: bool = False
    datetime: tuple[datetime | None, datetime | None] | None = None  # None ends are open


def parse_items_query(args: Mapping[str, str], layer: Layer, levels: frozenset[Access],
                      max_limit: int, preferred: str = "json") -> ItemsQuery:
    """Parse and check query parameters; every problem is a 400 naming the parameter."""
    visible = layer.visible_fields(levels)
    check_known(args, ITEMS_PARAMETERS, visible)
    as_of = parse_as_of(args.get("as_of"), layer)
    when = parse_datetime(args.get("datetime"), layer)
    if as_of is not None and when is not None:
        raise BadRequest("as_of and datetime ask the same thing; give only one")
    after = bounded_int(args.get("after"), "after", -1, 0, MAX_ID)
    sortby = parse_sortby(args.get("sortby"), layer, visible)
    if after >= 0 and (sortby or args.get("offset") not in (None, "0")):
        raise BadRequest("after pages the default order (by id); it takes no sortby or offset")
    return ItemsQuery(
        fields=parse_properties(args.get("properties"), layer, visible),
        limit=min(bounded_int(args.get("limit"), "limit", DEFAULT_LIMIT, 1, None), max_limit),
        offset=bounded_int(args.get("offset"), "offset", 0, 0, MAX_OFFSET),
        bbox=parse_bbox(args.get("bbox"), parse_crs(args.get("bbox-crs"), "bbox-crs")),
        sortby=sortby,
        after=after if after >= 0 else None,
        filter=args.get("filter") or None,
        filter_lang=_choice(args.get("filter-lang"), "filter-lang", FILTER_LANGS,
                            "cql2-text").replace("cql-text", "cql2-text"),
        filter_crs=parse_crs(args.get("filter-crs"), "filter-crs"),
        as_of=as_of,
        format=parse_format(args.get("f"), preferred),
        crs=parse_crs(args.get("crs"), "crs"),
        equals=parse_equals(args, visible),
        skip_geometry=parse_boolean(args.get("skipGeometry"), "skipGeometry"),
        datetime=when,
    )


def check_known(args: Mapping[str, str], allowed: tuple[str, ...],
                fields: tuple[Field, ...] = ()) -> None:
    """A 400 naming every query parameter the resource does not take (a typo filters nothing)."""
    known = {*allowed, *COMMON_PARAMETERS, *(f.name for f in fields)}
    unknown = [name for name in args if name not in known]
    if unknown:
        raise BadRequest(f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(known))}")


def parse_equals(args: Mapping[str, str], visible: tuple[Field, ...]) -> tuple[tuple[Field, Any], ...]:
    """Queryables given as query parameters (`land_use=TMD`), each value parsed by its type."""
    return tuple((f, parse_typed(args[f.name], f)) for f in visible if f.name in args)


def parse_typed(value: str, field: Field) -> Any:
    """A query-string value as the field's type, or a 400 saying what the type is."""
    try:
        if field.type is FieldType.INTEGER:
            number = int(value)
            if abs(number) > 2**63 - 1:
                raise ValueError
            return number
        if field.type is FieldType.FLOAT:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if field.type is FieldType.BOOLEAN:
            return parse_boolean(value, field.name)
        if field.type is FieldType.DATE:
            return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{field.name} is {field.type.value}; {value!r} is not one") from None
    if "\x00" in value:
        raise BadRequest(f"{field.name} contains a NUL character (U+0000)")
    return value


def parse_boolean(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise BadRequest(f"{name} {value!r} must be true or false")
    return value.lower() == "true"


def parse_datetime(value: str | None,
                   layer: Layer) -> tuple[datetime | None, datetime | None] | None:
    """`datetime`: an instant or an interval `a/b` (`..` or empty: open), RFC 3339 or dates.

    A date alone covers that whole day in Da Nang; a time without offset is Da Nang time.
    """
    if value is None:
        return None
    if layer.temporal is None:
        raise BadRequest(f"datetime: {layer.id} has no time field; collections with one: "
                         + ", ".join(x.id for x in LAYERS.values() if x.temporal) )
    if "/" not in value:
        start, end = _instant(value, False), _instant(value, True)
        if len(value.strip()) == 10:  # a whole day: [its start, the next day's start)
            return start, end - timedelta(microseconds=1)
        return start, start
    first, _, second = value.partition("/")
    start = None if first in ("", "..") else _instant(first, False)
    end = None if second in ("", "..") else _instant(second, True)
    if start is None and end is None and first == second == "":
        raise BadRequest("datetime '/' names no time; use an instant or start/end ('..' open)")
    if start is not None and end is not None and start > end:
        raise BadRequest(f"datetime {value!r}: the start is after the end")
    return start, end


def _instant(text: str, is_end: bool) -> datetime:
    """One RFC 3339 instant, or a date (its start, or the next day's start for an end)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1 if is_end else 0), time(), CITY_TZ)
            return moment
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise BadRequest(f"datetime {text!r} is not an RFC 3339 date-time (2024-05-01T00:00:00Z)"
                         ", a date, or an interval start/end with '..' for an open end") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CITY_TZ)


def parse_format(value: str | None, preferred: str = "json",
                 allowed: tuple[str, ...] = FORMATS) -> str:
    """`f` wins; without it, the format the Accept header preferred."""
    if value is None:
        return preferred
    aliases = {"geojson": "json", "application/geo+json": "json", "application/json": "json",
               "text/csv": "csv", "text/html": "html"}
    return _choice(aliases.get(value, value), "f", allowed, "json")


def parse_properties(value: str | None, layer: Layer,
                     visible: tuple[Field, ...]) -> tuple[Field, ...]:
    if value is None:
        return visible
    by_name = {f.name: f for f in visible}
    names = [n.strip() for n in value.split(",") if n.strip()]
    for name in names:
        if name not in by_name:
            raise BadRequest(f"properties: {layer.id} has no property {name!r}; "
                             f"allowed: {', '.join(by_name)}")
    return tuple(by_name[n] for n in dict.fromkeys(names))


def parse_sortby(value: str | None, layer: Layer,
                 visible: tuple[Field, ...]) -> tuple[SortKey, ...]:
    if not value:
        return ()
    allowed = [ID_FIELD, *(f.name for f in visible)]
    keys = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if name not in allowed:
            raise BadRequest(f"sortby: {layer.id} cannot be sorted by {name!r}; "
                             f"allowed: {', '.join(allowed)}, each optionally prefixed + or -")
        keys.append(SortKey(name, descending))
    return tuple(keys)


def parse_bbox(value: str | None, crs_uri: str) -> tuple[float, float, float, float] | None:
    """bbox as 4 or 6 numbers in `crs_uri`, returned as a CRS84 (lon/lat) bbox."""
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise BadRequest(f"bbox {value!r} must be 4 or 6 comma-separated numbers") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise BadRequest(f"bbox {value!r} must be 4 or 6 comma-separated finite numbers")
    half = len(numbers) // 2
    lows, highs = numbers[:half], numbers[half:]
    if crs_uri != CRS84 and any(lo > hi for lo, hi in zip(lows, highs)):
        raise BadRequest(f"bbox {value!r}: each lower corner value must not exceed the upper")
    box = bbox_to_crs84(numbers, crs_uri)
    minx, miny, maxx, maxy = box
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadRequest(f"bbox {value!r} is outside longitude -180..180, latitude -90..90")
    if minx > maxx:
        raise BadRequest(f"bbox {value!r} crosses the antimeridian, which is not supported")
    return box


def parse_as_of(value: str | None, layer: Layer) -> datetime | None:
    """`as_of=YYYY-MM-DD` as the end of that day in Da Nang, for versioned layers only."""
    if value is None:
        return None
    if not layer.versioned:
        raise BadRequest(f"as_of: {layer.id} keeps no history; as_of works on versioned layers")
    try:
        return parse_day_end(value)
    except OverflowError:  # 9999-12-31 has no next midnight
        raise BadRequest(f"as_of {value!r} is out of range") from None


def parse_feature_id(value: str) -> int | None:
    """A feature id from the path, or None when it cannot name a feature (a 404, not 400)."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _choice(value: str | None, name: str, allowed: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise BadRequest(f"{name} {value!r} is not supported; allowed: {', '.join(allowed)}")
    return value
