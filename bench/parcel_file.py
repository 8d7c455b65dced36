"""A generated parcel source of any size (EPSG:5899 squares in central Da Nang), vectorised."""
from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from layers.land import PARCELS

WARDS = ("20242", "20209", "20263", "20275", "20285", "20257")
LAND_USES = ("ODT", "CLN", "TMD", "DGD", "DYT", "SKC")
ORIGIN_5899 = (545_000.0, 1_768_000.0)  # south-west corner, inside the city
CELL_M, GAP_M, PER_SHEET = 20.0, 1.0, 250


def parcel_frame(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """n square parcels with every declared parcel field, keys unique, in EPSG:5899."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    cols = int(np.ceil(np.sqrt(n)))
    x0 = ORIGIN_5899[0] + (i % cols) * CELL_M
    y0 = ORIGIN_5899[1] + (i // cols) * CELL_M
    geoms = shapely.box(x0, y0, x0 + CELL_M - GAP_M, y0 + CELL_M - GAP_M)
    ward = np.array(WARDS)[i % len(WARDS)]
    data = {
        "ward_code": ward,
        "former_ward_code": ward,
        "sheet_no": i // (PER_SHEET * len(WARDS)) + 1,
        "parcel_no": (i // len(WARDS)) % PER_SHEET + 1,
        "land_use": np.array(LAND_USES)[rng.integers(0, len(LAND_USES), n)],
        "legal_area": np.round((CELL_M - GAP_M) ** 2 + rng.normal(0, 2, n), 1),
        "address": np.char.add("Số ", (i % 300 + 1).astype(str)),
        "street": np.array(["Bạch Đằng", "Trần Phú", "Lê Duẩn"])[i % 3],
    }
    declared = {f.name for f in PARCELS.imported_fields}
    return gpd.GeoDataFrame({k: v for k, v in data.items() if k in declared},
                            geometry=geoms, crs="EPSG:5899")


def write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """One-layer GeoPackage (named like the file)."""
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, path, layer=path.stem, driver="GPKG", use_arrow=True)
    return path


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """GeoJSON in EPSG:5899 (GDAL writes the legacy `crs` member)."""
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, path, driver="GeoJSON", use_arrow=True)
    return path


def write_csv(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """CSV with a `wkt` geometry column in EPSG:5899 (a CSV names no CRS: import with it)."""
    table = frame.drop(columns="geometry").assign(wkt=frame.geometry.to_wkt())
    table.to_csv(path, index=False)
    return path


def write_shapefile_zip(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """A zipped Shapefile; field names shortened to the declared 10-character source names."""
    short = {f.name: min((f.name, *f.sources), key=len) for f in PARCELS.imported_fields}
    folder = path.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / f"{path.stem}.shp"
    pyogrio.write_dataframe(frame.rename(columns=short), shp, driver="ESRI Shapefile",
                            encoding="UTF-8")
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, part.name)
    return path


def changed_frame(frame: gpd.GeoDataFrame, every: int = 20) -> gpd.GeoDataFrame:
    """The same parcels, a re-survey later: every `every`-th a new land use, as many others
    moved by 0.5 m (so 2/every of the rows change, spread over the whole city)."""
    out = frame.copy()
    n = len(out)
    relabelled = np.arange(0, n, every)
    moved = np.arange(every // 2, n, every)
    following = {use: LAND_USES[(i + 1) % len(LAND_USES)] for i, use in enumerate(LAND_USES)}
    out.loc[out.index[relabelled], "land_use"] = out["land_use"].iloc[relabelled].map(following)
    out.loc[out.index[moved], "geometry"] = shapely.transform(
        out.geometry.to_numpy()[moved], lambda c: c + 0.5)
    return out
