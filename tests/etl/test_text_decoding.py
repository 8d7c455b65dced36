"""Legacy text through the pipeline: .cpg, DBF without one, operator override, CSV, GeoJSON."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio
import pytest
from psycopg import sql
from shapely.geometry import Point

from etl.encodings import encode
from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers import LAYERS, FieldType
from tests.world import field_value

NAMES = ["Đường Trần Phú", "Phường Hải Châu", "Nguyễn Văn Linh", "Bạch Đằng", "Lê Duẩn",
         "Hoà Cường Bắc", "Ngũ Hành Sơn", "Điện Biên Phủ"]
LAYER = next(layer for layer in LAYERS.values() if layer.geometry_type == "Point")
TEXT = next(f for f in LAYER.imported_fields if f.type == FieldType.TEXT and not f.choices
            and not f.required)


def _frame(texts: list[str]) -> gpd.GeoDataFrame:
    data = {f.name: [field_value(f, i) for i in range(len(texts))] for f in LAYER.imported_fields}
    data[TEXT.name] = texts
    geoms = [Point(108.22 + i * 1e-4, 16.06) for i in range(len(texts))]
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


def _shapefile(tmp_path: Path, legacy: list[str], cpg: str | None) -> Path:
    path = tmp_path / "legacy.shp"
    pyogrio.write_dataframe(_frame(legacy), path, encoding="ISO-8859-1")
    for sidecar in tmp_path.glob("legacy.cpg"):
        sidecar.unlink()
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def _loaded(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.Identifier(TEXT.name), sql.Identifier(LAYER.table),
            sql.Identifier(LAYER.key[0])))]


def _import(url: str, path: Path, **kwargs):
    return run_import(url, ImportRequest(layer=LAYER.id, path=path, **kwargs))


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_shapefile_without_cpg_is_detected_per_column(scratch_url, tmp_path, encoding):
    result = _import(scratch_url, _shapefile(tmp_path, [encode(n, encoding) for n in NAMES],
                                             None))
    assert sorted(_loaded(scratch_url)) == sorted(NAMES)
    note = next(w for w in result.warnings if w.startswith(f"text column {TEXT.name}"))
    assert f": {encoding} (detect" in note and f"{len(NAMES)} values converted" in note
    with psycopg.connect(scratch_url) as conn:
        recorded = conn.execute("SELECT warnings FROM etl_runs WHERE id = %s",
                                (result.run_id,)).fetchone()[0]
    assert note in recorded  # the run's record says what was detected


def test_cpg_names_the_encoding(scratch_url, tmp_path):
    _import(scratch_url, _shapefile(tmp_path, [encode(n, "cp1258") for n in NAMES], "1258"))
    assert sorted(_loaded(scratch_url)) == sorted(NAMES)


def test_operator_encoding_overrides_a_wrong_cpg(scratch_url, tmp_path):
    result = _import(scratch_url, _shapefile(tmp_path, [encode(n, "vni") for n in NAMES],
                                             "1252"), encoding="vni")
    assert sorted(_loaded(scratch_url)) == sorted(NAMES)
    assert any("vni (operator" in w for w in result.warnings)


def test_unknown_operator_encoding_fails_the_run_with_the_allowed_list(scratch_url, tmp_path):
    with pytest.raises(ImportFailed, match="allowed: utf-8, tcvn3, vni, cp1258"):
        _import(scratch_url, _shapefile(tmp_path, NAMES, "UTF-8"), encoding="koi8-r")


def test_legacy_csv_bytes_are_detected(scratch_url, tmp_path):
    frame = _frame([encode(n, "tcvn3") for n in NAMES])
    frame["wkt"] = frame.geometry.to_wkt()
    path = tmp_path / "legacy.csv"
    path.write_bytes(frame.drop(columns="geometry").to_csv(index=False).encode("latin-1"))
    _import(scratch_url, path)
    assert sorted(_loaded(scratch_url)) == sorted(NAMES)


def test_utf8_csv_is_normalised_to_nfc(scratch_url, tmp_path):
    import unicodedata
    frame = _frame([unicodedata.normalize("NFD", n) for n in NAMES])
    frame["wkt"] = frame.geometry.to_wkt()
    path = tmp_path / "nfd.csv"
    path.write_text(frame.drop(columns="geometry").to_csv(index=False), encoding="utf-8")
    _import(scratch_url, path)
    assert sorted(_loaded(scratch_url)) == sorted(NAMES)


def test_geojson_carrying_tcvn3_characters_is_converted_and_lost_u_flagged(scratch_url,
                                                                           tmp_path):
    texts = [encode(n, "tcvn3") for n in NAMES]
    texts[1] = texts[1].replace("\xad", "")  # "Phường" arrives as "Phêng"
    path = tmp_path / "legacy.geojson"
    path.write_text(_frame(texts).to_json(), encoding="utf-8")
    result = _import(scratch_url, path)
    loaded = _loaded(scratch_url)
    assert "Phờng Hải Châu" in loaded and "Đường Trần Phú" in loaded
    assert any("probably lost a TCVN3 'ư'" in w and "rows 2" in w for w in result.warnings)
    assert json.loads(path.read_text())["features"][0]["properties"][TEXT.name] == texts[0]
