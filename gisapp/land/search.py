"""Free-text parcel search (address, street, ward name, parcel number) and owner search.

Text is folded by the database function gisapp_fold (NFC, unaccent, lower case), so "Hai
Chau" finds "Hải Châu", "Hoa" finds both "Hòa" and "Hoà", and đ folds to d. Address and
street are ranked by trigram word similarity over the same expression the GIN index covers.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (Connection, Float, String, case, cast, func, literal, or_, select,
                        union_all)

from sqlalchemy.dialects.postgresql import distinct_on

from gisapp.errors import BadRequest
from layers.land import PARCELS, PARTIES, RIGHTS
from store.tables import LAYER_TABLES, PLAIN_TABLES, search_document

P = LAYER_TABLES[PARCELS.id]
WARDS = LAYER_TABLES["wards"]
RIGHTS_T, PARTIES_T = PLAIN_TABLES[RIGHTS.id], PLAIN_TABLES[PARTIES.id]
MAX_QUERY = 200
MAX_LIMIT = 100
NUMBER = re.compile(r"^\s*(?:(\d{1,6})\s*[/-]\s*)?(\d{1,7})\s*$")  # "125" or "14/125"
WARD_SCORE = 0.5  # a ward-name-only match ranks below any address match


def normalise_query(q: str | None) -> str:
    """NFC, trimmed, length-checked search text."""
    text = unicodedata.normalize("NFC", (q or "")).strip()
    if not text:
        raise BadRequest("q must not be empty: give an address, street, ward or parcel number")
    if len(text) > MAX_QUERY:
        raise BadRequest(f"q is {len(text)} characters; at most {MAX_QUERY} are allowed")
    return text


def _summary_cols(score):
    return (P.c.parcel_uid, P.c.ward_code, P.c.former_ward_code, P.c.sheet_no, P.c.parcel_no,
            P.c.land_use, P.c.address, P.c.street, cast(score, Float).label("score"))


def search_text(conn: Connection, q: str, limit: int = 20) -> list[dict]:
    """Parcels matching the text, best first (score 0-1; parcel-number matches score 1)."""
    text = normalise_query(q)
    folded = func.gisapp_fold(literal(text, String))
    doc = search_document(P, PARCELS.search)
    branches = [
        select(*_summary_cols(func.word_similarity(folded, doc)))
        .where(folded.op("<%")(doc)),
        select(*_summary_cols(func.word_similarity(folded, func.gisapp_fold(WARDS.c.name))
                              * WARD_SCORE))
        .join(WARDS, WARDS.c.code == P.c.ward_code)
        .where(or_(folded.op("<%")(func.gisapp_fold(WARDS.c.name)),
                   folded.op("<%")(func.gisapp_fold(WARDS.c.full_name)))),
    ]
    number = NUMBER.match(text)
    if number:
        sheet, parcel = number.groups()
        cond = P.c.parcel_no == int(parcel)
        if sheet:
            cond = cond & (P.c.sheet_no == int(sheet))
        branches.append(select(*_summary_cols(literal(1.0))).where(cond))
    hits = union_all(*branches).subquery("hits")
    best = (select(hits).ext(distinct_on(hits.c.parcel_uid))
            .order_by(hits.c.parcel_uid, hits.c.score.desc()).subquery("best"))
    rows = conn.execute(select(best).order_by(best.c.score.desc(), best.c.parcel_uid)
                        .limit(limit)).mappings()
    return [dict(r) | {"score": round(r["score"], 3)} for r in rows]


def search_owner(conn: Connection, owner: str, limit: int = 20) -> list[dict]:
    """Parcels whose rights holders match a name (folded, similar) or an exact ID number.

    Returns personal data: only for callers holding the PERSONAL level, and audited by them.
    """
    text = normalise_query(owner)
    folded = func.gisapp_fold(literal(text, String))
    name_score = func.word_similarity(folded, func.gisapp_fold(PARTIES_T.c.name))
    id_score = case((PARTIES_T.c.id_number == text, 1.0), else_=0.0)
    score = func.greatest(name_score, id_score)
    rows = conn.execute(
        select(P.c.parcel_uid, P.c.ward_code, P.c.former_ward_code, P.c.sheet_no, P.c.parcel_no,
               P.c.land_use, P.c.address, RIGHTS_T.c.right_type, PARTIES_T.c.party_id,
               PARTIES_T.c.name, PARTIES_T.c.id_number, cast(score, Float).label("score"))
        .select_from(PARTIES_T.join(RIGHTS_T, RIGHTS_T.c.party_id == PARTIES_T.c.party_id)
                     .join(P, P.c.parcel_uid == RIGHTS_T.c.parcel_uid))
        .where(or_(PARTIES_T.c.id_number == text,
                   folded.op("<%")(func.gisapp_fold(PARTIES_T.c.name))))
        .order_by(score.desc(), P.c.parcel_uid).limit(limit)).mappings()
    return [dict(r) | {"score": round(r["score"], 3)} for r in rows]
