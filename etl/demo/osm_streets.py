"""The real ground of central Hải Châu from OpenStreetMap: streets, lakes, river bank (EPSG:5899).

The data ships in `data/osm/` (© OpenStreetMap contributors, ODbL; see its README). The
demo loads the extract itself through the OSM import path; the generator reads the same
features here, selected by the same registry mappings, to lay parcels, pipes and lamps
along them.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from etl.demo.streets import Road
from etl.demo.terrain import DATA_DIR, to_metric
from etl.readers.osm import parse_other_tags
from layers import LAYERS

OSM_DIR = DATA_DIR / "osm" / "core"  # beside osm/<layer>.osm, the per-layer subsets
EXTRACT = OSM_DIR / "hai_chau_core.osm"
MAJOR_ROADS = OSM_DIR / "danang_central_major_roads.gpkg"
WEST_BANK = OSM_DIR / "han_river_west_bank.geojson"
BOUNDS = (108.20465, 16.04687, 108.22443, 16.06516)  # the extract's <bounds>, lon/lat
RIVER_WIDTH_M = 250.0  # east of the real west bank; the east bank stays generated
# Road reserve (lộ giới) by OSM highway value, metres; lanes * LANE_M + 2 when wider.
RESERVE_M = {"primary": 30.0, "secondary": 21.0, "tertiary": 15.0, "residential": 10.0,
             "unclassified": 9.0, "living_street": 7.0, "service": 6.0}
LANE_M = 3.5
ALLEY_M = 5.0  # "Kiệt …", "Hẻm …": the narrow lanes of Da Nang


def block_area() -> BaseGeometry:
    """The extract's bounds, where the demo city is OpenStreetMap's (EPSG:5899)."""
    return to_metric(shapely.box(*BOUNDS))


def _reserve(highway: str, tags: dict[str, str], name: str | None) -> float:
    base = RESERVE_M.get(highway.removesuffix("_link"), RESERVE_M["residential"])
    lanes = tags.get("lanes")
    if tags.get("oneway") == "yes" and base > 12.0:  # one carriageway of a dual road
        base = base * 0.6
    if name and name.split(" ")[0] in ("Kiệt", "Hẻm"):
        base = ALLEY_M
    try:
        base = max(base, float(lanes) * LANE_M + 2.0) if lanes else base
    except ValueError:
        pass
    return base


@lru_cache(maxsize=1)
def core_roads() -> tuple[Road, ...]:
    """The extract's roads, as the roads layer's OSM mapping selects and names them."""
    mapping = LAYERS["roads"].osm
    wanted = set(dict(mapping.select)["highway"])
    classes = dict(dict(mapping.values)["road_class"])
    frame = pyogrio.read_dataframe(EXTRACT, layer="lines",
                                   columns=["osm_id", "name", "highway", "other_tags"])
    frame = frame[frame["highway"].isin(wanted)]
    geoms = to_metric(frame.geometry.to_numpy())
    roads = []
    for osm_id, name, highway, other, geom in zip(frame["osm_id"], frame["name"],
                                                  frame["highway"], frame["other_tags"], geoms):
        name = unicodedata.normalize("NFC", name) if isinstance(name, str) else None
        other = other if isinstance(other, str) else None
        roads.append(Road(f"way/{osm_id}", name, classes[highway],
                               _reserve(highway, parse_other_tags(other), name), geom))
    return tuple(roads)


def major_roads(away_from: BaseGeometry) -> list[Road]:
    """The wider centre's primary, secondary and tertiary roads, except those in `away_from`.

    Both directions of a dual carriageway are one segment each; a segment travelled both
    ways appears once.
    """
    frame = pyogrio.read_dataframe(MAJOR_ROADS, layer="major_roads",
                                   columns=["name", "highway"])
    geoms = to_metric(frame.geometry.to_numpy())
    seen, roads = set(), []
    for k, (name, highway, geom) in enumerate(zip(frame["name"], frame["highway"], geoms)):
        line = shapely.line_merge(geom)
        key = shapely.normalize(line).wkb
        if key in seen or line.intersects(away_from):
            continue
        seen.add(key)
        road_class = highway.removesuffix("_link")
        roads.append(Road(f"DL-{k + 1:04d}", unicodedata.normalize("NFC", name)
                              if isinstance(name, str) else None, road_class, RESERVE_M[road_class], line))
    return roads


def reserves(roads) -> BaseGeometry:
    """The union of the roads' reserves (half the reserve width each side)."""
    return shapely.union_all(shapely.buffer(np.array([r.geometry for r in roads], dtype=object),
                                            np.array([r.row_width / 2 for r in roads]),
                                            quad_segs=4))


def west_bank() -> BaseGeometry:
    """The Hàn river's west bank (OSM way 303047261), south to north."""
    collection = shapely.from_geojson(WEST_BANK.read_text(encoding="utf-8"))
    return to_metric(shapely.line_merge(shapely.get_parts(collection)[0]))


def river_on_bank(generated: BaseGeometry) -> BaseGeometry:
    """The generated river moved to the real west bank: its water east of the bank line."""
    bank = west_bank()
    east = bank.buffer(-RIVER_WIDTH_M, single_sided=True)
    west = bank.buffer(400.0, single_sided=True)
    return shapely.make_valid(generated.union(east).difference(west))


@lru_cache(maxsize=1)
def lakes() -> tuple[tuple[str, BaseGeometry], ...]:
    """The extract's lakes and ponds (water layer mapping): (key, polygon) in EPSG:5899."""
    from etl.readers.osm import read_osm

    source = read_osm(EXTRACT, LAYERS["water"])
    geoms = to_metric(np.asarray(source.geoms, dtype=object))
    return tuple((key, shapely.make_valid(g)) for key, g in zip(source.frame["water_id"], geoms))


# OSM tag values -> the land use of the lots they stand on (institutions) or front (shops)
AREA_USES = {("amenity", "school"): "DGD", ("amenity", "university"): "DGD",
             ("amenity", "college"): "DGD", ("amenity", "kindergarten"): "DGD",
             ("amenity", "hospital"): "DYT", ("amenity", "clinic"): "DYT",
             ("amenity", "marketplace"): "DCH", ("amenity", "place_of_worship"): "TON",
             ("amenity", "townhall"): "TSC", ("amenity", "police"): "TSC",
             ("amenity", "community_centre"): "DVH", ("leisure", "park"): "DKV"}
POINT_USES = {**AREA_USES, ("amenity", "doctors"): "DYT", ("amenity", "cafe"): "TMD",
              ("amenity", "restaurant"): "TMD", ("amenity", "bank"): "TMD",
              ("amenity", "fast_food"): "TMD", ("amenity", "pub"): "TMD",
              ("amenity", "bar"): "TMD"}


@lru_cache(maxsize=1)
def known_uses() -> tuple[tuple[str, bool, BaseGeometry], ...]:
    """(land use, is an area, geometry) of the extract's schools, hospitals, markets, places
    of worship, parks (areas and points) and shops, cafés, banks (points), EPSG:5899."""
    out = []
    for element, table in (("multipolygons", AREA_USES), ("points", POINT_USES)):
        frame = pyogrio.read_dataframe(EXTRACT, layer=element)
        geoms = to_metric(frame.geometry.to_numpy())
        for k, other in enumerate(frame["other_tags"]):
            tags = parse_other_tags(other if isinstance(other, str) else None)
            for key in ("amenity", "leisure"):
                if key in frame.columns and isinstance(frame[key].iloc[k], str):
                    tags[key] = frame[key].iloc[k]
            use = next((u for (key, value), u in table.items() if tags.get(key) == value), None)
            if use:
                out.append((use, element == "multipolygons", geoms[k]))
    return tuple(out)


@lru_cache(maxsize=1)
def buildings() -> BaseGeometry:
    """The extract's building footprints (buildings layer mapping), one union, EPSG:5899."""
    from etl.readers.osm import read_osm

    source = read_osm(EXTRACT, LAYERS["buildings"])
    return shapely.union_all(to_metric(np.asarray(source.geoms, dtype=object)))


@dataclass
class RealGround:
    """Everything the generator takes from OpenStreetMap (EPSG:5899)."""

    area: BaseGeometry  # the extract's bounds
    roads: tuple[Road, ...]  # the extract's roads, whole ways (some reach past the bounds)
    reserve: BaseGeometry  # their reserves, one union
    lakes: tuple[tuple[str, BaseGeometry], ...]
    river: BaseGeometry  # the generated river, its west bank the real one
    buildings: BaseGeometry

    @classmethod
    def load(cls) -> "RealGround":
        from etl.demo.terrain import river_polygon

        roads = core_roads()
        return cls(block_area(), roads, reserves(roads), lakes(),
                   river_on_bank(river_polygon()), buildings())

    @property
    def water(self) -> BaseGeometry:
        return shapely.union_all([self.river, *(g for _, g in self.lakes)])

    def street_names(self) -> frozenset[str]:
        """The real streets' names as addresses write them (no "Đường "), major roads too."""
        roads = [*self.roads, *major_roads(shapely.Polygon())]
        return frozenset(r.name.removeprefix("Đường ").strip() for r in roads if r.name)

    def cutters(self) -> list[Road]:
        """Every real road that generated parcels must keep clear of."""
        return [*self.roads, *major_roads(self.area)]

    def major_near(self, lands: list[BaseGeometry]) -> list[Road]:
        """The wider centre's major roads through the generated land, away from the block."""
        land = shapely.union_all([g for g in lands if not g.is_empty]).buffer(20.0)
        away = self.area.buffer(40.0)
        return [r for r in major_roads(away) if r.geometry.intersects(land)]
