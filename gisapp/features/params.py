"""Items request parameters, parsed once into a typed dataclass; limits from settings."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from gisapp.errors import BadRequest
from gisapp.features.crs import CRS84, bbox_to_crs84, parse_crs
from gisapp.land.source import parse_as_of as parse_day_end
from gisapp.query_args import bounded_int
from layers import Access, Field, Layer

DEFAULT_LIMIT = 100
MAX_OFFSET = 2**31 - 1
FORMATS = ("json", "csv", "html")
FILTER_LANGS = ("cql2-text", "cql2-json")
ID_FIELD = "id"


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
    bbox: tuple[float, float, float, float] | None = None  # CRS84 lon/lat
    sortby: tuple[SortKey, ...] = ()
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: str = CRS84
    as_of: datetime | None = None  # the end of the asked day in Da Nang
    format: str = "json"
    crs: str = CRS84  # of the returned geometries


def parse_items_query(args: Mapping[str, str], layer: Layer, levels: frozenset[Access],
                      max_limit: int, preferred: str = "json") -> ItemsQuery:
    """Parse and check query parameters; every problem is a 400 naming the parameter."""
    visible = layer.visible_fields(levels)
    return ItemsQuery(
        fields=parse_properties(args.get("properties"), layer, visible),
        limit=min(bounded_int(args.get("limit"), "limit", DEFAULT_LIMIT, 1, None), max_limit),
        offset=bounded_int(args.get("offset"), "offset", 0, 0, MAX_OFFSET),
        bbox=parse_bbox(args.get("bbox"), parse_crs(args.get("bbox-crs"), "bbox-crs")),
        sortby=parse_sortby(args.get("sortby"), layer, visible),
        filter=args.get("filter") or None,
        filter_lang=_choice(args.get("filter-lang"), "filter-lang", FILTER_LANGS, "cql2-text"),
        filter_crs=parse_crs(args.get("filter-crs"), "filter-crs"),
        as_of=parse_as_of(args.get("as_of"), layer),
        format=parse_format(args.get("f"), preferred),
        crs=parse_crs(args.get("crs"), "crs"),
    )


def parse_format(value: str | None, preferred: str = "json") -> str:
    """`f` wins; without it, the format the Accept header preferred."""
    if value is None:
        return preferred
    aliases = {"geojson": "json", "application/geo+json": "json", "application/json": "json",
               "text/csv": "csv", "text/html": "html"}
    return _choice(aliases.get(value, value), "f", FORMATS, "json")


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
