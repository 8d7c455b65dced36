"""Source CRS: resolve, refuse datum-less VN-2000 (Ballpark) transforms, reproject to EPSG:4326.

DOMAIN.md section 1: VN-2000 -> WGS 84 needs the 7-parameter shift (EPSG transformation
6960, "VN-2000 to WGS 84 (2)" in PROJ). A CRS without it makes PROJ fall back to a
"Ballpark" operation that lands about 225 m off in Da Nang.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from pyproj.transformer import AreaOfInterest, TransformerGroup

from etl.errors import ImportRefused
from etl.extent import CITY_BOUNDS
from layers.city import CITY

WGS84 = CRS.from_epsg(4326)
CITY_TM3 = CRS.from_epsg(CITY.metric_srid)
CITY_AOI = AreaOfInterest(*CITY_BOUNDS)
# Central meridians of the VN-2000 TM-3 provincial zones (102.0 .. 108.5 degrees) with slack.
VN_TM3_MERIDIANS = (101.5, 109.0)


@dataclass
class SourceCrs:
    """The CRS chosen for a source and how it reaches EPSG:4326."""

    crs: CRS
    transformer: Transformer | None  # None when the source is already EPSG:4326 lon/lat
    operation: str
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        epsg = self.crs.to_epsg(min_confidence=100)
        return f"EPSG:{epsg}" if epsg else (self.crs.name or self.crs.to_wkt())


def parse_crs(text: str) -> CRS:
    """A CRS from operator input ("EPSG:5899", "5899", WKT, PROJ string)."""
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise ImportRefused(f"unknown CRS {text!r}: {exc}; give an EPSG code such as "
                            f"{CITY.metric_crs} ({CITY.metric_crs_name}), EPSG:3405/3406 "
                            "(VN-2000 UTM 48N/49N) or EPSG:4326") from None


def _unbound(crs: CRS) -> CRS:
    """The projected CRS itself when `crs` is a BoundCRS (+towgs84)."""
    return crs.source_crs if crs.is_bound and crs.source_crs is not None else crs


def _tm_parameters(crs: CRS) -> dict[str, float]:
    op = _unbound(crs).coordinate_operation
    if op is None or "transverse mercator" not in op.method_name.lower():
        return {}
    return {p.name.lower(): p.value for p in op.params}


def _is_vn_tm3(crs: CRS) -> bool:
    params = _tm_parameters(crs)
    lon0 = params.get("longitude of natural origin")
    scale = params.get("scale factor at natural origin")
    return (lon0 is not None and VN_TM3_MERIDIANS[0] <= lon0 <= VN_TM3_MERIDIANS[1]
            and scale is not None and abs(scale - 0.9999) < 1e-9)


def _datum_name(crs: CRS) -> str:
    geodetic = _unbound(crs).geodetic_crs
    return (geodetic.datum.name if geodetic and geodetic.datum else "unknown").strip()


def _tm3_deviations(crs: CRS) -> list[str]:
    """Where a CRS of the city's TM-3 zone differs from its EPSG code (ellipsoid, scale, offsets)."""
    ours, ref = _tm_parameters(crs), _tm_parameters(CITY_TM3)
    lon0 = ours.get("longitude of natural origin")
    if lon0 is None or abs(lon0 - CITY.central_meridian) > 0.5 or crs.equals(CITY_TM3, ignore_axis_order=True):
        return []
    out = [f"{name} {ours[name]:g} ({CITY.metric_crs}: {value:g})"
           for name, value in ref.items() if name in ours and abs(ours[name] - value) > 1e-9]
    ell, ref_ell = _unbound(crs).ellipsoid, CITY_TM3.ellipsoid
    if ell is not None and ref_ell is not None and abs(ell.semi_major_metre
                                                        - ref_ell.semi_major_metre) > 1e-6:
        out.append(f"ellipsoid {ell.name} ({CITY.metric_crs}: {ref_ell.name})")
    elif ell is not None and ref_ell is not None and abs(ell.inverse_flattening
                                                          - ref_ell.inverse_flattening) > 1e-6:
        out.append(f"ellipsoid {ell.name} ({CITY.metric_crs}: {ref_ell.name})")
    if "vietnam" not in _datum_name(crs).lower() and "vn" not in _datum_name(crs).lower():
        out.append(f"datum {_datum_name(crs)} ({CITY.metric_crs}: Vietnam 2000)")
    return out


def resolve_crs(file_crs: CRS | None, override: str | None, confirm: bool) -> SourceCrs:
    """Choose the CRS (override > file) and the operation to EPSG:4326, refusing Ballpark ones.

    A Ballpark operation (no datum shift known), or a VN TM-3 projection on a non-VN-2000
    datum, means VN-2000 coordinates read without the datum shift: ~225 m off. Both are
    refused unless `confirm` (the operator accepts the CRS as given).
    """
    if override:
        crs = parse_crs(override)
    elif file_crs is not None:
        crs = file_crs
    else:
        raise ImportRefused(f"the file has no CRS; give one with --crs (e.g. {CITY.metric_crs} "
                            f"for {CITY.metric_crs_name}, EPSG:4326 for lon/lat)")
    if crs.is_geographic and crs.equals(WGS84, ignore_axis_order=True):
        return SourceCrs(crs, None, "none (already EPSG:4326)")
    group = TransformerGroup(crs, WGS84, always_xy=True, area_of_interest=CITY_AOI)
    if not group.transformers:
        raise ImportRefused(f"no transformation from {crs.name} to EPSG:4326 is available")
    transformer = group.transformers[0]
    operation = transformer.description
    warnings = []
    deviations = _tm3_deviations(crs)
    if deviations:
        warnings.append(f"CRS {crs.name!r} is a projection of the city's TM-3 zone that "
                        f"deviates from {CITY.metric_crs} ({CITY.metric_crs_name}): "
                        f"{'; '.join(deviations)}")
    datum = _datum_name(crs)
    ballpark = "ballpark" in operation.lower()
    shift = _hand_made_shift(crs)
    mislabelled = _is_vn_tm3(crs) and "vietnam" not in datum.lower() and not shift
    if shift and _is_vn_tm3(crs):
        warnings.append(f"CRS {crs.name!r} carries a hand-written +towgs84 shift; copies of it "
                        "often have the rotation signs of the other convention (0.64 m off). "
                        f"Prefer --crs {CITY.metric_crs}, which uses EPSG transformation 6960")
    if ballpark or mislabelled:
        why = (f"PROJ can only use a 'Ballpark' operation ({operation})" if ballpark else
               f"it is a Vietnamese TM-3 projection on datum {datum!r}, not VN-2000")
        message = (f"CRS {crs.name!r} has no VN-2000 datum shift: {why}. VN-2000 coordinates "
                   f"read this way land about 225 m off (DOMAIN.md §1). Use --crs {CITY.metric_crs} "
                   "(or the file's EPSG VN-2000 code), or --confirm-crs if the CRS is right")
        if not confirm:
            raise ImportRefused(message)
        warnings.append("operator confirmed the CRS: " + message)
    return SourceCrs(crs, transformer, operation, warnings)


def _hand_made_shift(crs: CRS) -> bool:
    """True when a BoundCRS carries a non-zero +towgs84 datum shift."""
    if not crs.is_bound or crs.coordinate_operation is None:
        return False
    return any(abs(p.value) > 0 for p in crs.coordinate_operation.params)


def reproject(geoms: np.ndarray, source: SourceCrs) -> np.ndarray:
    """Geometries (2D) transformed to EPSG:4326 lon/lat, vectorised over all coordinates."""
    if source.transformer is None:
        return geoms
    transformer = source.transformer

    def _transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _transform)
