"""Flask-free land-record pieces: land-use codes, as_of dates, points, text folding, index."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

import psycopg
import pytest
from sqlalchemy import create_engine

from gisapp.db.engine import sqlalchemy_url
from gisapp.errors import BadRequest
from gisapp.land import search
from gisapp.land.points import parse_point
from gisapp.land.source import parse_as_of
from layers.city import CITY
from layers.land import PARCELS
from layers.land_use_codes import LAND_USE_CODES, describe_land_use


def test_every_code_the_parcel_style_colours_is_a_known_land_use_code():
    for code, _ in PARCELS.style.by[1]:
        assert code in LAND_USE_CODES, code


def test_both_code_generations_are_known():
    assert LAND_USE_CODES["DDD"].generations == (2024,)
    assert LAND_USE_CODES["DDT"].generations == (2014,)
    assert LAND_USE_CODES["ODT"].generations == (2014, 2024)
    assert describe_land_use("odt")["name_en"] == "Urban residential land"


def test_unknown_land_use_code_keeps_the_code_without_names():
    assert describe_land_use("XYZ") == {"code": "XYZ", "name_vi": None, "name_en": None,
                                        "generations": []}


def test_as_of_is_the_end_of_the_day_in_da_nang():
    moment = parse_as_of("2024-05-31")
    assert moment.astimezone(timezone.utc) == datetime(2024, 5, 31, 17, 0, tzinfo=timezone.utc)
    assert parse_as_of(None) is None and parse_as_of("") is None


@pytest.mark.parametrize("value", ["2024-02-30", "31/05/2024", "2024-05-31T00:00", "x"])
def test_bad_as_of_raises_bad_request(value):
    with pytest.raises(BadRequest, match="YYYY-MM-DD"):
        parse_as_of(value)


def test_vn2000_point_converts_with_the_official_shift():
    # DOMAIN.md §1 test point (Dragon Bridge), verified with pyproj's EPSG transformation 6960
    lon, lat = parse_point({"x": "550846.113", "y": "1776402.965", "crs": CITY.metric_crs})
    assert lon == pytest.approx(108.22705602, abs=1e-7)
    assert lat == pytest.approx(16.06114045, abs=1e-7)


def test_crs_may_be_an_ogc_uri():
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{CITY.metric_srid}"
    lon, _ = parse_point({"x": "550846.113", "y": "1776402.965", "crs": uri})
    assert lon == pytest.approx(108.22705602, abs=1e-7)


@pytest.mark.parametrize("raw,folded", [
    ("Hải Châu", "hai chau"), ("Hoà Cường", "hoa cuong"), ("Hòa Cường", "hoa cuong"),
    ("ĐƯỜNG Đống Đa", "duong dong da"),
    (unicodedata.normalize("NFD", "Trần Phú"), "tran phu"),
])
def test_fold_function_removes_tones_case_and_d_bar(test_url, raw, folded):
    with psycopg.connect(test_url) as conn:
        assert conn.execute("SELECT gisapp_fold(%s)", (raw,)).fetchone()[0] == folded


def test_fold_function_is_immutable(test_url):
    with psycopg.connect(test_url) as conn:
        volatility = conn.execute("SELECT provolatile FROM pg_proc WHERE proname = "
                                  "'gisapp_fold'").fetchone()[0]
    assert volatility == "i"


def test_text_search_uses_the_trigram_index(test_url):
    engine = create_engine(sqlalchemy_url(test_url))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            captured = []
            real_execute = conn.execute

            def explain(stmt, *args, **kwargs):
                from sqlalchemy.dialects import postgresql
                sql = stmt.compile(dialect=postgresql.dialect(),
                                   compile_kwargs={"literal_binds": True,
                                                   "render_postcompile": True})
                captured.extend(r[0] for r in conn.exec_driver_sql(
                    "EXPLAIN " + str(sql)))
                return real_execute(stmt, *args, **kwargs)

            conn.execute = explain
            search.search_text(conn, "Tran Phu")
    finally:
        engine.dispose()
    assert any("ix_parcels_search" in line for line in captured), "\n".join(captured)


@pytest.mark.parametrize("q", ["", "   ", "x" * 201])
def test_search_text_refuses_empty_or_huge_queries(q):
    with pytest.raises(BadRequest):
        search.normalise_query(q)
