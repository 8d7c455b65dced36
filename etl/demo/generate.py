"""Generate the demo city into a directory: source files plus manifest.json."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from etl.demo import GENERATOR_VERSION, drainage, lighting, parcels, people, places, planning
from etl.demo import rasters, streets, terrain
from etl.demo.files import (check_columns, write_csv, write_feature_collection, write_geojson,
                            write_geopackage, write_shapefile_zip)
from layers.registry import LAYERS, TABLES

DEFAULT_SEED = 2025
DEFAULT_PARCELS = 20_000
MANIFEST = "manifest.json"
CRS = terrain.METRIC_CRS


def _rng(seed: int, stage: int) -> np.random.Generator:
    """One generator per stage, so a change in one stage leaves the others' draws alone."""
    return np.random.default_rng([seed, stage])


def build_parcels(wards, water, heritage, seed: int, parcel_count: int):
    """Street grids and all wards' parcels with numbering and certificate attributes (EPSG:5899).

    A ward too small for its share passes the shortfall on to the next wards, so large
    `parcel_count`s (benchmarks) still get about that many parcels.
    """
    frames, grids, carry = [], [], 0
    zones = [(h["site"], h["geometry"]) for h in heritage if h["protection_zone"] == "I"]
    street_rng, parcel_rng = _rng(seed, 2), _rng(seed, 3)
    names = streets.street_names(street_rng)
    for ward in wards:
        target = round(parcel_count * places.WARDS[ward.code][0]) + carry
        grid = streets.build_grid(ward, water, target, street_rng, names)
        frame = parcels.cut_parcels(grid, zones, parcel_rng)
        frame = parcels.assign_land_use(frame, parcel_rng)
        frames.append(parcels.number_parcels(frame, grid))
        grids.append(grid)
        carry = max(target - len(frame), 0)
    frame = pd.concat(frames, ignore_index=True)
    frame["uid"] = [f"{w}-{f}-{s}-{n}" for w, f, s, n in
                    zip(frame["ward"], frame["former"], frame["sheet"], frame["number"])]
    return grids, people.describe_parcels(frame, _rng(seed, 4))


def parcel_source_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The parcel columns under their cadastral source names (Shapefile, <= 10 characters)."""
    return pd.DataFrame({
        "MaXa": frame["ward"], "MaXaCu": frame["former"],
        "SoTo": frame["sheet"].astype("Int64"), "SoThua": frame["number"].astype("Int64"),
        "MucDich": frame["land_use"], "DienTich": frame["legal_area"],
        "DiaChi": frame["address"], "TenDuong": frame["street"], "ThoiHan": frame["use_term"],
        "NguonGoc": frame["use_origin"], "SoGCN": frame["certificate_no"],
        "SoVaoSo": frame["register_no"], "geometry": frame["geometry"]})


def add_bad_parcels(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Append deliberately bad parcel rows; return them with a description of each."""
    first, second = dict(rows.iloc[0]), dict(rows.iloc[1])
    x, y = first["geometry"].centroid.x, first["geometry"].centroid.y
    sheet_max = int(rows["SoTo"].max())
    bad, why = [], []

    def add(reason: str, **changes):
        row = {**second, "SoTo": sheet_max + 1, "SoThua": len(bad) + 1, **changes}
        bad.append(row)
        why.append(reason)

    add("self-intersecting bow-tie (make_valid repairs it)", geometry=shapely.Polygon(
        [(x, y), (x + 20, y + 15), (x + 20, y), (x, y + 15), (x, y)]))
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


def generate_city(out_dir: Path, seed: int = DEFAULT_SEED,
                  parcel_count: int = DEFAULT_PARCELS) -> dict:
    """Write every demo layer and manifest.json into out_dir; return the manifest.

    Deterministic: the same seed and parcel count give byte-identical files.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    wards = terrain.load_wards()
    river = terrain.river_polygon()
    lakes = terrain.lake_polygons(_rng(seed, 1))
    water = shapely.union_all([river] + [g for _, g in lakes])
    heritage = planning.heritage_zones()
    grids, parcel_frame = build_parcels(wards, water, heritage, seed, parcel_count)
    parties, rights = people.holders(parcel_frame, _rng(seed, 5))
    land_uses = people.land_uses(parcel_frame, _rng(seed, 6))
    building_frame = parcels.buildings(parcel_frame, _rng(seed, 7))
    elevation = terrain.Elevation(_rng(seed, 8))
    nodes, pipes = drainage.build_network(grids, river, elevation, _rng(seed, 9))
    nodes = pd.concat([nodes, drainage.rain_gauges(grids, elevation)], ignore_index=True)
    cabinets, lights = lighting.place_lights(grids, _rng(seed, 10))
    lights = lighting.add_bad_lights(lights)
    roads, reserves = planning.road_reserves(grids)
    developed = planning.developed_area(parcel_frame)
    zones = [z for g in grids for z in planning.zoning(g, parcel_frame, heritage)]
    floods = planning.flood_zones(river, developed)
    wifi = pd.DataFrame(planning.wifi_rows(parcel_frame, _rng(seed, 11)))
    water_rows = [{"water_id": "SONG-HAN", "name": "Sông Hàn", "kind": "river", "geometry": river}]
    water_rows += [{"water_id": f"HO-{k + 1:02d}", "name": name, "kind": "lake", "geometry": g}
                   for k, (name, g) in enumerate(lakes)]
    parcel_rows, bad_parcels = add_bad_parcels(parcel_source_rows(parcel_frame))

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
    bounds = shapely.union_all([g.to_world(g.land) for g in grids]).bounds
    for name, path in rasters.write_rasters(out_dir, bounds, elevation).items():
        entries.append({"kind": "raster", "name": name, "file": path.name, "unit": "m"})
    manifest = {
        "generator": "gisapp demo city", "version": GENERATOR_VERSION, "seed": seed,
        "parcels": parcel_count, "entries": entries,
        "deliberate_bad_rows": {"parcels": bad_parcels,
                                "street_lights": ["missing light id (ma_den)",
                                                  "duplicate light id"]},
        "counts": {e["layer"]: e["rows"] for e in entries if e["kind"] == "vector"},
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

