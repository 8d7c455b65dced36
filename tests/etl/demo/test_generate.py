"""The demo city generator: deterministic, believable, and in the formats real sources use."""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import CRS

from etl.demo import places
from etl.demo.generate import OSM_LAYERS, generate_city
from etl.demo.osm_streets import EXTRACT
from etl.demo.terrain import load_wards, ward_files
from etl.readers.osm import read_osm
from layers import LAYERS, TABLES
from layers.city import CITY


def _hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _read(city: Path, manifest: dict, layer: str, **kwargs):
    entry = next(e for e in manifest["entries"] if e.get("layer") == layer)
    path = city / entry["file"]
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pyogrio.read_dataframe(path, layer=entry["source_layer"], **kwargs)


def _parcels(city: Path, manifest: dict, crs: str = CITY.metric_crs):
    frame = _read(city, manifest, "parcels").to_crs(crs)
    bad = len(manifest["deliberate_bad_rows"]["parcels"])
    return frame.iloc[:-bad], frame.iloc[-bad:]


def test_same_seed_gives_identical_files(tmp_path: Path, small_city: Path, manifest: dict):
    """Generated again with the session city's seed and size (one generation, not two)."""
    generate_city(tmp_path / "a", seed=manifest["seed"], parcel_count=manifest["parcels"])
    assert _hashes(tmp_path / "a") == _hashes(small_city)


def test_different_seed_gives_different_city(tmp_path: Path, small_city: Path, manifest: dict):
    generate_city(tmp_path / "c", seed=manifest["seed"] + 1, parcel_count=manifest["parcels"])
    first, second = _hashes(small_city), _hashes(tmp_path / "c")
    assert first.keys() == second.keys()
    assert first["parcels.shp.zip"] != second["parcels.shp.zip"]
    assert first["parties.csv"] != second["parties.csv"]


def test_manifest_covers_every_registered_layer_and_table(manifest: dict):
    vectors = [e for e in manifest["entries"] if e["kind"] == "vector"]
    core = [e for e in vectors if e["file"] == EXTRACT.name]
    assert sorted(e["layer"] for e in vectors if e not in core) == sorted([*LAYERS, *TABLES])
    # then the OpenStreetMap extract of the real block, as it came, upserted into the
    # layers that take its features beside the generated ones
    assert sorted(e["layer"] for e in core) == sorted(OSM_LAYERS)
    assert all(LAYERS[e["layer"]].osm for e in core)
    assert all(e["mode"] == "upsert" for e in core) and vectors[-len(core):] == core
    assert {e["name"] for e in manifest["entries"] if e["kind"] == "raster"} == {
        "elevation", "flood_depth"}
    assert manifest["seed"] == 7 and manifest["version"]


def test_parcel_count_follows_the_request(manifest: dict):
    good = manifest["counts"]["parcels"] - len(manifest["deliberate_bad_rows"]["parcels"])
    assert manifest["parcels"] * 0.95 <= good <= manifest["parcels"] * 1.1


def test_every_ward_has_parcels_in_several_former_wards(small_city: Path, manifest: dict):
    parcels, _ = _parcels(small_city, manifest)
    for code, (_, formers) in places.WARDS.items():
        mine = parcels[parcels["MaXa"] == code]
        assert len(mine) > 50
        assert set(mine["MaXaCu"]) == {c for c, _ in formers}


def test_sheets_and_parcel_numbers_start_at_one(small_city: Path, manifest: dict):
    parcels, _ = _parcels(small_city, manifest)
    for _, group in parcels.groupby(["MaXa", "MaXaCu"]):
        sheets = sorted(set(group["SoTo"]))
        assert sheets == list(range(1, len(sheets) + 1))
        for _, sheet in group.groupby("SoTo"):
            assert sorted(sheet["SoThua"]) == list(range(1, len(sheet) + 1))


def test_parcels_lie_inside_their_ward(small_city: Path, manifest: dict):
    parcels, _ = _parcels(small_city, manifest)
    for ward in load_wards():
        mine = parcels[parcels["MaXa"] == ward.code].geometry.to_numpy()
        assert shapely.area(shapely.difference(mine, ward.shape)).max() < 0.01


def test_parcels_do_not_overlap(small_city: Path, manifest: dict):
    parcels, _ = _parcels(small_city, manifest)
    geoms = parcels.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    sample = np.random.default_rng(0).choice(len(geoms), 400, replace=False)
    left, right = tree.query(geoms[sample], predicate="intersects")
    others = sample[left] != right
    overlaps = shapely.area(shapely.intersection(geoms[sample[left][others]], geoms[right[others]]))
    assert others.any() and overlaps.max() < 0.5


def test_parcel_keys_are_unique_except_the_deliberate_bad_rows(small_city: Path, manifest: dict):
    parcels, bad = _parcels(small_city, manifest)
    key = ["MaXa", "MaXaCu", "SoTo", "SoThua"]
    assert not parcels.duplicated(key).any()
    assert parcels[key + ["MucDich"]].notna().all().all()
    assert bad["SoThua"].isna().sum() == 1 and bad["MucDich"].isna().sum() == 1
    everything = pd.concat([parcels, bad])
    assert everything.dropna(subset=key).duplicated(key).sum() == 1
    assert (~shapely.is_valid(bad.geometry.to_numpy())).sum() >= 2


def test_legal_area_is_close_to_the_computed_area(small_city: Path, manifest: dict):
    parcels, _ = _parcels(small_city, manifest)
    ratio = parcels["DienTich"] / parcels.geometry.area
    assert ratio.between(0.95, 1.05).all()
    assert (parcels["DienTich"] * 10).round(6).mod(1).eq(0).all()


def test_rights_link_parcels_to_parties(small_city: Path, manifest: dict):
    parcels, _ = _parcels(small_city, manifest)
    uids = set(parcels["MaXa"] + "-" + parcels["MaXaCu"] + "-"
               + parcels["SoTo"].astype(int).astype(str) + "-"
               + parcels["SoThua"].astype(int).astype(str))
    parties = _read(small_city, manifest, "parties")
    rights = _read(small_city, manifest, "rights")
    uses = _read(small_city, manifest, "parcel_land_uses")
    assert set(rights["parcel_uid"]) == uids and set(uses["parcel_uid"]) == uids
    assert set(rights["party_id"]) == set(parties["MaChu"])
    people = parties[parties["kind"] == "person"]
    assert people["CCCD"].str.fullmatch(r"048\d{9}").all()
    assert (parties["kind"] == "organisation").any()
    assert uses.groupby("parcel_uid").size().max() == 2


def test_pipes_flow_downhill_to_outfalls(small_city: Path, manifest: dict):
    nodes = _read(small_city, manifest, "drainage_nodes").set_index("ma_nut")
    pipes = _read(small_city, manifest, "drainage_pipes")
    assert (pipes["invert_up"] > pipes["invert_down"]).all()
    assert pipes["duong_kinh"].between(400, 1500).all()
    downstream = dict(zip(pipes["nut_dau"], pipes["nut_cuoi"]))
    assert len(downstream) == len(pipes), "each node drains through one pipe"
    for start in nodes.index[~nodes["loai"].isin(["outfall", "rain_gauge"])]:
        node, steps = start, 0
        while node in downstream:
            node, steps = downstream[node], steps + 1
            assert steps < len(pipes)
        assert nodes.loc[node, "loai"] == "outfall"


def test_network_has_pump_stations_and_unpiped_rain_gauges(small_city: Path, manifest: dict):
    nodes = _read(small_city, manifest, "drainage_nodes")
    pipes = _read(small_city, manifest, "drainage_pipes")
    gauges = set(nodes.loc[nodes["loai"] == "rain_gauge", "ma_nut"])
    assert len(gauges) == len(places.WARDS)
    assert not gauges & (set(pipes["nut_dau"]) | set(pipes["nut_cuoi"]))
    assert (nodes["loai"] == "pump_station").any()


def test_diameters_grow_downstream(small_city: Path, manifest: dict):
    pipes = _read(small_city, manifest, "drainage_pipes")
    size_of = dict(zip(pipes["nut_dau"], pipes["duong_kinh"]))
    downstream = pipes["nut_cuoi"].map(size_of)
    has_next = downstream.notna()
    assert (downstream[has_next] >= pipes["duong_kinh"][has_next]).all()


def test_street_lights_are_about_30_m_apart(small_city: Path, manifest: dict):
    lights = _read(small_city, manifest, "street_lights").to_crs(CITY.metric_crs)
    lights = lights.dropna(subset=["ma_den"]).drop_duplicates("ma_den").sort_values("ma_den")
    steps = lights.geometry.distance(lights.geometry.shift())
    same_street = lights["street"].eq(lights["street"].shift())
    assert steps[same_street].between(29.5, 30.5).mean() > 0.7
    per_cabinet = lights.groupby("ma_tu").size()
    assert per_cabinet.median() >= 35 and per_cabinet.max() <= 80
    assert (lights["tinh_trang"] == "out_of_service").mean() < 0.1


def _columns(city: Path, entry: dict) -> list[str]:
    path = city / entry["file"]
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8").splitlines()[0].split(",")
    if path.suffix == ".osm":  # tags become fields through the layer's OSM mapping
        return list(read_osm(path, LAYERS[entry["layer"]]).frame.columns)
    return list(pyogrio.read_info(path, layer=entry["source_layer"])["fields"])


@pytest.mark.parametrize("layer", [*LAYERS, *TABLES])
def test_files_name_every_required_field_by_a_declared_name(small_city: Path, manifest: dict,
                                                            layer: str):
    entry = next(e for e in manifest["entries"] if e.get("layer") == layer)
    columns = {c.lower() for c in _columns(small_city, entry)}
    for field in (LAYERS.get(layer) or TABLES[layer]).imported_fields:
        if field.required:
            assert columns & {n.lower() for n in (field.name, *field.sources)}, field.name


@pytest.mark.parametrize("layer", [layer for layer in [*LAYERS, *TABLES] if layer != "wards"])
def test_generated_files_use_only_declared_names_and_their_crs(small_city: Path, manifest: dict,
                                                               layer: str):
    entry = next(e for e in manifest["entries"] if e.get("layer") == layer)
    table = LAYERS.get(layer) or TABLES[layer]
    declared = {f.name.lower() for f in table.fields} | {
        s.lower() for f in table.fields for s in f.sources}
    assert {c.lower() for c in _columns(small_city, entry)} - {"lon", "lat"} <= declared
    path = small_city / entry["file"]
    if path.suffix != ".csv":
        crs = pyogrio.read_info(path, layer=entry["source_layer"])["crs"]
        expected = (CITY.metric_crs if path.name in ("parcels.shp.zip", "drainage.gpkg")
                    else "EPSG:4326")
        assert CRS.from_user_input(crs).equals(CRS.from_user_input(expected))


def test_wards_file_is_the_real_boundaries_unchanged(small_city: Path):
    features = json.loads((small_city / "wards.geojson").read_text(encoding="utf-8"))["features"]
    originals = [json.loads(p.read_text(encoding="utf-8"))["features"][0] for p in ward_files()]
    assert features == originals
    assert [f["properties"]["code"] for f in features] == list(places.WARDS)


def test_shapefile_carries_prj_cpg_and_cadastral_field_names(small_city: Path):
    with zipfile.ZipFile(small_city / "parcels.shp.zip") as archive:
        names = archive.namelist()
        assert archive.read(next(n for n in names if n.endswith(".cpg"))).strip() == b"UTF-8"
        prj = archive.read(next(n for n in names if n.endswith(".prj"))).decode()
    assert {Path(n).suffix for n in names} >= {".shp", ".shx", ".dbf", ".prj", ".cpg"}
    assert CRS.from_wkt(prj).to_epsg() == CITY.metric_srid
    fields = pyogrio.read_info(small_city / "parcels.shp.zip")["fields"]
    for name in ("MaXa", "MaXaCu", "SoTo", "SoThua", "MucDich", "DienTich", "DiaChi", "SoGCN"):
        assert name in fields


@pytest.mark.parametrize("name", ["elevation", "flood_depth"])
def test_rasters_open_with_crs_and_nodata(small_city: Path, manifest: dict, name: str):
    entry = next(e for e in manifest["entries"] if e.get("name") == name)
    with rasterio.open(small_city / entry["file"]) as src:
        assert src.crs.to_epsg() == CITY.metric_srid and src.nodata is not None
        assert src.dtypes[0] == "float32" and 10 <= src.res[0] <= 20
        assert src.profile["tiled"]
        data = src.read(1, masked=True)
    assert data.count() > 0
    if name == "elevation":
        assert 0 < data.min() and data.max() < 700
    else:
        assert data.mask.any() and data.min() > 0


def test_heritage_sites_are_where_the_landmarks_are(small_city: Path, manifest: dict):
    heritage = _read(small_city, manifest, "heritage_areas")
    cham = heritage[heritage["heritage_id"] == "DT-CHAM-I"].geometry.iloc[0]
    assert cham.contains(shapely.Point(108.22328166, 16.06040135))


def test_manifest_is_valid_json_with_relative_paths(small_city: Path):
    manifest = json.loads((small_city / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["entries"]:
        assert not Path(entry["file"]).is_absolute() and (small_city / entry["file"]).exists()


def test_generate_command_writes_a_city(runner, tmp_path: Path):
    result = runner("demo", "generate", str(tmp_path / "city"), "--seed", "3", "--parcels", "300")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "city" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 3 and "parcels" in result.output
