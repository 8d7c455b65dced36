"""A lookup point from request values: WGS 84 lon/lat, or x/y in an EPSG CRS (VN-2000).

x is easting and y northing (GIS order). Vietnamese surveys write X = northing: a pair that
looks swapped for a projected VN-2000 CRS is refused with a message saying so.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gisapp.errors import BadRequest
from gisapp.query_args import finite_number
from layers.city import CITY

DEFAULT_XY_CRS = CITY.metric_crs
EPSG = re.compile(r"^(?:EPSG:|https?://www\.opengis\.net/def/crs/EPSG/0/)(\d{4,6})$", re.I)
VIETNAM = (100.0, 6.0, 119.0, 25.0)  # generous lon/lat box around Vietnam and its seas


def _number(name: str, value: str | None) -> float:
    return finite_number(value or None, name)


@lru_cache(maxsize=16)
def _to_wgs84(epsg: int) -> Transformer:
    try:
        crs = CRS.from_epsg(epsg)
    except CRSError:
        raise BadRequest(f"EPSG:{epsg} is not a known CRS") from None
    return Transformer.from_crs(crs, 4326, always_xy=True)


def parse_point(args) -> tuple[float, float]:
    """(lon, lat) in WGS 84 from `lon`/`lat`, or from `x`/`y` with `crs` (default: the city's metric CRS)."""
    if "lon" in args or "lat" in args:
        lon, lat = _number("lon", args.get("lon")), _number("lat", args.get("lat"))
    elif "x" in args or "y" in args:
        x, y = _number("x", args.get("x")), _number("y", args.get("y"))
        crs = args.get("crs") or DEFAULT_XY_CRS
        match = EPSG.match(crs.strip())
        if not match:
            raise BadRequest(f"crs={crs!r} is not allowed; give an EPSG code like {DEFAULT_XY_CRS}")
        epsg = int(match.group(1))
        if epsg != 4326 and x > 900_000 and y < 900_000:
            raise BadRequest(f"x={x} looks like a northing and y={y} like an easting; "
                             "send x = easting, y = northing")
        lon, lat = _to_wgs84(epsg).transform(x, y) if epsg != 4326 else (x, y)
    else:
        raise BadRequest(f"give lon and lat (WGS 84), or x and y with crs (e.g. {DEFAULT_XY_CRS})")
    if not (VIETNAM[0] <= lon <= VIETNAM[2] and VIETNAM[1] <= lat <= VIETNAM[3]):
        raise BadRequest(f"lon {lon:.6f}, lat {lat:.6f} is outside Vietnam "
                         f"(lon {VIETNAM[0]}-{VIETNAM[2]}, lat {VIETNAM[1]}-{VIETNAM[3]})")
    return lon, lat
