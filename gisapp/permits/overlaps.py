"""The geometry behind a check: footprint, parcel and every constraint overlap (5899 shapes)."""
from __future__ import annotations

from shapely.geometry.base import BaseGeometry

from gisapp.permits.coverage import pipe_corridor
from gisapp.permits.rules import Rule
from gisapp.permits.sitemodel import Site


def overlap_shapes(site: Site, rules: dict[str, Rule]) -> list[tuple[dict, BaseGeometry]]:
    """(properties, 5899 geometry) for the parcel, the footprint and each non-empty overlap.

    Footprint overlaps: road reserves, drainage corridors, the part outside the parcel.
    Parcel overlaps: flood zones and heritage areas (they concern the land, not the building).
    """
    lot, fp = site.parcel.geom, site.footprint
    shapes: list[tuple[dict, BaseGeometry]] = [
        ({"kind": "parcel", "parcel_uid": site.parcel.attrs["parcel_uid"]}, lot)]
    if fp is not None:
        shapes.append(({"kind": "footprint"}, fp))
        shapes.append(({"kind": "outside_parcel"}, fp.difference(lot)))
        for r in site.reserves:
            shapes.append(({"kind": "road_reserve", "id": r.attrs["reserve_id"]},
                           fp.intersection(r.geom)))
        if "drainage_corridor" in rules:
            params = rules["drainage_corridor"].params
            for p in site.pipes:
                _, corridor = pipe_corridor(p, params)
                shapes.append(({"kind": "drainage_corridor", "id": p.attrs["pipe_id"]},
                               fp.intersection(corridor)))
    for f in site.floods:
        shapes.append(({"kind": "flood_zone", "id": f.attrs["zone_id"], "risk": f.attrs["risk"]},
                       lot.intersection(f.geom)))
    for h in site.heritage:
        shapes.append(({"kind": "heritage_area", "id": h.attrs["heritage_id"],
                        "name": h.attrs["name"]}, lot.intersection(h.geom)))
    return [(props | {"area_m2": round(g.area, 2)}, g) for props, g in shapes
            if not g.is_empty and g.area > 0]
