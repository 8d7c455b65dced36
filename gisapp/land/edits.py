"""Split and merge parcels, keeping their history and lineage, in the caller's transaction.

What follows the parcels (kept simple, on purpose):
- attributes: children of a split copy the parent's; a merge takes the first listed parcel's.
  Certificate and register numbers are cleared (new parcels need new certificates); the
  legal area of a child is its computed area, of a merge the sum of the legal areas.
- rights: copied to every child of a split; on a merge the union of the parents' rights, one
  per (party, right type). The parents' rights rows are removed with the parents.
- land-use purposes: a child gets the parent's purposes scaled by its share of the area; a
  merge sums the parents' purposes per code.
- history: each parent's open version is closed (valid_to = now) with lineage split_into /
  merged_into; each new parcel opens a version with split_from / merged_from.
Then layer_state.data_version is bumped and gisapp_layer_changed notified, as an import does.
"""
from __future__ import annotations

import shapely
from sqlalchemy import Connection, func, insert, literal, select, union_all
from sqlalchemy.dialects.postgresql import JSONB, insert as pg_insert

from etl.overviews import refresh_overview
from gisapp.errors import BadRequest, Conflict, NotFound
from gisapp.land.edit_requests import (MergeRequest, SplitRequest, check_adjacent,
                                       check_split_cover, metric)
from gisapp.land.source import PARCEL_TABLE as P, VERSIONS as V
from layers.land import LAND_USES, PARCELS, RIGHTS
from store.layer_changes import publish_layer_change
from store.tables import PLAIN_TABLES

RIGHTS_T, USES_T = PLAIN_TABLES[RIGHTS.id], PLAIN_TABLES[LAND_USES.id]
STORED = tuple(f.name for f in PARCELS.fields if f.generated is None)
CLEARED = ("certificate_no", "register_no")
SHEET = ("ward_code", "former_ward_code", "sheet_no")


def _lock(conn: Connection, uids: list[str]) -> list[dict]:
    rows = conn.execute(select(P.c.id, P.c.parcel_uid, *(P.c[n] for n in STORED),
                               func.ST_AsBinary(P.c.geom).label("wkb"), P.c.updated_at)
                        .where(P.c.parcel_uid.in_(uids)).order_by(P.c.id)
                        .with_for_update()).mappings().all()
    found = {r["parcel_uid"] for r in rows}
    missing = [u for u in uids if u not in found]
    if missing:
        raise NotFound(f"no current parcel {', '.join(missing)}")
    by_uid = {r["parcel_uid"]: dict(r) for r in rows}
    return [by_uid[u] for u in uids]


def _next_numbers(conn: Connection, sheet: dict, wanted: list[int | None]) -> list[int]:
    """Given numbers checked against the sheet's past and present; missing ones allocated."""
    on_sheet = [t.c[k] == sheet[k] for t in (P, V) for k in SHEET]
    used = union_all(select(P.c.parcel_no).where(*on_sheet[:3]),
                     select(V.c.parcel_no).where(*on_sheet[3:])).subquery()
    taken = {n for n in wanted if n is not None} & set(
        conn.execute(select(used.c.parcel_no)).scalars())
    if taken:
        raise Conflict(f"parcel numbers {sorted(taken)} are or were used on sheet "
                       f"{sheet['sheet_no']}; leave parcel_no out to allocate a new one")
    top = conn.execute(select(func.coalesce(func.max(used.c.parcel_no), 0))).scalar_one()
    top = max([top, *(n for n in wanted if n is not None)])
    out = []
    for n in wanted:
        if n is None:
            top += 1
            n = top
        out.append(n)
    return out


def _close(conn: Connection, parent: dict, lineage: dict, change: str) -> None:
    """Close the parent's open version; record one if the parcel had none."""
    closed = conn.execute(V.update().where(V.c.feature_id == parent["id"], V.c.valid_to.is_(None))
                          .values(valid_to=func.now(),
                                  lineage=V.c.lineage.op("||")(literal(lineage, JSONB))))
    if closed.rowcount == 0:
        conn.execute(insert(V).from_select(
            ["feature_id", "parcel_uid", *STORED, "geom", "valid_from", "valid_to", "change",
             "lineage"],
            select(P.c.id, P.c.parcel_uid, *(P.c[n] for n in STORED), P.c.geom, P.c.updated_at,
                   func.now(), literal(change), literal(lineage, JSONB))
            .where(P.c.id == parent["id"])))
    conn.execute(P.delete().where(P.c.id == parent["id"]))


def _create(conn: Connection, values: dict, wkb: bytes, change: str, lineage: dict) -> str:
    geom = func.ST_Multi(func.ST_SetSRID(func.ST_GeomFromWKB(wkb), 4326))
    row = conn.execute(P.insert().values(**values, geom=geom)
                       .returning(P.c.id, P.c.parcel_uid)).one()
    conn.execute(insert(V).from_select(
        ["feature_id", "parcel_uid", *STORED, "geom", "valid_from", "change", "lineage"],
        select(P.c.id, P.c.parcel_uid, *(P.c[n] for n in STORED), P.c.geom, func.now(),
               literal(change), literal(lineage, JSONB)).where(P.c.id == row.id)))
    return row.parcel_uid


def _copy_rights(conn: Connection, sources: list[str], target: str) -> None:
    cols = [f.name for f in RIGHTS.imported_fields if f.name != "parcel_uid"]
    rows = conn.execute(select(*(RIGHTS_T.c[c] for c in cols))
                        .where(RIGHTS_T.c.parcel_uid.in_(sources))
                        .order_by(RIGHTS_T.c.id)).mappings().all()
    if rows:
        conn.execute(pg_insert(RIGHTS_T).values([dict(r) | {"parcel_uid": target} for r in rows])
                     .on_conflict_do_nothing())


def _publish(conn: Connection, bbox: tuple[float, ...]) -> None:
    refresh_overview(conn.connection.driver_connection, PARCELS, tuple(bbox))
    publish_layer_change(conn.connection.driver_connection, PARCELS.id, None, tuple(bbox))


def split_parcel(conn: Connection, uid: str, req: SplitRequest) -> list[str]:
    """Replace a parcel by the request's parts; returns the children's parcel ids."""
    parent = _lock(conn, [uid])[0]
    parent_geom = shapely.from_wkb(parent["wkb"])
    check_split_cover(parent_geom, [p.geometry for p in req.parts])
    numbers = _next_numbers(conn, parent, [p.parcel_no for p in req.parts])
    parent_area = metric(parent_geom).area
    uses = conn.execute(select(USES_T.c.land_use, USES_T.c.area)
                        .where(USES_T.c.parcel_uid == uid)).all()
    children = []
    for part, number in zip(req.parts, numbers):
        area = round(metric(part.geometry).area, 1)
        values = {n: parent[n] for n in STORED} | {n: None for n in CLEARED}
        values |= {"parcel_no": number, "legal_area": area}
        child = _create(conn, values, shapely.to_wkb(part.geometry), "split", {"split_from": uid})
        _copy_rights(conn, [uid], child)
        for land_use, use_area in uses:
            share = None if use_area is None else round(use_area * area / parent_area, 1)
            conn.execute(USES_T.insert().values(parcel_uid=child, land_use=land_use, area=share))
        children.append(child)
    _close(conn, parent, {"split_into": children}, "split")
    conn.execute(RIGHTS_T.delete().where(RIGHTS_T.c.parcel_uid == uid))
    conn.execute(USES_T.delete().where(USES_T.c.parcel_uid == uid))
    _publish(conn, parent_geom.bounds)
    return children


def merge_parcels(conn: Connection, req: MergeRequest) -> str:
    """Replace adjacent parcels of one sheet by their union; returns the new parcel id."""
    parents = _lock(conn, list(req.parcels))
    sheets = {tuple(p[k] for k in SHEET) for p in parents}
    if len(sheets) > 1:
        raise BadRequest("only parcels of one ward, former ward and map sheet can be merged; "
                         f"these span {len(sheets)} sheets")
    geoms = [shapely.from_wkb(p["wkb"]) for p in parents]
    check_adjacent(geoms)
    number = _next_numbers(conn, parents[0], [req.parcel_no])[0]
    first = parents[0]
    legal = [p["legal_area"] for p in parents]
    union = shapely.union_all(geoms)
    values = {n: first[n] for n in STORED} | {n: None for n in CLEARED} | {"parcel_no": number}
    values["legal_area"] = (round(sum(legal), 1) if all(a is not None for a in legal)
                            else round(metric(union).area, 1))
    created = _create(conn, values, shapely.to_wkb(union), "merge",
                      {"merged_from": list(req.parcels)})
    for p in parents:
        _close(conn, p, {"merged_into": created}, "merge")
    _copy_rights(conn, list(req.parcels), created)
    sums = conn.execute(select(USES_T.c.land_use, func.sum(USES_T.c.area))
                        .where(USES_T.c.parcel_uid.in_(req.parcels))
                        .group_by(USES_T.c.land_use)).all()
    for land_use, area in sums:
        conn.execute(USES_T.insert().values(parcel_uid=created, land_use=land_use, area=area))
    conn.execute(RIGHTS_T.delete().where(RIGHTS_T.c.parcel_uid.in_(req.parcels)))
    conn.execute(USES_T.delete().where(USES_T.c.parcel_uid.in_(req.parcels)))
    _publish(conn, union.bounds)
    return created
