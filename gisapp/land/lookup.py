"""Parcel lookup by id, by key and by point, and the parcel document a permit officer reads.

What a caller sees follows the access levels of the declarations in layers/land.py: parcel
fields by Field.access, rights if the rights table is visible, parties (names, ID numbers)
only with the PERSONAL level. The caller audits personal reads (`document.personal`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from functools import lru_cache

from sqlalchemy import (Connection, DateTime, Numeric, and_, bindparam, func, literal,
                        literal_column, select)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from gisapp.errors import Conflict, NotFound
from gisapp.land.source import VN2000_TM3, parcel_source
from layers import Access
from layers.land import LAND_USES, PARCELS, PARTIES, RIGHTS
from layers.land_use_codes import describe_land_use
from store.tables import LAYER_TABLES, PLAIN_TABLES

WARDS = LAYER_TABLES["wards"]
RIGHTS_T, PARTIES_T, USES_T = (PLAIN_TABLES[t.id] for t in (RIGHTS, PARTIES, LAND_USES))
NEIGHBOUR_M = 1.0
NEIGHBOUR_DEG = 0.00003  # index prefilter around the parcel, wider than 1 m at this latitude
KEY_PARTS = PARCELS.key
AS_OF = bindparam("as_of", type_=DateTime(timezone=True))


@dataclass(frozen=True)
class ParcelKey:
    """Ward code, map sheet and parcel number; former ward code when the ward needs it."""

    ward_code: str
    sheet_no: int
    parcel_no: int
    former_ward_code: str | None = None


def _visible(decl, levels: frozenset[Access]) -> tuple[str, ...]:
    return tuple(f.name for f in decl.visible_fields(levels))


def _json_list(expr, order):
    return func.coalesce(func.json_agg(aggregate_order_by(expr, order)),
                         literal_column("'[]'::json"))


@lru_cache(maxsize=32)
def _statement(levels: frozenset[Access], historic: bool):
    """(source `p`, the parcel SELECT) built once per access levels and era; as_of is bound."""
    p = parcel_source(AS_OF if historic else None)
    n = parcel_source(AS_OF if historic else None).alias("n")
    near = and_(n.c.feature_id != p.c.feature_id,
                n.c.geom.op("&&")(func.ST_Expand(p.c.geom, NEIGHBOUR_DEG)),
                func.ST_DWithin(func.ST_Transform(n.c.geom, VN2000_TM3),
                                func.ST_Transform(p.c.geom, VN2000_TM3), NEIGHBOUR_M))
    neighbours = (select(_json_list(func.json_build_object(
        "parcel_uid", n.c.parcel_uid, "sheet_no", n.c.sheet_no, "parcel_no", n.c.parcel_no,
        "land_use", n.c.land_use), n.c.parcel_uid)).where(near).scalar_subquery())
    use_names = [c for c in _visible(LAND_USES, levels) if c != "parcel_uid"]
    pairs = [x for c in use_names for x in (literal(c), USES_T.c[c])]
    uses = (select(_json_list(func.json_build_object(*pairs), USES_T.c.land_use))
            .where(USES_T.c.parcel_uid == p.c.parcel_uid).scalar_subquery()
            if LAND_USES.access in levels and use_names else literal_column("'[]'::json"))
    query = select(
        p.c.feature_id, *(p.c[c] for c in _visible(PARCELS, levels)),
        p.c.land_use.label("_land_use"),
        func.round(func.ST_Area(func.ST_Transform(p.c.geom, VN2000_TM3)).cast(Numeric), 1)
        .label("computed_area"),
        func.ST_AsGeoJSON(p.c.geom, 7).label("geojson"), WARDS.c.name.label("ward_name"),
        neighbours.label("neighbours"), uses.label("land_uses"),
    ).select_from(p.outerjoin(WARDS, WARDS.c.code == p.c.ward_code))
    return p, query


def _rows(conn: Connection, levels, as_of, where, limit: int = 2):
    p, query = _statement(levels, as_of is not None)
    stmt = query.where(*where(p)).order_by(p.c.parcel_uid).limit(limit)
    return conn.execute(stmt, {"as_of": as_of} if as_of else {}).mappings().all()


def find_by_uid(conn: Connection, uid: str, levels: frozenset[Access],
                as_of: datetime | None = None) -> dict:
    """The parcel document for a parcel id (ward-former-sheet-parcel)."""
    rows = _rows(conn, levels, as_of, lambda p: [p.c.parcel_uid == uid])
    if not rows:
        raise NotFound(f"no parcel {_when(f'with id {uid!r}', as_of)}")
    return build_document(conn, dict(rows[0]), levels, as_of)


def find_by_key(conn: Connection, key: ParcelKey, levels: frozenset[Access],
                as_of: datetime | None = None) -> dict:
    """The parcel with this key; 409 listing candidates when the former ward is needed."""
    def where(p):
        conds = [p.c.ward_code == key.ward_code, p.c.sheet_no == key.sheet_no,
                 p.c.parcel_no == key.parcel_no]
        if key.former_ward_code:
            conds.append(p.c.former_ward_code == key.former_ward_code)
        return conds
    rows = _rows(conn, levels, as_of, where, limit=20)
    what = f"{key.parcel_no} on sheet {key.sheet_no} in ward {key.ward_code}"
    if not rows:
        raise NotFound(f"no parcel {_when(what, as_of)}")
    if len(rows) > 1:
        uids = ", ".join(r["parcel_uid"] for r in rows)
        raise Conflict(f"parcel {what} exists in several former wards ({uids}); "
                       "add former=<former ward code>")
    return build_document(conn, dict(rows[0]), levels, as_of)


def find_at_point(conn: Connection, lon: float, lat: float, levels: frozenset[Access],
                  as_of: datetime | None = None) -> dict:
    """The parcel covering a WGS 84 point."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    rows = _rows(conn, levels, as_of, lambda p: [func.ST_Intersects(p.c.geom, point)])
    if not rows:
        raise NotFound(f"no parcel {_when(f'at lon {lon}, lat {lat}', as_of)}")
    return build_document(conn, dict(rows[0]), levels, as_of)


def _when(what: str, as_of: datetime | None) -> str:
    if as_of is None:
        return what
    day = (as_of - timedelta(days=1)).date().isoformat()
    return f"{what} at the end of {day} (Da Nang time)"


def build_document(conn: Connection, row: dict, levels: frozenset[Access],
                   as_of: datetime | None) -> dict:
    """The full parcel response from its selected row."""
    uid = row["parcel_uid"]
    fields = {n: row[n] for n in _visible(PARCELS, levels)}
    doc = {
        "parcel_uid": uid,
        "key": {k: row[k] for k in KEY_PARTS},
        "as_of": None if as_of is None else as_of.isoformat(),
        "land_use": describe_land_use(row["_land_use"]),
        "legal_area": row.get("legal_area"),
        "computed_area": float(row["computed_area"]),
        "area_unit": "m²",
        "ward": {"code": row["ward_code"], "name": row["ward_name"]},
        "address": row.get("address"),
        "properties": fields,
        "land_uses": [u | {"land_use_name": describe_land_use(u["land_use"])}
                      for u in row["land_uses"]],
        "neighbours": row["neighbours"],
        "geometry": json.loads(row["geojson"]),
        "personal": False,
    }
    if RIGHTS.access in levels:
        doc["rights"] = _rights(conn, uid, levels)
        doc["personal"] = PARTIES.access in levels and bool(doc["rights"])
    if Access.STAFF in levels:
        certs = {fields.get("certificate_no")} | {r.get("certificate_no")
                                                    for r in doc.get("rights", [])}
        doc["certificate_numbers"] = sorted(c for c in certs if c)
    return doc


def _rights(conn: Connection, uid: str, levels: frozenset[Access]) -> list[dict]:
    right_cols = [RIGHTS_T.c[n] for n in _visible(RIGHTS, levels) if n != "parcel_uid"]
    party_names = _visible(PARTIES, levels) if PARTIES.access in levels else ()
    party_cols = [PARTIES_T.c[n].label(f"party__{n}") for n in party_names]
    query = (select(*right_cols, *party_cols)
             .select_from(RIGHTS_T.outerjoin(PARTIES_T,
                                             PARTIES_T.c.party_id == RIGHTS_T.c.party_id))
             .where(RIGHTS_T.c.parcel_uid == uid)
             .order_by(RIGHTS_T.c.party_id, RIGHTS_T.c.right_type))
    out = []
    for r in conn.execute(query).mappings():
        item = {k: _plain(v) for k, v in r.items() if not k.startswith("party__")}
        if party_names:
            item["party"] = {n: r[f"party__{n}"] for n in party_names}
        out.append(item)
    return out


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
