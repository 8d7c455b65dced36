"""Source readers: each returns a Source (attribute frame, geometries, CRS) for the pipeline."""
from __future__ import annotations

from pathlib import Path

from etl.errors import ImportRefused
from etl.readers.source import Source
from etl.text_decoding import decode_text, plan_text
from layers import Table

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".zip": "ESRI Shapefile",
           ".shp": "ESRI Shapefile", ".csv": "CSV", ".osm": "OSM", ".pbf": "OSM"}


def source_format(path: Path) -> str:
    """The format name for a path, by extension, or ImportRefused listing what is accepted."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ImportRefused(f"cannot import {path.name}: unknown file type {path.suffix!r}; "
                            f"accepted: {', '.join(sorted(FORMATS))}") from None


def read_source(path: Path, *, encoding: str | None = None, source_layer: str | None = None,
                spatial: bool = True, decl: Table | None = None) -> Source:
    """Read any accepted file; CSV through the delimited reader, the rest through pyogrio.

    OpenStreetMap extracts are read through the target declaration's OSM mapping.
    """
    if not path.exists():
        raise ImportRefused(f"cannot import {path}: no such file")
    fmt = source_format(path)
    text = plan_text(path, fmt, encoding)
    if fmt == "OSM":
        from etl.readers.osm import read_osm
        if decl is None:
            raise ImportRefused(f"cannot import {path.name}: an OpenStreetMap file needs a "
                                "target layer")
        source = read_osm(path, decl)
    elif fmt == "CSV":
        from etl.readers.delimited import read_csv
        source = read_csv(path, encoding=text.read, spatial=spatial)
    else:
        from etl.readers.vector import read_vector
        source = read_vector(path, fmt, encoding=text.read, source_layer=source_layer)
    source.frame, found = decode_text(source.frame, text)
    source.warnings.extend(found)
    return source
