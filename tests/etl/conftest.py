"""ETL fixtures: layers picked from the registry by shape, and source files written in tmp_path."""
from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
import shapely

from layers import LAYERS, Layer
from tests.world import field_value

# DOMAIN.md §1: the Dragon Bridge in WGS 84 and in EPSG:5899 (VN-2000 / TM-3 107-45).
DRAGON_LONLAT = (108.22705602, 16.06114045)
DRAGON_TM3 = (550846.113, 1776402.965)
@pytest.fixture()
def point_layer() -> Layer:
    return next(layer for layer in LAYERS.values() if layer.geometry_type == "Point")


@pytest.fixture()
def versioned_layer() -> Layer:
    return next(layer for layer in LAYERS.values() if layer.versioned)


@pytest.fixture()
def make_rows():
    """A DataFrame of n rows for a layer or table: every imported field, unique keys."""

    def make(decl, n: int):
        import pandas as pd
        return pd.DataFrame({f.name: [field_value(f, i) for i in range(n)]
                             for f in decl.imported_fields})

    return make


@pytest.fixture()
def make_frame():
    """A GeoDataFrame for `layer`: every imported field filled, row i gets unique key values."""

    def make(layer: Layer, geoms, crs="EPSG:4326", short_names: bool = False) -> gpd.GeoDataFrame:
        data = {}
        for f in layer.imported_fields:
            name = f.name
            if short_names:  # Shapefile: 10-character names, taken from the declared sources
                name = min((f.name, *f.sources), key=len)
            data[name] = [field_value(f, i) for i in range(len(geoms))]
        return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)

    return make


@pytest.fixture()
def write_source(tmp_path: Path):
    """Write a GeoDataFrame as geojson, gpkg, zip (Shapefile in nested folders) or csv (WKT)."""

    def write(gdf: gpd.GeoDataFrame, fmt: str, name: str = "source",
              prj: str | None = None) -> Path:
        if fmt == "geojson":
            path = tmp_path / f"{name}.geojson"
            gdf.to_file(path, driver="GeoJSON")
        elif fmt == "gpkg":
            path = tmp_path / f"{name}.gpkg"
            gdf.to_file(path, driver="GPKG", layer=name)
        elif fmt == "zip":
            folder = tmp_path / f"{name}_shp" / "export" / "2025"
            folder.mkdir(parents=True)
            gdf.to_file(folder / f"{name}.shp", driver="ESRI Shapefile", encoding="utf-8")
            if prj is not None:  # as other software writes it (GDAL would identify the CRS)
                (folder / f"{name}.prj").write_text(prj)
            path = tmp_path / f"{name}.zip"
            with zipfile.ZipFile(path, "w") as zf:
                for part in folder.iterdir():
                    zf.write(part, f"export/2025/{part.name}")
        elif fmt == "shp":
            path = tmp_path / f"{name}.shp"
            gdf.to_file(path, driver="ESRI Shapefile", encoding="utf-8")
        elif fmt == "csv":
            path = tmp_path / f"{name}.csv"
            frame = gdf.drop(columns=gdf.geometry.name)
            frame["wkt"] = shapely.to_wkt(gdf.geometry.values, rounding_precision=-1)
            frame.to_csv(path, index=False)
        else:
            raise ValueError(fmt)
        return path

    return write


@pytest.fixture()
def db(scratch_url: str):
    """An autocommit connection to the (emptied) scratch database."""
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        yield conn


@pytest.fixture()
def small_parcels(versioned_layer: Layer, make_frame):
    """Three square parcels in central Da Nang (lon/lat)."""

    def make(n: int = 3, shift: float = 0.0) -> gpd.GeoDataFrame:
        squares = [shapely.box(108.2 + i * 0.001 + shift, 16.05, 108.2005 + i * 0.001 + shift,
                               16.0505) for i in range(n)]
        return make_frame(versioned_layer, squares)

    return make
