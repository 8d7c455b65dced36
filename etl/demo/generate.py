"""Generate the demo city into a directory: source files plus manifest.json."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from etl.demo import GENERATOR_VERSION, blocks, drainage, lighting, osm_streets, parcels, people
from etl.demo import places, planning, rasters, streets, terrain
from etl.demo.osm_streets import RealGround
from etl.demo.files import (check_columns, write_csv, write_feature_collection, write_geojson,
                            write_geopackage, write_shapefile_zip)
from layers.registry import LAYERS, TABLES

DEFAULT_SEED = 2025
DEFAULT_PARCELS = 20_000
MANIFEST = "manifest.json"
CRS = terrain.METRIC_CRS
OSM_LAYERS = ("roads", "water", "buildings", "wifi_aps")  # loaded from the extract too
BLOCK_CODE = "HC"  # the real block's pipes, lamps and cabinets: HG-HC-00001, DCS-HC-00001
KEEP_OUT_M = 40.0  # generated streets stay this far from the real block
KEEP_OFF_GRID_M = 16.0  # and this far from another ward's grid (half the widest reserve)


def _rng(seed: int, stage: int) -> np.random.Generator:
    """One generator per stage, so a change in one stage leaves the others' draws alone."""
    return np.random.default_rng([seed, stage])


def build_parcels(wards, ground: RealGround, water, heritage, seed: int, parcel_count: int):
    """Real-block and street-grid parcels of all wards with numbering and certificate
    attributes (EPSG:5899); also the grids and the real blocks used.

    A ward fills the real blocks inside it first (nearest its anchor first), then a
    generated street grid outside them. A ward too small for its share passes the
    shortfall on to the next wards, so large `parcel_count`s (benchmarks) still get about
    that many parcels.
    """
    frames, grids, used_blocks, carry = [], [], {}, 0
    zones = [(h["site"], h["geometry"]) for h in heritage if h["protection_zone"] == "I"]
    street_rng, parcel_rng, block_rng = _rng(seed, 2), _rng(seed, 3), _rng(seed, 12)
    names = streets.street_names(street_rng, ground.street_names())
    keep_out = shapely.union_all([water, ground.area.buffer(KEEP_OUT_M)])
    cutters = ground.cutters()
    for ward in wards:
        target = round(parcel_count * places.WARDS[ward.code][0]) + carry
        real, shapes = block_parcels(ward, ground, target, zones, block_rng)
        used_blocks.update(shapes)
        grid = streets.build_grid(ward, keep_out, target - len(real), street_rng, names)
        frame = parcels.cut_parcels(grid, zones, parcel_rng)
        frame = parcels.clear_of(frame, cutters)
        # the next wards' streets keep off this grid, their parcels off its streets' reserves
        land = grid.to_world(grid.land)
        if not land.is_empty:
            keep_out = shapely.union_all([keep_out, land.buffer(KEEP_OFF_GRID_M)])
            cutters = [*cutters, *streets.grid_roads(grid)]
        if len(real):
            local = shapely.get_coordinates(grid.to_local(
                shapely.point_on_surface(real["geometry"].to_numpy())))
            real["u"], real["v"] = local[:, 0], local[:, 1]
        frame = pd.concat([f for f in (real, frame) if len(f)], ignore_index=True)
        frame["large"] = frame["large"].astype(bool)
        frame = parcels.assign_land_use(frame, parcel_rng)
        frames.append(parcels.number_parcels(frame, grid))
        grids.append(grid)
        carry = max(target - len(frame), 0)
    frame = pd.concat(frames, ignore_index=True)
    if "along" in frame.columns:
        frame = blocks.number_houses(frame)
    frame["uid"] = [f"{w}-{f}-{s}-{n}" for w, f, s, n in
                    zip(frame["ward"], frame["former"], frame["sheet"], frame["number"])]
    return grids, used_blocks, people.describe_parcels(frame, _rng(seed, 4))


def block_parcels(ward, ground: RealGround, target: int, heritage, rng: np.random.Generator):
    """Lots in the real blocks of one ward, nearest blocks to its anchor first, up to `target`;
    the frame and {block key: block polygon} of the blocks used."""
    land = ward.shape.intersection(ground.area).difference(ground.reserve)
    land = land.difference(ground.water.buffer(2.0))
    anchor = streets.ward_anchor(ward)
    found = blocks.blocks(land)
    found.sort(key=lambda b: b.distance(anchor))
    rows, shapes = [], {}
    for k, block in enumerate(found):
        if len(rows) >= target:
            break
        key = f"{ward.code}-K{k + 1:03d}"
        lots = blocks.cut_block(block, rng)[:target - len(rows)]
        rows.extend({"ward": ward.code, "ward_name": ward.name, "block": key, "front": front,
                     "geometry": shape} for shape, front in lots)
        shapes[key] = block
    if not rows:
        return pd.DataFrame(), shapes
    known = osm_streets.known_uses()
    frame = blocks.merge_sites(pd.DataFrame(rows), known)
    frame = blocks.address_lots(frame, list(ground.roads))
    return blocks.lot_uses(frame, heritage, known, rng), shapes


def parcel_source_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The parcel columns under their cadastral source names (Shapefile, <= 10 characters)."""
    return pd.DataFrame({
        "MaXa": frame["ward"], "MaXaCu": frame["former"],
        "SoTo": frame["sheet"].astype("Int64"), "SoThua": frame["number"].astype("Int64"),
        "MucDich": frame["land_use"], "DienTich": frame["legal_area"],
        "DiaChi": frame["address"], "TenDuong": frame["street"], "ThoiHan": frame["use_term"],
        "NguonGoc": frame["use_origin"], "SoGCN": frame["certificate_no"],
        "SoVaoSo": frame["register_no"], "geometry": frame["geometry"]})


def add_bad_parcels(rows: pd.DataFrame, bow_tie: shapely.Polygon
                    ) -> tuple[pd.DataFrame, list[str]]:
    """Append deliberately bad parcel rows; return them with a description of each.

    The bow-tie is the one bad row the import repairs and loads: it stands where a parcel
    was taken out for it (make_bow_tie_site), so the repaired parcel overlaps nothing.
    """
    first, second = dict(rows.iloc[0]), dict(rows.iloc[1])
    x, y = first["geometry"].centroid.x, first["geometry"].centroid.y
    sheet_max = int(rows["SoTo"].max())
    bad, why = [], []

    def add(reason: str, **changes):
        row = {**second, "SoTo": sheet_max + 1, "SoThua": len(bad) + 1, **changes}
        bad.append(row)
        why.append(reason)

    add("self-intersecting bow-tie (make_valid repairs it)", geometry=bow_tie)
    add("missing parcel number (SoThua)", SoThua=pd.NA)
    add("duplicate key of the first parcel", MaXa=first["MaXa"], MaXaCu=first["MaXaCu"],
        SoTo=first["SoTo"], SoThua=first["SoThua"],
        geometry=shapely.affinity.translate(first["geometry"], 0, 40))
    add("geometry far outside the city (200 km north)",
        geometry=shapely.affinity.translate(second["geometry"], 0, 200_000))
    add("missing land use (MucDich)", MucDich=None)
    add("degenerate polygon (all vertices on one line)",
        geometry=shapely.Polygon([(x, y), (x + 10, y + 10), (x + 20, y + 20), (x, y)]))
    rows = pd.concat([rows, pd.DataFrame(bad)], ignore_index=True)
    return rows.astype({"SoTo": "Int64", "SoThua": "Int64"}), why


def make_bow_tie_site(frame: pd.DataFrame) -> tuple[pd.DataFrame, shapely.Polygon]:
    """The parcels without the last one that holds a bow-tie (20 x 15 m, else smaller), and
    that bow-tie. Only the last number of a map sheet qualifies, so numbers stay 1..n."""
    last = frame["number"] == frame.groupby(["ward", "former", "sheet"])["number"].transform("max")
    for width, height in ((20.0, 15.0), (10.0, 7.5), (6.0, 4.5)):
        for index in reversed(frame.index[last.to_numpy()]):
            shape = frame.at[index, "geometry"]
            x, y = shape.centroid.x - width / 2, shape.centroid.y - height / 2
            tie = shapely.Polygon([(x, y), (x + width, y + height), (x + width, y),
                                   (x, y + height), (x, y)])
            if shape.contains(shapely.box(*tie.bounds)):
                return frame.drop(index=index).reset_index(drop=True), tie
    raise ValueError("no parcel is big enough to hold the bow-tie row")


def generate_city(out_dir: Path, seed: int = DEFAULT_SEED,
                  parcel_count: int = DEFAULT_PARCELS) -> dict:
    """Write every demo layer and manifest.json into out_dir; return the manifest.

    Deterministic: the same seed and parcel count give byte-identical files.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    wards = terrain.load_wards()
    ground = RealGround.load()
    river = ground.river
    lakes = [(name, g) for name, g in terrain.lake_polygons(_rng(seed, 1))
             if not any(g.intersects(real) for _, real in ground.lakes)]
    water = shapely.union_all([ground.water] + [g for _, g in lakes])
    heritage = planning.heritage_zones()
    grids, used_blocks, parcel_frame = build_parcels(wards, ground, water, heritage, seed,
                                                     parcel_count)
    parcel_frame, bow_tie = make_bow_tie_site(parcel_frame)
    parties, rights = people.holders(parcel_frame, _rng(seed, 5))
    land_uses = people.land_uses(parcel_frame, _rng(seed, 6))
    building_frame = parcels.buildings(parcel_frame, _rng(seed, 7), ground.buildings)
    elevation = terrain.Elevation(_rng(seed, 8))
    major = ground.major_near([g.to_world(g.land) for g in grids])
    networks = street_networks(grids, ground, major)
    nodes, pipes = drainage.build_network(networks, water, elevation, _rng(seed, 9))
    gauges = drainage.rain_gauges(grids, elevation)
    nodes = pd.concat([nodes, gauges], ignore_index=True)
    cabinets, lights = lighting.place_lights(networks, _rng(seed, 10))
    lights = lighting.add_bad_lights(lights)
    generated_roads = [r for g in grids for r in streets.grid_roads(g)] + major
    roads, reserves = planning.road_reserves(generated_roads, list(ground.roads))
    developed = planning.developed_area(parcel_frame)
    zones = [z for g in grids for z in planning.zoning(g, parcel_frame, heritage)]
    zones += planning.block_zoning(parcel_frame, used_blocks, heritage)
    floods = planning.flood_zones(river, developed)
    wifi = pd.DataFrame(planning.wifi_rows(parcel_frame, _rng(seed, 11)))
    water_rows = [{"water_id": "SONG-HAN", "name": "Sông Hàn", "kind": "river", "geometry": river}]
    water_rows += [{"water_id": f"HO-{k + 1:02d}", "name": name, "kind": "lake", "geometry": g}
                   for k, (name, g) in enumerate(lakes)]
    parcel_rows, bad_parcels = add_bad_parcels(parcel_source_rows(parcel_frame), bow_tie)

    vectors = [
        ("wards", "wards.geojson", None, "original"),
        ("water", "water.geojson", pd.DataFrame(water_rows), "geojson"),
        ("roads", "roads.geojson", pd.DataFrame(roads), "geojson"),
        ("buildings", "buildings.gpkg", building_frame, "gpkg:EPSG:4326"),
        ("parcels", "parcels.shp.zip", parcel_rows, "shp"),
        ("parties", "parties.csv", parties, "csv"),
        ("rights", "rights.csv", rights, "csv"),
        ("parcel_land_uses", "parcel_land_uses.csv", land_uses, "csv"),
        ("drainage_nodes", "drainage.gpkg", nodes, "gpkg"),
        ("drainage_pipes", "drainage.gpkg", pipes, "gpkg"),
        ("rain_gauges", "drainage.gpkg", drainage.rain_gauge_stations(gauges, grids), "gpkg"),
        ("lighting_cabinets", "lighting.gpkg", cabinets, "gpkg:EPSG:4326"),
        ("street_lights", "lighting.gpkg", lights, "gpkg:EPSG:4326"),
        ("wifi_aps", "wifi_aps.csv", wifi, "csv"),
        ("zoning", "zoning.geojson", pd.DataFrame(zones), "geojson"),
        ("road_reserves", "road_reserves.geojson", pd.DataFrame(reserves), "geojson"),
        ("flood_zones", "flood_zones.geojson", pd.DataFrame(floods), "geojson"),
        ("heritage_areas", "heritage_areas.geojson",
         pd.DataFrame(heritage).drop(columns=["site"]), "geojson"),
    ]
    entries = _write_vectors(out_dir, vectors)
    entries += _copy_osm_extracts(out_dir)
    entries += _copy_osm(out_dir)
    bounds = shapely.union_all([g.to_world(g.land) for g in grids] + [ground.area]).bounds
    for name, path in rasters.write_rasters(out_dir, bounds, elevation).items():
        entries.append({"kind": "raster", "name": name, "file": path.name, "unit": "m"})
    manifest = {
        "generator": "gisapp demo city", "version": GENERATOR_VERSION, "seed": seed,
        "parcels": parcel_count, "entries": entries,
        "deliberate_bad_rows": {"parcels": bad_parcels,
                                "street_lights": ["missing light id (ma_den)",
                                                  "duplicate light id"]},
        "counts": {e["layer"]: e["rows"] for e in entries if "rows" in e},
    }
    for entry in entries:
        entry.pop("rows", None)
    (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
    manifest["seconds"] = round(time.perf_counter() - started, 2)
    return manifest


def _copy_osm_extracts(out_dir: Path) -> list[dict]:
    """The real OpenStreetMap extracts shipped in etl/demo/data/osm (layer.osm), copied.

    `<layer id>.osm` holds that layer's features (etl/demo/data/README.md has the provenance);
    they load through the OSM reader like any extract a city imports.
    """
    from etl.readers.osm import read_osm

    entries = []
    for path in sorted((terrain.DATA_DIR / "osm").glob("*.osm")):
        layer = LAYERS[path.stem]
        shutil.copyfile(path, out_dir / path.name)
        entries.append({"kind": "vector", "layer": layer.id, "file": path.name,
                        "mode": "replace", "crs": None, "encoding": None, "source_layer": None,
                        "rows": read_osm(out_dir / path.name, layer).rows})
    return entries


def street_networks(grids, ground: RealGround, major: list[streets.Road]):
    """(code, roads) per street network that pipes and lamps follow: each ward's grid with
    the real major roads through it, and the real block's streets (code "HC")."""
    networks = []
    for grid in grids:
        land = grid.to_world(grid.land).buffer(20.0)
        through = [streets.Road(r.road_id, r.name, r.road_class, r.row_width,
                                r.geometry.intersection(land))
                   for r in major if r.geometry.intersects(land)]
        networks.append((grid.ward.code, streets.grid_roads(grid)
                         + [r for r in through if r.geometry.length > 1.0]))
    inside = [streets.Road(r.road_id, r.name, r.road_class, r.row_width,
                           r.geometry.intersection(ground.area))
              for r in ground.roads if r.geometry.intersects(ground.area)]
    networks.append((BLOCK_CODE, [r for r in inside if r.geometry.length > 1.0]))
    return networks


def _copy_osm(out_dir: Path) -> list[dict]:
    """The OpenStreetMap extract, copied as it came, loaded after the generated files into
    each layer that maps it (upsert: the OSM features join the generated ones)."""
    target = out_dir / osm_streets.EXTRACT.name
    target.write_bytes(osm_streets.EXTRACT.read_bytes())
    return [{"kind": "vector", "layer": layer, "file": target.name, "mode": "upsert",
             "crs": None, "encoding": None, "source_layer": None}
            for layer in OSM_LAYERS]


def _write_vectors(out_dir: Path, vectors) -> list[dict]:
    entries, packages = [], {}
    for layer_id, file_name, frame, kind in vectors:
        table = LAYERS.get(layer_id) or TABLES[layer_id]
        path = out_dir / file_name
        entry = {"kind": "vector", "layer": table.id, "file": file_name, "mode": "replace",
                 "crs": None, "encoding": None, "source_layer": None}
        if kind == "original":  # the real ward boundaries, exactly as published
            entry["rows"] = write_feature_collection(terrain.ward_files(), path)
            entries.append(entry)
            continue
        check_columns(table, frame)
        entry["rows"] = len(frame)
        if kind == "shp":
            write_shapefile_zip(frame, CRS, path, table.id)
        elif kind == "geojson":
            write_geojson(frame, CRS, path)
        elif kind == "csv":
            write_csv(frame, path)
            entry["encoding"] = "utf-8"
            entry["crs"] = "EPSG:4326" if "lon" in frame.columns else None
        else:
            packages.setdefault(file_name, ({}, kind.partition(":")[2] or None))[0][table.id] = frame
            entry["source_layer"] = table.id
        entries.append(entry)
    for file_name, (frames, target) in packages.items():
        write_geopackage(frames, CRS, out_dir / file_name, target)
    return entries

