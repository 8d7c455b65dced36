"""A small land-records world for parcel tests, written into a scratch database with SQL.

Two wards; on sheet 14 of Hải Châu (20242, former 20245) three side-by-side 10 m × 20 m
parcels 124, 125, 126; parcel 125 of sheet 14 also in former ward 20246 (ambiguous key);
one parcel in Hoà Cường. Parcel 125 has an older version (CLN until 2024-06-01), rights
and parties. Versions follow the pipeline's contract: every version is a row, the current
one with valid_to NULL.
"""
from __future__ import annotations

import psycopg
from psycopg import sql
from pyproj import Transformer

from etl.overviews import refresh_overview
from layers import get_layer
from layers.city import CITY

E0, N0 = 550_400.0, 1_777_020.0  # EPSG:5899, near Da Nang Cathedral
UID = "20242-20245-14-125"
LEFT, RIGHT = "20242-20245-14-124", "20242-20245-14-126"
OTHER_FORMER = "20242-20246-14-125"
HOA_CUONG = "20257-20258-3-7"
TO_WGS84 = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True)

WARDS = [("20242", "Hải Châu", "Phường Hải Châu", 549_900, 1_776_800, 551_000, 1_777_600),
         ("20257", "Hoà Cường", "Phường Hoà Cường", 551_000, 1_776_800, 552_000, 1_777_600)]
# (ward, former, sheet, parcel, land use, legal area, address, street, certificate, x offset)
PARCELS = [
    ("20242", "20245", 14, 124, "ODT", 200.0, "10 Trần Phú", "Trần Phú", "CS 00124", 0),
    ("20242", "20245", 14, 125, "ODT", 199.5, "12 Trần Phú", "Trần Phú", "CS 00125", 10),
    ("20242", "20245", 14, 126, "TMD", 200.0, "14 Trần Phú", "Trần Phú", "CS 00126", 20),
    ("20242", "20246", 14, 125, "CLN", 200.0, "5 Lê Lợi", "Lê Lợi", "CS 09125", 300),
    ("20257", "20258", 3, 7, "DGD", 200.0, "2 Đường Hòa Bình", "Hòa Bình", None, 800),
]
PARTIES = [("P1", "person", "Nguyễn Văn An", "048090001234", 1980, "12 Trần Phú, Đà Nẵng"),
           ("P2", "person", "Trần Thị Bình", "048190004321", 1985, "14 Trần Phú, Đà Nẵng")]
RIGHTS = [(UID, "P1", "use", 1.0, "CS 00125"), (RIGHT, "P2", "use", 1.0, "CS 00126")]
POINT_IN_125 = (E0 + 15, N0 + 10)  # metric centre of parcel 125


def lonlat(e: float, n: float) -> tuple[float, float]:
    """EPSG:5899 easting/northing → WGS 84 lon/lat."""
    return TO_WGS84.transform(e, n)


BOX = sql.SQL("ST_Multi(ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, {}), 4326))").format(
    CITY.metric_srid).as_string()


def load_land_world(url: str) -> None:
    """Insert the world (into an emptied scratch database)."""
    with psycopg.connect(url) as conn:
        for code, name, full, x1, y1, x2, y2 in WARDS:
            conn.execute("INSERT INTO wards (code, name, full_name, geom) VALUES (%s, %s, %s, "
                         + BOX + ")", (code, name, full, x1, y1, x2, y2))
        for ward, former, sheet, no, use, area, addr, street, cert, dx in PARCELS:
            x = E0 + dx
            conn.execute(
                "INSERT INTO parcels (ward_code, former_ward_code, sheet_no, parcel_no, land_use,"
                " legal_area, address, street, certificate_no, register_no, use_term, geom)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'lâu dài', " + BOX + ")",
                (ward, former, sheet, no, use, area, addr, street, cert, f"VS-{no}",
                 x, N0, x + 10, N0 + 20))
        conn.execute(
            "INSERT INTO parcel_versions (feature_id, ward_code, former_ward_code, sheet_no,"
            " parcel_no, parcel_uid, land_use, legal_area, address, street, use_term,"
            " use_origin, certificate_no, register_no, geom, valid_from, valid_to, change)"
            " SELECT id, ward_code, former_ward_code, sheet_no, parcel_no, parcel_uid, land_use,"
            " legal_area, address, street, use_term, use_origin, certificate_no, register_no,"
            " geom, CASE WHEN parcel_uid = %s THEN timestamptz '2024-06-01 00:00+07'"
            " ELSE timestamptz '2023-01-01 00:00+07' END, NULL,"
            " CASE WHEN parcel_uid = %s THEN 'update' ELSE 'insert' END FROM parcels",
            (UID, UID))
        conn.execute(
            "INSERT INTO parcel_versions (feature_id, ward_code, former_ward_code, sheet_no,"
            " parcel_no, parcel_uid, land_use, legal_area, address, street, geom, valid_from,"
            " valid_to, change) SELECT id, ward_code, former_ward_code, sheet_no, parcel_no,"
            " parcel_uid, 'CLN', 210.0, '12 Tran Phu cu', street, geom,"
            " timestamptz '2023-01-01 00:00+07', timestamptz '2024-06-01 00:00+07', 'insert'"
            " FROM parcels WHERE parcel_uid = %s", (UID,))
        for row in PARTIES:
            conn.execute("INSERT INTO parties (party_id, kind, name, id_number, birth_year,"
                         " address) VALUES (%s, %s, %s, %s, %s, %s)", row)
        for row in RIGHTS:
            conn.execute("INSERT INTO rights (parcel_uid, party_id, right_type, share,"
                         " certificate_no, issued_on, issued_by) VALUES (%s, %s, %s, %s, %s,"
                         " '2015-03-02', 'Sở TN&MT Đà Nẵng')", row)
        conn.execute("INSERT INTO parcel_land_uses (parcel_uid, land_use, area) VALUES"
                     " (%s, 'ODT', 120.0), (%s, 'CLN', 79.5)", (UID, UID))
        refresh_overview(conn, get_layer("parcels"))  # as the import that loaded them would
