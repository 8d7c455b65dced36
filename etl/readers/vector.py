"""GeoJSON, GeoPackage and (zipped) Shapefile through pyogrio's Arrow path."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS

from etl.archives import unreadable_reason
from etl.errors import ImportRefused
from etl.readers.source import Source


def _shapefile_in_zip(path: Path, source_layer: str | None) -> str:
    """The GDAL /vsizip/ path of the one .shp inside a zip (any folder depth)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except zipfile.BadZipFile:
        raise ImportRefused(f"cannot import {path.name}: not a valid zip archive") from None
    for member in members:
        unreadable = unreadable_reason(member)
        if unreadable:
            raise ImportRefused(f"cannot import {path.name}: {unreadable}")
    shps = [m.filename for m in members if m.filename.lower().endswith(".shp")
            and not m.filename.startswith("__MACOSX/")]
    if source_layer:
        shps = [n for n in shps if Path(n).stem == source_layer or n == source_layer]
    if len(shps) != 1:
        found = ", ".join(shps) or "none"
        raise ImportRefused(f"{path.name} must hold exactly one Shapefile (.shp) "
                            f"{'named ' + source_layer + ' ' if source_layer else ''}"
                            f"(found: {found}); choose one with --source-layer")
    return f"/vsizip/{path.resolve()}/{shps[0]}"


def _pick_layer(dataset: str, name: str, source_layer: str | None) -> str | None:
    try:
        names = [row[0] for row in pyogrio.list_layers(dataset)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise ImportRefused(f"cannot read {name}: {exc}") from None
    if source_layer:
        if source_layer not in names:
            raise ImportRefused(f"{name} has no layer {source_layer!r}; it has: {', '.join(names)}")
        return source_layer
    if len(names) > 1:
        raise ImportRefused(f"{name} holds several layers ({', '.join(names)}); "
                            "choose one with --source-layer")
    return names[0] if names else None


def _dataset(path: Path, source_layer: str | None) -> tuple[str, str | None]:
    if path.suffix.lower() == ".zip":
        return _shapefile_in_zip(path, source_layer), None
    return str(path), _pick_layer(str(path), path.name, source_layer)


def read_vector(path: Path, fmt: str, *, encoding: str | None = None,
                source_layer: str | None = None) -> Source:
    """Read every feature: attributes as a pandas frame, geometries as a shapely array."""
    dataset, layer = _dataset(path, source_layer)
    try:
        meta, table = pyogrio.read_arrow(dataset, layer=layer, encoding=encoding)
    except Exception as exc:
        raise ImportRefused(f"cannot read {path.name} as {fmt}: {exc}") from None
    return _source(meta, table, fmt)


def read_vector_batches(path: Path, fmt: str, batch_rows: int, *, encoding: str | None = None,
                        source_layer: str | None = None) -> Iterator[Source]:
    """read_vector in batches of `batch_rows` features, streamed from GDAL (memory stays bounded)."""
    dataset, layer = _dataset(path, source_layer)
    try:
        with pyogrio.open_arrow(dataset, layer=layer, encoding=encoding, batch_size=batch_rows,
                                use_pyarrow=True) as (meta, reader):
            empty = True
            for batch in reader:
                empty = False
                yield _source(meta, pa.Table.from_batches([batch]), fmt)
            if empty:
                yield _source(meta, reader.schema.empty_table(), fmt)
    except ImportRefused:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise ImportRefused(f"cannot read {path.name} as {fmt}: {exc}") from None


def _source(meta: dict, table: pa.Table, fmt: str) -> Source:
    geom_col = meta.get("geometry_name") or "wkb_geometry"
    wkb = None
    if geom_col in table.column_names:
        wkb = table.column(geom_col).to_numpy(zero_copy_only=False)
        table = table.drop_columns([geom_col])
    frame = table.to_pandas()
    geoms = shapely.from_wkb(wkb, on_invalid="ignore") if wkb is not None else None
    if geoms is not None:
        geoms = np.asarray(geoms, dtype=object)
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    return Source(frame, geoms, crs, fmt)
