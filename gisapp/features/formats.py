"""Items as GeoJSON, CSV (geometry as WKT) or rows for the HTML table page."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from gisapp.features.params import ItemsQuery
from gisapp.features.query import Feature, Page
from layers import Field, Layer

MEDIA_TYPES = {"json": "application/geo+json", "csv": "text/csv; charset=utf-8",
               "html": "text/html; charset=utf-8"}


def paging_links(url: str, args: dict[str, str], query: ItemsQuery, matched: int | None,
                 returned: int, last_id: int | None = None,
                 more: bool | None = None) -> list[dict]:
    """self, alternate formats, and next/prev; other parameters are kept.

    In the default order (by id) `next` continues after the page's last id (keyset: a
    client reading a whole layer page by page costs the same per page at any depth);
    with sortby it moves the offset. `more` says whether rows follow when `matched` is
    unknown (keyset pages do not count).
    """
    def href(**changes: Any) -> str:
        merged = {**args, **{k: str(v) for k, v in changes.items()}}
        return f"{url}?{urlencode(merged)}"

    links = [{"href": href(f="json"), "rel": "self" if query.format == "json" else "alternate",
              "type": MEDIA_TYPES["json"], "title": "This page as GeoJSON"},
             {"href": href(f="csv"), "rel": "alternate", "type": "text/csv",
              "title": "This page as CSV"},
             {"href": href(f="html"), "rel": "self" if query.format == "html" else "alternate",
              "type": "text/html", "title": "This page as HTML"}]
    fmt = {"f": query.format} if "f" in args else {}
    if more is None:
        more = matched is not None and query.offset + returned < matched
    if more and not query.sortby and last_id is not None:
        args = {k: v for k, v in args.items() if k != "offset"}
        links.append({"href": href(after=last_id, limit=query.limit, **fmt),
                      "rel": "next", "type": MEDIA_TYPES[query.format], "title": "Next page"})
    elif more:
        links.append({"href": href(offset=query.offset + query.limit, limit=query.limit, **fmt),
                      "rel": "next", "type": MEDIA_TYPES[query.format], "title": "Next page"})
    if query.offset > 0:
        links.append({"href": href(offset=max(0, query.offset - query.limit),
                                   limit=query.limit, **fmt),
                      "rel": "prev", "type": MEDIA_TYPES[query.format], "title": "Previous page"})
    return links


def feature_json(feature: Feature, layer: Layer, base: str) -> dict[str, Any]:
    url = f"{base}/collections/{layer.id}"
    return {"type": "Feature", "id": feature.id, "geometry": feature.geometry,
            "properties": feature.properties,
            "links": [{"href": f"{url}/items/{feature.id}", "rel": "self",
                       "type": "application/geo+json"},
                      {"href": url, "rel": "collection", "type": "application/json"}]}


def feature_collection(page: Page, layer: Layer, base: str,
                       links: list[dict]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [feature_json(f, layer, base) for f in page.features],
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }


def feature_collection_bytes(features: bytes, matched: int | None, returned: int,
                             links: list[dict]) -> bytes:
    """A FeatureCollection (UTF-8) around a GeoJSON features array PostgreSQL wrote (UTF-8)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    counted = "" if matched is None else f',"numberMatched":{matched:d}'
    tail = (f'{counted},"numberReturned":{returned:d},"timeStamp":"{stamp}","links":'
            + json.dumps(links, ensure_ascii=False) + "}")
    return b"".join((b'{"type":"FeatureCollection","features":', features, tail.encode()))


def features_csv(page: Page, fields: tuple[Field, ...]) -> str:
    """One row per feature: id, the properties, then the geometry as WKT (CRS84)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *(f.name for f in fields), "wkt"])
    for feature in page.features:
        writer.writerow([feature.id, *(_cell(feature.properties[f.name]) for f in fields),
                         feature.geometry])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # spreadsheet formula injection: show the text, never run it
    return "" if value is None else value
