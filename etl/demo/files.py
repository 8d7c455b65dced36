"""Write demo layers as the files real sources arrive in: zipped Shapefile, GeoPackage, GeoJSON, CSV.

Every write is byte-for-byte reproducible: fixed dates in DBF headers, GeoPackage metadata
and zip entries, stable row order.
"""
from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.model import Table

FIXED_DATE = "2025-07-01"
ZIP_TIME = (2025, 7, 1, 0, 0, 0)


def check_columns(table: Table, frame: pd.DataFrame) -> None:
    """Fail when a column is neither a declared field nor one of its declared source names."""
    known = {f.name.lower() for f in table.fields} | {
        s.lower() for f in table.fields for s in f.sources}
    extra = [c for c in frame.columns if c not in ("geometry", "lon", "lat") and c.lower() not in known]
    if extra:
        raise ValueError(f"columns {extra} are not declared for {table.id}; declared fields "
                         f"and sources: {sorted(known)}")


def _frame(frame: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def write_shapefile_zip(frame: pd.DataFrame, crs: str, path: Path, name: str) -> None:
    """A zipped Shapefile (.shp .shx .dbf .prj .cpg UTF-8) in `crs`."""
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{name}.shp"
        pyogrio.write_dataframe(_frame(frame, crs), shp, driver="ESRI Shapefile",
                                encoding="UTF-8", layer_options={"DBF_DATE_LAST_UPDATE": FIXED_DATE})
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in sorted(Path(tmp).iterdir()):
                info = zipfile.ZipInfo(member.name, ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, member.read_bytes())


def write_geojson(frame: pd.DataFrame, crs: str, path: Path) -> None:
    """A GeoJSON FeatureCollection in WGS 84, coordinates to 1e-7 degrees (~1 cm)."""
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(_frame(frame, crs).to_crs("EPSG:4326"), path, driver="GeoJSON",
                            layer_options={"COORDINATE_PRECISION": 7, "RFC7946": "NO"})


def write_geopackage(layers: dict[str, pd.DataFrame], crs: str, path: Path,
                     target_crs: str | None = None) -> None:
    """One GeoPackage holding several layers, stored in `target_crs` (default: `crs`)."""
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{FIXED_DATE}T00:00:00.000Z"})
    try:
        for name, frame in layers.items():
            gdf = _frame(frame, crs)
            if target_crs:
                gdf = gdf.to_crs(target_crs)
            pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", append=path.exists())
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_feature_collection(sources: list[Path], path: Path) -> int:
    """Merge GeoJSON files' features, unchanged, into one FeatureCollection; return the count."""
    features = [f for src in sources for f in json.loads(src.read_text(encoding="utf-8"))["features"]]
    collection = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(features)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV with a header row, no index."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
