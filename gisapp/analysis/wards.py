"""Ward dashboard figures: parcels by land use, pipe length by diameter, lights, Wi-Fi."""
from __future__ import annotations

import shapely
from sqlalchemy import Connection, Float, bindparam, func, select

from gisapp.analysis.area import ward_area
from gisapp.analysis.wifi import ward_coverage
from gisapp.spatial import METRIC_SRID
from layers.drainage import DRAINAGE_PIPES
from layers.land import PARCELS
from layers.lighting import STREET_LIGHTS
from store.tables import LAYER_TABLES


def ward_summary(conn: Connection, code: str) -> dict:
    """One ward's dashboard: a parcel counts where its inner point lies; pipes are clipped."""
    attrs, ward = ward_area(conn, code)
    metric = func.ST_GeomFromWKB(bindparam("ward", shapely.to_wkb(ward)), METRIC_SRID)
    zone = func.ST_Transform(metric, 4326)
    p, pipes, lights = (LAYER_TABLES[PARCELS.id], LAYER_TABLES[DRAINAGE_PIPES.id],
                        LAYER_TABLES[STREET_LIGHTS.id])
    land = [{"land_use": r.land_use, "parcels": r.n, "area_m2": round(r.area, 1)}
            for r in conn.execute(
                select(p.c.land_use, func.count().label("n"),
                       func.sum(func.ST_Area(func.ST_Transform(p.c.geom, METRIC_SRID)))
                       .cast(Float).label("area"))
                .where(func.ST_Intersects(p.c.geom, zone),
                       func.ST_Intersects(func.ST_PointOnSurface(p.c.geom), zone))
                .group_by(p.c.land_use).order_by(p.c.land_use))]
    clipped = func.ST_Length(func.ST_Intersection(func.ST_Transform(pipes.c.geom, METRIC_SRID),
                                                  metric))
    pipe_rows = [{"diameter_mm": r.d, "pipes": r.n, "length_m": round(r.length, 1)}
                 for r in conn.execute(
                     select(pipes.c.diameter_mm.label("d"), func.count().label("n"),
                            func.sum(clipped).cast(Float).label("length"))
                     .where(func.ST_Intersects(pipes.c.geom, zone))
                     .group_by(pipes.c.diameter_mm).order_by(pipes.c.diameter_mm))]
    light_rows = dict(conn.execute(
        select(lights.c.status, func.count()).where(func.ST_Intersects(lights.c.geom, zone))
        .group_by(lights.c.status).order_by(lights.c.status)).all())
    return {"ward": {**attrs, "computed_area_km2": round(ward.area / 1e6, 3)},
            "parcels_by_land_use": land,
            "pipe_length_by_diameter": pipe_rows,
            "lights_by_status": light_rows,
            "wifi": ward_coverage(conn, code).figures}
