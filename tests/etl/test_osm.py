"""OpenStreetMap extracts as an import source: registry mappings, OSM ids as keys, upserts."""
from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pytest
import shapely

from etl.errors import ImportRefused
from etl.pipeline import ImportFailed, ImportRequest, run_import
from etl.readers.osm import parse_other_tags
from layers import LAYERS, get_layer

OSM_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "danang-osm-2026"
EXTRACT = OSM_DIR / "hai_chau_core.osm"


def _ogr_count(element: str, where: str) -> int:
    """Count features with GDAL's own command-line reader (a second, independent path)."""
    out = subprocess.run(["ogrinfo", "-ro", "-q", str(EXTRACT), "-sql",
                          f"SELECT COUNT(*) FROM {element} WHERE {where}"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.rsplit("=", 1)[1])


def _import(url: str, layer: str, path: Path = EXTRACT, mode: str = "replace"):
    return run_import(url, ImportRequest(layer, path, mode=mode))


def test_other_tags_are_parsed_with_escapes():
    text = '"name:en"=>"Han \\"River\\"","lanes"=>"2","note"=>"a\\\\b"'
    assert parse_other_tags(text) == {"name:en": 'Han "River"', "lanes": "2", "note": "a\\b"}
    assert parse_other_tags(None) == {}


def test_roads_come_from_highways_with_classes_names_and_way_ids(scratch_url, db):
    mapping = get_layer("roads").osm
    wanted = dict(mapping.select)["highway"]
    expected = _ogr_count("lines", f"highway IN ({', '.join(repr(v) for v in wanted)})")
    result = _import(scratch_url, "roads")
    assert result.status == "succeeded" and result.rows_rejected == 0
    assert result.rows_loaded == expected == 1371
    assert db.execute("SELECT count(*) FROM roads WHERE road_id !~ '^way/[0-9]+$'").fetchone()[0] == 0
    classes = dict(db.execute("SELECT road_class, count(*) FROM roads GROUP BY 1"))
    assert set(classes) == {"primary", "secondary", "tertiary", "residential"}
    assert classes["secondary"] == _ogr_count("lines", "highway IN ('secondary', 'secondary_link')")
    # names keep their diacritics, in NFC
    names = {r[0] for r in db.execute("SELECT DISTINCT name FROM roads WHERE name IS NOT NULL")}
    assert {"Đường Hoàng Diệu", "Đường Bạch Đằng", "Đường Nguyễn Văn Linh"} <= names
    assert all(unicodedata.is_normalized("NFC", n) for n in names)


def test_a_point_on_hoang_dieu_lies_on_the_imported_road(scratch_url, db):
    _import(scratch_url, "roads")
    # OSM way 35950868 is Đường Hoàng Diệu; take a point half way along it from the extract
    out = subprocess.run(["ogrinfo", "-ro", "-q", str(EXTRACT), "-sql",
                          "SELECT osm_id FROM lines WHERE osm_id = '35950868'", "-geom=ISO_WKT"],
                         capture_output=True, text=True, check=True).stdout
    line = shapely.from_wkt(out[out.index("LINESTRING"):].splitlines()[0])
    point = line.interpolate(0.5, normalized=True)
    name, metres = db.execute(
        "SELECT name, ST_Distance(geom::geography, ST_SetSRID(ST_Point(%s, %s), 4326)::geography)"
        " FROM roads WHERE road_id = 'way/35950868'", (point.x, point.y)).fetchone()
    assert name == "Đường Hoàng Diệu" and metres < 1.0


def test_water_buildings_and_wifi_places_map_their_tags(scratch_url, db):
    assert _import(scratch_url, "water").rows_loaded == _ogr_count("multipolygons",
                                                                   "natural = 'water'") == 6
    assert db.execute("SELECT count(*) FROM water WHERE name = 'Hồ Thạc Gián'").fetchone()[0] == 1
    assert db.execute("SELECT kind FROM water WHERE name = 'Hồ Công viên 29 tháng 3'"
                      ).fetchone()[0] == "lake"  # water=lake
    buildings = _import(scratch_url, "buildings")
    assert buildings.rows_loaded == _ogr_count("multipolygons", "building IS NOT NULL") == 314
    assert db.execute("SELECT count(*) FROM buildings WHERE floors = 28").fetchone()[0] >= 1
    wifi = _import(scratch_url, "wifi_aps")
    assert wifi.rows_loaded == 50  # the extract's README: 50 places tagged internet_access
    kinds = {r[0].split("/")[0] for r in db.execute("SELECT ap_id FROM wifi_aps")}
    assert kinds == {"node", "way"}  # cafés mapped as areas become a point inside them
    assert db.execute("SELECT address FROM wifi_aps WHERE name = 'Phieu Thanh Toán'"
                      ).fetchone()[0] == "209 Trần Phú"


def test_reimporting_the_same_extract_changes_nothing(scratch_url, db):
    _import(scratch_url, "roads")
    before = db.execute("SELECT road_id, name, road_class, lanes, ST_AsBinary(geom), updated_at"
                        " FROM roads ORDER BY road_id").fetchall()
    for mode in ("upsert", "replace"):
        again = _import(scratch_url, "roads", mode=mode)
        assert again.summary == {"added": 0, "updated": 0, "unchanged": 1371, "removed": 0}
    after = db.execute("SELECT road_id, name, road_class, lanes, ST_AsBinary(geom), updated_at"
                       " FROM roads ORDER BY road_id").fetchall()
    assert after == before


def test_a_newer_extract_upserts_by_osm_id(scratch_url, db, tmp_path):
    _import(scratch_url, "roads")
    renamed = db.execute("SELECT count(*) FROM roads WHERE name = 'Đường Phan Thanh'").fetchone()[0]
    assert renamed >= 1
    newer = tmp_path / "newer.osm"
    newer.write_text(EXTRACT.read_text(encoding="utf-8").replace(
        'v="Đường Phan Thanh"', 'v="Đường Phan Thanh Mới"'), encoding="utf-8")
    result = _import(scratch_url, "roads", newer, mode="upsert")
    assert result.summary == {"added": 0, "updated": renamed, "unchanged": 1371 - renamed,
                              "removed": 0}
    assert db.execute("SELECT name FROM roads WHERE road_id = 'way/35950850'"
                      ).fetchone()[0] == "Đường Phan Thanh Mới"


def test_a_layer_without_a_mapping_refuses_an_osm_file(scratch_url):
    with pytest.raises(ImportFailed, match="declares no OpenStreetMap mapping.*roads"):
        _import(scratch_url, "parcels")


def test_every_mapping_names_declared_fields_and_driver_layers():
    for layer in LAYERS.values():
        if layer.osm is None:
            continue
        declared = {f.name for f in layer.imported_fields}
        assert {name for name, _ in layer.osm.fields} <= declared, layer.id
        assert set(layer.osm.elements) <= {"points", "lines", "multipolygons"}, layer.id
        for name, table in layer.osm.values:
            choices = layer.field(name).choices
            assert not choices or {ours for _, ours in table} <= set(choices), layer.id


def test_schools_and_health_facilities_come_from_amenity_or_healthcare(scratch_url, db):
    amenities = dict(get_layer("facilities").osm.select)["amenity"]
    # GDAL's reader keeps amenity of points and healthcare in other_tags (hstore text)
    tagged = " OR ".join([*(f"other_tags LIKE '%\"amenity\"=>\"{v}\"%'" for v in amenities),
                          "other_tags LIKE '%\"healthcare\"=>%'"])
    column = f"amenity IN ({', '.join(repr(v) for v in amenities)})"
    expected = _ogr_count("points", tagged) + _ogr_count("multipolygons", f"{column} OR {tagged}")
    result = _import(scratch_url, "facilities")
    assert result.status == "succeeded" and result.rows_loaded == expected == 30
    kinds = dict(db.execute("SELECT kind, count(*) FROM facilities GROUP BY 1"))
    assert kinds["school"] >= 10 and kinds["hospital"] >= 5 and kinds["university"] == 2
    # no amenity, or one outside the list: the kind comes from the healthcare tag
    assert {"dentist", "pharmacy"} <= set(kinds) and None not in kinds
    row = db.execute("SELECT kind, address FROM facilities WHERE name = %s",
                     ("Trường Tiểu học Lê Quý Đôn",)).fetchone()
    assert row == ("school", "42 Đường Lê Quý Đôn")
    assert db.execute("SELECT count(*) FROM facilities WHERE facility_id !~ '^(node|way)/[0-9]+$'"
                      ).fetchone()[0] == 0


def test_a_field_listed_twice_takes_the_first_tag_that_gives_it_a_value():
    mapping = get_layer("facilities").osm
    assert mapping.row({"amenity": "clinic", "healthcare": "dentist"})["kind"] == "clinic"
    assert mapping.row({"healthcare": "dentist"})["kind"] == "dentist"
    assert mapping.row({"amenity": "pharmacy", "healthcare": "pharmacy"})["kind"] == "pharmacy"
    assert mapping.row({"healthcare": "blood_donation"})["kind"] is None


def test_a_file_that_is_not_osm_is_refused(scratch_url, tmp_path):
    fake = tmp_path / "roads.osm"
    fake.write_text("this is not XML")
    with pytest.raises((ImportFailed, ImportRefused), match="cannot read roads.osm"):
        _import(scratch_url, "roads", fake)


def test_the_import_api_spool_takes_osm_xml_and_refuses_a_disguised_file(scratch_url, tmp_path):
    from gisapp.errors import BadRequest
    from gisapp.etl_ops import sources
    from gisapp.settings import Settings

    settings = Settings.load({"data_dir": tmp_path / "data"})
    with open(EXTRACT, "rb") as fh:
        prepared = sources.prepare(settings, upload=fh, filename="hai_chau.osm")
    assert prepared.path.suffix == ".osm" and prepared.path.is_relative_to(prepared.spool)
    assert _import(scratch_url, "water", prepared.path).rows_loaded == 6
    disguised = tmp_path / "roads.osm"
    disguised.write_text('{"type": "FeatureCollection", "features": []}')
    with open(disguised, "rb") as fh, pytest.raises(BadRequest, match="not OSM"):
        sources.prepare(settings, upload=fh, filename="roads.osm")
