"""CSV: attributes plus geometry from a WKT column or lon/lat (or projected X/Y) columns."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from etl.errors import ImportRefused
from etl.fields import parse_numbers
from etl.readers.source import Source

WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "kinh_do")
LAT_COLUMNS = ("lat", "latitude", "vi_do")
X_COLUMNS = ("x", "easting", "e")
Y_COLUMNS = ("y", "northing", "n")
# Vietnam: northings 0.9-2.6 million m, eastings 0.2-0.8 million m (DOMAIN.md §1).
NORTHING_RANGE = (900_000.0, 2_700_000.0)
EASTING_RANGE = (100_000.0, 900_000.0)


def _find(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((columns[n] for n in names if n in columns), None)


def _is_between(values: np.ndarray, bounds: tuple[float, float]) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all((finite >= bounds[0]) & (finite <= bounds[1])))


def _xy_points(frame: pd.DataFrame, xcol: str, ycol: str, lonlat: bool,
               warnings: list[str]) -> tuple[np.ndarray, CRS | None]:
    x = parse_numbers(frame[xcol]).to_numpy(dtype="float64", na_value=np.nan)
    y = parse_numbers(frame[ycol]).to_numpy(dtype="float64", na_value=np.nan)
    crs = None
    if lonlat or (_is_between(x, (-180, 180)) and _is_between(y, (-90, 90))):
        crs = CRS.from_epsg(4326)  # lon/lat without a declared CRS
    elif _is_between(x, NORTHING_RANGE) and _is_between(y, EASTING_RANGE):
        warnings.append(f"columns {xcol}/{ycol} hold northing/easting (Vietnamese survey order "
                        "X = northing, Y = easting); swapped to easting/northing")
        x, y = y, x
    points = shapely.points(x, y)
    points[~(np.isfinite(x) & np.isfinite(y))] = None
    return np.asarray(points, dtype=object), crs


def read_csv(path: Path, *, encoding: str | None = None, spatial: bool = True) -> Source:
    """Read a CSV as text columns (empty cells are missing values).

    Lon/lat columns mean EPSG:4326. Projected X/Y columns need --crs; X=northing/Y=easting
    order is detected by magnitude and swapped with a warning.
    """
    return next(read_csv_batches(path, None, encoding=encoding, spatial=spatial))


def read_csv_batches(path: Path, batch_rows: int | None, *, encoding: str | None = None,
                     spatial: bool = True) -> Iterator[Source]:
    """read_csv in batches of `batch_rows` rows (None: one batch); the first batch decides
    the geometry columns and whether coordinates are lon/lat."""
    with open(path, encoding=encoding or "utf-8-sig", errors="replace") as fh:
        header = fh.readline()
    sep = ";" if header.count(";") > header.count(",") else ","

    def chunks() -> Iterator[pd.DataFrame]:
        options = dict(dtype=str, keep_default_na=False, na_values=[""],
                       encoding=encoding or "utf-8-sig", sep=sep)
        if batch_rows is None:
            yield pd.read_csv(path, **options)
            return
        empty = True
        for chunk in pd.read_csv(path, chunksize=batch_rows, **options):
            empty = False
            yield chunk
        if empty:  # a header without rows: one empty batch still names the columns
            yield pd.read_csv(path, nrows=0, **options)

    crs: list[CRS | None] = []
    for frame in _refusing_read_errors(chunks(), path, encoding):
        yield _source(frame, path, spatial, crs)


def _refusing_read_errors(chunks, path: Path, encoding: str | None) -> Iterator[pd.DataFrame]:
    iterator = iter(chunks)
    while True:
        try:
            frame = next(iterator)
        except StopIteration:
            return
        except (UnicodeDecodeError, LookupError) as exc:
            raise ImportRefused(f"cannot decode {path.name} as {encoding or 'utf-8'}: {exc}; "
                                "give the encoding with --encoding (e.g. cp1258)") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise ImportRefused(f"cannot read {path.name} as CSV: {exc}") from None
        yield frame


def _source(frame: pd.DataFrame, path: Path, spatial: bool, crs: list[CRS | None]) -> Source:
    """One batch as a Source; `crs` holds the first batch's lon/lat decision for the rest."""
    frame = frame.astype(object).where(frame.notna(), None)
    warnings: list[str] = []
    if not spatial:
        return Source(frame, None, None, "CSV", warnings)
    columns = {c.lower().strip(): c for c in frame.columns}
    wkt_col = _find(columns, WKT_COLUMNS)
    if wkt_col:
        texts = frame[wkt_col].to_numpy(dtype=object)
        geoms = np.asarray(shapely.from_wkt(texts, on_invalid="ignore"), dtype=object)
        if not crs:
            b = shapely.total_bounds(geoms)
            lonlat = bool(np.all(np.isfinite(b))) and -180 <= b[0] and b[2] <= 180 \
                and -90 <= b[1] and b[3] <= 90
            crs.append(CRS.from_epsg(4326) if lonlat else None)  # degrees, no declared CRS
        return Source(frame.drop(columns=[wkt_col]), geoms, crs[0], "CSV", warnings)
    lon, lat = _find(columns, LON_COLUMNS), _find(columns, LAT_COLUMNS)
    lonlat = lon is not None and lat is not None
    xcol, ycol = (lon, lat) if lonlat else (_find(columns, X_COLUMNS), _find(columns, Y_COLUMNS))
    if xcol is None or ycol is None:
        raise ImportRefused(f"{path.name} has no geometry: give a WKT column "
                            f"({', '.join(WKT_COLUMNS)}), lon/lat columns or X/Y columns; "
                            f"it has: {', '.join(frame.columns)}")
    geoms, found = _xy_points(frame, xcol, ycol, lonlat, warnings)
    return Source(frame.drop(columns=[xcol, ycol]), geoms, found, "CSV", warnings)
