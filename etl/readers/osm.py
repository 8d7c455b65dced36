"""OpenStreetMap extracts (.osm XML, .osm.pbf) through GDAL's OSM driver.

The driver splits an extract into points (tagged nodes), lines (ways), multipolygons
(closed ways and multipolygon relations) and other relations; frequent tags are columns,
the rest is an hstore-like `other_tags` text. The target layer's `OsmMapping` says which of
those to read, which features to take and which tags fill which fields.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from etl.errors import ImportRefused
from etl.readers.source import Source
from layers import Layer, Table

_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_UNESCAPE = re.compile(r"\\(.)")
_NOT_TAGS = {"osm_id", "osm_way_id", "other_tags", "z_order"}


def parse_other_tags(text: str | None) -> dict[str, str]:
    """The tags of GDAL's `other_tags` column ('"k"=>"v","k2"=>"v2"', backslash escapes)."""
    if not text:
        return {}
    return {_UNESCAPE.sub(r"\1", k): _UNESCAPE.sub(r"\1", v)
            for k, v in _HSTORE_PAIR.findall(text)}


def _element_ids(columns: dict[str, list], element: str) -> list[str]:
    """'node/1', 'way/2' or 'relation/3' per feature: the OSM object the feature comes from."""
    if element == "points":
        return [f"node/{i}" for i in columns["osm_id"]]
    if element == "lines":
        return [f"way/{i}" for i in columns["osm_id"]]
    return [f"relation/{r}" if r is not None else f"way/{w}"
            for r, w in zip(columns["osm_id"], columns["osm_way_id"])]


def read_osm(path: Path, decl: Table) -> Source:
    """The features of an OSM extract that the layer's mapping selects, as declared fields."""
    mapping = decl.osm if isinstance(decl, Layer) else None
    if mapping is None:
        from layers import LAYERS
        takers = ", ".join(layer.id for layer in LAYERS.values() if layer.osm)
        raise ImportRefused(f"layer {decl.id} declares no OpenStreetMap mapping; "
                            f"OpenStreetMap files can be imported into: {takers}")
    key = decl.key[0]
    rows: list[dict[str, str | None]] = []
    wkbs: list[bytes] = []
    for element in mapping.elements:
        try:
            meta, table = pyogrio.read_arrow(str(path), layer=element)
        except Exception as exc:  # pyogrio raises DataSourceError and friends
            raise ImportRefused(f"cannot read {path.name} as OpenStreetMap: {exc}") from None
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        ids = _element_ids(columns, element)
        tag_names = [c for c in columns if c not in _NOT_TAGS and c != geom_col]
        for i, other in enumerate(columns.get("other_tags") or [None] * table.num_rows):
            tags = parse_other_tags(other)
            tags.update({c: columns[c][i] for c in tag_names if columns[c][i] is not None})
            if mapping.accepts(tags):
                rows.append({key: ids[i], **mapping.row(tags)})
                wkbs.append(columns[geom_col][i])
    names = dict.fromkeys(name for name, _ in mapping.fields)  # a field may be listed twice
    frame = pd.DataFrame(rows, columns=[key, *names], dtype="string")
    geoms = np.asarray(shapely.from_wkb(wkbs, on_invalid="ignore"), dtype=object)
    if isinstance(decl, Layer) and decl.is_point and len(geoms):
        areas = shapely.get_dimensions(geoms) == 2
        geoms[areas] = shapely.point_on_surface(geoms[areas])
    return Source(frame, geoms.reshape(-1) if len(geoms) else geoms, CRS.from_epsg(4326), "OSM")
