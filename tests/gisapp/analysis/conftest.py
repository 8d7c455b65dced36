"""A small hand-made drainage network in EPSG:5899 (local metres from E 550 800, N 1 776 400).

    Z(missing) -P7-> A -P1-> B -P2-> C -P3-> O(outfall)        every pipe is 100 m long
                     |       ^       | ^
                    P8      P4     P5 P6   (C -> G -> C: a cycle; P5 flows uphill)
                     v       |       v |
                     E       D(inlet) G
    A (0,0)  B (100,0)  C (200,0)  O (300,0)  D (100,100)  G (200,100)  E (0,-100)
Parcels (20 × 20 m): Q1 x 140..160, y 10..30 (10 m from P2); Q2 x 140..160, y 50..70
(40 m from P2, P4 and P6); Q3 x 250..270, y -55..-35 (35 m from P3).
"""
from __future__ import annotations

import psycopg
import pytest

from gisapp.db.engine import make_engine
from tests.world import FROM_METRIC

E0, N0 = 550_800.0, 1_776_400.0
NODES = {"A": ("manhole", 0, 0), "B": ("manhole", 100, 0), "C": ("manhole", 200, 0),
         "O": ("outfall", 300, 0), "D": ("inlet", 100, 100), "G": ("manhole", 200, 100),
         "E": ("manhole", 0, -100)}
PIPES = {"P1": ("A", "B", 5.0, 4.8), "P2": ("B", "C", 4.8, 4.6), "P3": ("C", "O", 4.6, 4.4),
         "P4": ("D", "B", 5.2, 4.8), "P5": ("C", "G", 4.6, 4.7), "P6": ("G", "C", 4.7, 4.6),
         "P7": ("Z", "A", 5.2, 5.0), "P8": ("A", "E", 5.0, 4.9)}
WHERE = {**{k: (x, y) for k, (_, x, y) in NODES.items()}, "Z": (-100, 0)}
PARCELS = {1: (140, 10), 2: (140, 50), 3: (250, -55)}


def _pt(x: float, y: float) -> str:
    return f"{E0 + x} {N0 + y}"


@pytest.fixture()
def network_url(scratch_url: str) -> str:
    g = FROM_METRIC
    with psycopg.connect(scratch_url) as c:
        for nid, (kind, x, y) in NODES.items():
            c.execute("INSERT INTO drainage_nodes (node_id, kind, geom) VALUES (%s, %s, " + g + ")",
                      (nid, kind, f"POINT({_pt(x, y)})"))
        for pid, (a, b, up, down) in PIPES.items():
            c.execute("INSERT INTO drainage_pipes (pipe_id, from_node, to_node, invert_up, "
                      "invert_down, diameter_mm, geom) VALUES (%s, %s, %s, %s, %s, 600, " + g + ")",
                      (pid, a, b, up, down, f"LINESTRING({_pt(*WHERE[a])},{_pt(*WHERE[b])})"))
        for no, (x, y) in PARCELS.items():
            ring = [(x, y), (x + 20, y), (x + 20, y + 20), (x, y + 20), (x, y)]
            c.execute("INSERT INTO parcels (ward_code, former_ward_code, sheet_no, parcel_no, "
                      "land_use, geom) VALUES ('20242', '20245', 1, %s, 'ODT', ST_Multi(" + g + "))",
                      (no, "POLYGON((" + ",".join(_pt(*p) for p in ring) + "))"))
    return scratch_url


@pytest.fixture()
def network_engine(network_url: str):
    engine = make_engine(network_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _rect(x0, y0, x1, y1) -> str:
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return "POLYGON((" + ",".join(_pt(*p) for p in ring) + "))"


@pytest.fixture()
def ward_url(scratch_url: str) -> str:
    """Ward 99999: x 0..200, y 0..100 (20 000 m²), one street, lights, cabinets, Wi-Fi, parcels.

    - street S1 along y = 50 from x -50 to 250 (200 m inside the ward);
    - light L1 working 100 W at (50, 55), cabinet K1; L2 out of service 150 W at (150, 50), K1;
      cabinets K1 (1 kW) at (0, 0) and K2 (2 kW, feeds nothing) at (200, 100);
    - Wi-Fi: A1 online 30 m at (100, 50) (a whole disc, 2 827.43 m²); A2 online 20 m at the
      corner (200, 0) (a quarter disc, 314.16 m²); A3 offline 100 m at (10, 10);
    - parcels (20 × 20 m): sheet 9 no 1 ODT x 90..110, y 40..60 (inside A1's disc);
      no 2 DGD (school) x 10..30, y 70..90; no 3 DKV (park) x 150..170, y 10..30.
    """
    g = FROM_METRIC
    with psycopg.connect(scratch_url) as c:
        c.execute("INSERT INTO wards (code, name, geom) VALUES ('99999', 'Phường Thử', "
                  "ST_Multi(" + g + "))", (_rect(0, 0, 200, 100),))
        c.execute("INSERT INTO roads (road_id, name, geom) VALUES ('S1', 'Lê Lợi', ST_Multi("
                  + g + "))", (f"LINESTRING({_pt(-50, 50)},{_pt(250, 50)})",))
        for lid, status, watts, x, y in (("L1", "working", 100, 50, 55),
                                         ("L2", "out_of_service", 150, 150, 50)):
            c.execute("INSERT INTO street_lights (light_id, cabinet_id, status, wattage, geom) "
                      "VALUES (%s, 'K1', %s, %s, " + g + ")", (lid, status, watts,
                                                             f"POINT({_pt(x, y)})"))
        for cid, kw, x, y in (("K1", 1.0, 0, 0), ("K2", 2.0, 200, 100)):
            c.execute("INSERT INTO lighting_cabinets (cabinet_id, capacity_kw, geom) VALUES "
                      "(%s, %s, " + g + ")", (cid, kw, f"POINT({_pt(x, y)})"))
        for ap, status, rng, x, y in (("A1", "online", 30, 100, 50), ("A2", "online", 20, 200, 0),
                                      ("A3", "offline", 100, 10, 10)):
            c.execute("INSERT INTO wifi_aps (ap_id, status, range_m, geom) VALUES (%s, %s, %s, "
                      + g + ")", (ap, status, rng, f"POINT({_pt(x, y)})"))
        for no, use, x, y in ((1, "ODT", 90, 40), (2, "DGD", 10, 70), (3, "DKV", 150, 10)):
            c.execute("INSERT INTO parcels (ward_code, former_ward_code, sheet_no, parcel_no, "
                      "land_use, geom) VALUES ('99999', '99999', 9, %s, %s, ST_Multi(" + g + "))",
                      (no, use, _rect(x, y, x + 20, y + 20)))
    return scratch_url


@pytest.fixture()
def ward_engine(ward_url: str):
    engine = make_engine(ward_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()
