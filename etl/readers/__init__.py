"""Source readers: each returns a Source (attribute frame, geometries, CRS) for the pipeline."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from etl.errors import ImportRefused
from etl.readers.source import Source
from etl.text_decoding import TextDecoder, decode_text, plan_text
from layers import Table

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".zip": "ESRI Shapefile",
           ".shp": "ESRI Shapefile", ".csv": "CSV", ".osm": "OSM", ".pbf": "OSM"}
# Rows per batch of a streamed source: bounds memory (~1 KB a parcel in flight) while
# the database ingests the previous batch.
BATCH_ROWS = 100_000


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


class SourceBatches:
    """A source read in batches of rows, text decoded alike in every batch (see read_source).

    GeoJSON, GeoPackage, Shapefile and CSV stream from the file; other formats (OSM) come
    as one batch. Iterate once; `warnings()` then holds the text findings of every batch.
    """

    def __init__(self, path: Path, *, encoding: str | None = None,
                 source_layer: str | None = None, spatial: bool = True,
                 decl: Table | None = None, batch_rows: int | None = None):
        if not path.exists():
            raise ImportRefused(f"cannot import {path}: no such file")
        self.path, self.encoding, self.source_layer = path, encoding, source_layer
        self.spatial, self.decl = spatial, decl
        self.batch_rows = batch_rows or BATCH_ROWS
        self.format = source_format(path)
        self.text = plan_text(path, self.format, encoding)
        self._decoder = TextDecoder(self.text)

    def __iter__(self) -> Iterator[Source]:
        if self.format == "CSV":
            from etl.readers.delimited import read_csv_batches
            raw = read_csv_batches(self.path, self.batch_rows, encoding=self.text.read,
                                   spatial=self.spatial)
        elif self.format in ("GeoJSON", "GPKG", "ESRI Shapefile"):
            from etl.readers.vector import read_vector_batches
            raw = read_vector_batches(self.path, self.format, self.batch_rows,
                                      encoding=self.text.read, source_layer=self.source_layer)
        else:
            yield read_source(self.path, encoding=self.encoding, source_layer=self.source_layer,
                              spatial=self.spatial, decl=self.decl)
            return
        for source in raw:
            source.frame = self._decoder.decode(source.frame)
            yield source

    def warnings(self) -> list[str]:
        """The text decoding findings over every batch read so far."""
        return self._decoder.warnings()
