"""The city the application serves: its metric CRS, time zone, extent and opening view.

Every length, area, buffer and setback is measured in the city's VN-2000 / TM-3 zone
(DOMAIN.md §1); dates typed by users are days in its time zone; imports refuse geometry
outside its bounds; the map, the parcel desk, the print and feature pages open on its
centre (served by /api/layers). Moving to another Vietnamese province means declaring its
`City` (here, or in a module named by `GISAPP_CITY=package.module:NAME`) and loading its
data: nothing else names the city.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class City:
    """A city: where it is, how it measures and which clock its dates follow.

    `metric_srid` is the EPSG code of the province's VN-2000 / TM-3 zone (it must be in
    PostGIS's spatial_ref_sys) and `central_meridian` that zone's, in degrees. `bounds`
    (lon/lat) is the extent every imported geometry must lie inside; `centre` and `zoom` are
    the map's opening view.
    """

    id: str
    name: dict[str, str]
    metric_srid: int
    metric_crs_name: str
    central_meridian: float
    timezone: str
    centre: tuple[float, float]
    zoom: float
    bounds: tuple[float, float, float, float]

    @property
    def metric_crs(self) -> str:
        """The metric CRS as an EPSG code string ("EPSG:5899")."""
        return f"EPSG:{self.metric_srid}"

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)


DA_NANG = City(
    id="da_nang",
    name={"vi": "Đà Nẵng", "en": "Da Nang"},
    metric_srid=5899,
    metric_crs_name="VN-2000 / TM-3 107°45′",
    central_meridian=107.75,
    timezone="Asia/Ho_Chi_Minh",
    centre=(108.2208, 16.0678),
    zoom=13,
    # The merged city (incl. the Hoang Sa special zone), computed once from
    # /work/shared/data/danang-wards-2025/48_da_nang.geojson (total_bounds, 6 decimals):
    # the repo must not read that file at run time.
    bounds=(107.208588, 14.953287, 112.736122, 17.120279),
)


def select_city(name: str | None) -> City:
    """The city named `package.module:NAME` (GISAPP_CITY), or Da Nang when unset."""
    if not name:
        return DA_NANG
    module, _, attribute = name.partition(":")
    try:
        city = getattr(importlib.import_module(module), attribute or "CITY")
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"GISAPP_CITY={name!r} names no city ({exc}); "
                         "give package.module:NAME of a layers.city.City") from None
    if not isinstance(city, City):
        raise ValueError(f"GISAPP_CITY={name!r} is a {type(city).__name__}, not a City")
    return city


# Chosen once per process, like the layer registry: every module measures in one city.
CITY = select_city(os.environ.get("GISAPP_CITY"))
