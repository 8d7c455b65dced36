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
    g = "ST_Transform(ST_GeomFromText(%s, 5899), 4326)"
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
