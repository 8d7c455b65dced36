"""Where parcel rows come from: the live table, or the versions valid at a moment.

Every parcel query selects from `parcel_source(as_of)`, so "as of a date" is the same query
over a different source. `as_of_parcels_query` is the one the features API uses for the
parcels collection's `as_of`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, Subquery, select

from gisapp.errors import BadRequest
from gisapp.versions import versions_at
from layers.city import CITY
from layers.land import PARCELS
from store.tables import LAYER_TABLES, VERSION_TABLES

CITY_TZ = CITY.tz
PARCEL_TABLE = LAYER_TABLES[PARCELS.id]
VERSIONS = VERSION_TABLES[PARCELS.id]
FIELD_NAMES = tuple(f.name for f in PARCELS.fields)
VN2000_TM3 = CITY.metric_srid  # the city's VN-2000 / TM-3 zone (DOMAIN.md §1)


def parse_as_of(value: str | None) -> datetime | None:
    """`YYYY-MM-DD` → the end of that day in the city (the next midnight, its time zone); None if unset."""
    if value is None or value == "":
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"as_of={value!r} is not a date; use YYYY-MM-DD") from None
    if len(value) != 10:
        raise BadRequest(f"as_of={value!r} is not a date; use YYYY-MM-DD")
    return datetime.combine(day + timedelta(days=1), time(), CITY_TZ)


def as_of_parcels_query(as_of: datetime) -> Select:
    """The parcels as they were at `as_of`: the fields, `feature_id` and `geom`, per version."""
    return versions_at(PARCELS, as_of)


def parcel_source(as_of: datetime | None = None) -> Subquery:
    """The live parcels (as_of None) or those at `as_of`, as subquery `p` with feature_id."""
    if as_of is None:
        query = select(PARCEL_TABLE.c.id.label("feature_id"),
                       *(PARCEL_TABLE.c[n] for n in FIELD_NAMES), PARCEL_TABLE.c.geom)
    else:
        query = as_of_parcels_query(as_of)
    return query.subquery("p")
