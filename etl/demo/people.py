"""Land records around the parcels: certificates, invented holders, rights and land-use purposes."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

from etl.demo import places

CERT_SERIES = ("BK", "BP", "BT", "BX", "CD", "CH", "CS", "CT", "DA", "DB", "DC")
ORIGINS = ("Nhà nước giao đất có thu tiền sử dụng đất",
           "Công nhận quyền sử dụng đất như giao đất có thu tiền sử dụng đất",
           "Nhận chuyển nhượng quyền sử dụng đất", "Nhận thừa kế quyền sử dụng đất")
LEASE_ORIGIN = "Nhà nước cho thuê đất trả tiền thuê đất hằng năm"
MERGER_DATE = dt.date(2025, 7, 1)
TWO_PURPOSE_SHARE = 0.04
CO_HOLDER_SHARE = 0.25


def describe_parcels(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Legal area, address, term, origin, certificate serial and register number."""
    n = len(frame)
    area = shapely.area(frame["geometry"].to_numpy())
    frame["area"] = area
    frame["legal_area"] = np.round(area * (1 + rng.normal(0, 0.008, n)), 1)
    frame["address"] = [f"{h} {s}, phường {w}" for h, s, w in
                        zip(frame["house_no"], frame["street"], frame["ward_name"])]
    leased = frame["land_use"].isin(["TMD", "SKC"]).to_numpy() & (rng.random(n) < 0.5)
    frame["leased"] = leased
    years = rng.integers(2040, 2075, n)
    frame["use_term"] = np.where(leased, [f"Đến ngày 31/12/{y}" for y in years], "Lâu dài")
    frame["use_origin"] = np.where(leased, LEASE_ORIGIN, rng.choice(ORIGINS, n))
    serial = rng.choice(CERT_SERIES, n)
    digits = rng.integers(0, 1_000_000, n)
    frame["certificate_no"] = [f"{s} {d:06d}" for s, d in zip(serial, digits)]
    frame["register_no"] = [f"CS{d:05d}" for d in rng.integers(1, 100_000, n)]
    days = rng.integers(0, (dt.date(2025, 10, 31) - dt.date(1995, 1, 1)).days, n)
    frame["issued_on"] = [dt.date(1995, 1, 1) + dt.timedelta(days=int(d)) for d in days]
    return frame


class _People:
    """Invented people, drawn in bulk: (name, 12-digit CCCD number, birth year)."""

    def __init__(self, rng: np.random.Generator, n: int):
        self.female = rng.random(n) < 0.5
        weights = np.array(places.FAMILY_WEIGHTS) / sum(places.FAMILY_WEIGHTS)
        self.family = rng.choice(len(places.FAMILY_NAMES), n, p=weights)
        self.middle = rng.integers(0, len(places.MIDDLE_MALE), n)
        self.given = rng.integers(0, len(places.GIVEN_MALE), n)
        self.year = rng.integers(1945, 2001, n)
        self.serial = rng.integers(0, 1_000_000, n)
        self.next = 0

    def draw(self) -> tuple[str, str, int]:
        k = self.next
        self.next += 1
        female, year = bool(self.female[k]), int(self.year[k])
        middle = (places.MIDDLE_FEMALE if female else places.MIDDLE_MALE)[self.middle[k]]
        given = (places.GIVEN_FEMALE if female else places.GIVEN_MALE)[self.given[k]]
        # CCCD: province 048 (Da Nang), sex/century digit, two-digit year, six random digits.
        century = (0 if year < 2000 else 2) + (1 if female else 0)
        id_number = f"048{century}{year % 100:02d}{int(self.serial[k]):06d}"
        return f"{places.FAMILY_NAMES[self.family[k]]} {middle} {given}", id_number, year


def holders(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parties (people, and organisations for large lots) and their rights on parcels."""
    parties, rights = [], []
    orgs: dict[str, str] = {}
    people = _People(rng, 2 * len(frame))
    co_holders = rng.random(len(frame)) < CO_HOLDER_SHARE
    for row, two in zip(frame.itertuples(index=False), co_holders):
        issued_by = (places.ISSUERS_NEW if row.issued_on >= MERGER_DATE
                     else places.ISSUER_OLD.format(district=places.OLD_DISTRICTS[row.ward]))
        right = {"parcel_uid": row.uid, "right_type": "lease" if row.leased else "use",
                 "certificate_no": row.certificate_no, "issued_on": row.issued_on.isoformat(),
                 "issued_by": issued_by}
        if row.large:
            name = places.INSTITUTIONS[row.land_use][0].format(
                street=row.street, ward=row.ward_name) if row.land_use in places.INSTITUTIONS \
                else f"Ban Quản lý di tích {row.street}"
            if name not in orgs:
                orgs[name] = f"T{len(orgs) + 1:05d}"
                parties.append({"MaChu": orgs[name], "kind": "organisation", "HoTen": name,
                                "CCCD": None, "birth_year": None, "address": row.address})
            rights.append({**right, "party_id": orgs[name], "share": 1.0})
            continue
        holders_here = 2 if two else 1
        for _ in range(holders_here):
            name, id_number, year = people.draw()
            party_id = f"P{len(parties) - len(orgs) + 1:06d}"
            parties.append({"MaChu": party_id, "kind": "person", "HoTen": name,
                            "CCCD": id_number, "birth_year": year, "address": row.address})
            rights.append({**right, "party_id": party_id, "share": 1.0 / holders_here})
    party_frame = pd.DataFrame(parties).astype({"birth_year": "Int64"})
    columns = ["parcel_uid", "party_id", "right_type", "share", "certificate_no", "issued_on",
               "issued_by"]
    return party_frame, pd.DataFrame(rights)[columns]


def land_uses(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per-purpose areas: one row per parcel, two (ODT + CLN) for a few residential lots."""
    two = (frame["land_use"] == "ODT").to_numpy() & (frame["legal_area"] > 100).to_numpy() \
        & (rng.random(len(frame)) < TWO_PURPOSE_SHARE)
    residential = np.round(np.minimum(frame["legal_area"] * 0.6, 200.0), 1)
    rows = []
    for uid, use, area, split, odt in zip(frame["uid"], frame["land_use"], frame["legal_area"],
                                          two, residential):
        if split:
            rows.append((uid, "ODT", float(odt)))
            rows.append((uid, "CLN", round(float(area) - float(odt), 1)))
        else:
            rows.append((uid, use, float(area)))
    return pd.DataFrame(rows, columns=["parcel_uid", "land_use", "area"])
