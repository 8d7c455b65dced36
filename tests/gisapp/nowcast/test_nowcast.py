"""The flood now-cast on a known site and known storms: API, CLI and the network model."""
from __future__ import annotations

import psycopg
import pytest
from pyproj import Transformer

from gisapp import create_app
from gisapp.nowcast.hydraulics import full_flow_capacity, peak_runoff
from gisapp.nowcast.network import network_for
from layers.city import CITY
from store.layer_changes import publish_layer_change
from tests.conftest import PUBLIC_URL
from tests.gisapp.nowcast.known_storm import E0, N0, SCENARIOS, build_site, write_elevation

TO_LONLAT = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True).transform


def bbox(x0: float, y0: float, x1: float, y1: float) -> str:
    """A lon/lat bbox of local metres."""
    return ",".join(str(v) for v in (*TO_LONLAT(E0 + x0, N0 + y0), *TO_LONLAT(E0 + x1, N0 + y1)))


@pytest.fixture(scope="module")
def site_url(own_database, tmp_path_factory) -> str:
    url = own_database("nowcast")
    tif = tmp_path_factory.mktemp("nowcast") / "elevation.tif"
    write_elevation(tif)
    build_site(url, tif)
    return url


@pytest.fixture(scope="module")
def site_app(site_url, tmp_path_factory):
    app = create_app({"DATABASE_URL": site_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("data"), "PUBLIC_URL": PUBLIC_URL})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def nowcast(site_app):
    client = site_app.test_client()

    def get(scenario: str, horizon: int = 0, **more) -> dict:
        at = SCENARIOS[scenario].isoformat()
        response = client.get("/api/nowcast",
                              query_string={"at": at, "horizon": horizon, **more})
        assert response.status_code == 200, response.get_json()
        assert response.headers["Content-Type"] == "application/geo+json"
        return response.get_json()
    return get


def _risks(fc: dict) -> dict[str, str]:
    """Risk by feature: streets as road@node (node of its catchment), parcels by uid."""
    out = {}
    for f in fc["features"]:
        p = f["properties"]
        key = (f"{p['road_id']}@{p['explain']['catchment']['node_id']}" if p["kind"] == "street"
               else p["parcel_uid"])
        out[key] = p["risk"]
    return out


def test_manning_and_rational_formulas():
    # 600 mm concrete at 4 per mille: (1/0.013) * 0.2827 * 0.15^(2/3) * 0.0632 = 0.388 m3/s
    assert full_flow_capacity(600, 0.004, "concrete") == pytest.approx(0.388, abs=0.001)
    assert full_flow_capacity(600, 0.0, "concrete") < full_flow_capacity(600, 0.004, "concrete")
    assert full_flow_capacity(None, 0.01, "hdpe") == 0.0
    assert peak_runoff(80.0, 10_000.0) == pytest.approx(0.75 * 80 * 10_000 / 3_600_000)


def test_storm_flags_the_wet_wards_streets_and_parcels_not_the_dry_ones(nowcast):
    fc = nowcast("storm")
    risks = _risks(fc)
    wet = {"R-W1@HG-W1-1", "R-W1@HG-W1-2", "R-W1@TB-W1", "W1-W1-1-1", "W1-W1-1-2"}
    assert {k: risks.get(k) for k in wet} == {k: "high" for k in wet}
    assert not [k for k in risks if "D1" in k], "the dry ward has nothing at risk"
    assert "R-W1@CX-W1" not in risks  # the outfall's own stretch drains freely
    gauges = {g["code"]: g for g in fc["gauges"]}
    assert gauges["rain_gauge/DM-W1"]["last_hour_mm"] == pytest.approx(80.0)
    assert gauges["rain_gauge/DM-D1"]["last_hour_mm"] == 0.0
    assert gauges["rain_gauge/DM-D1"]["used"] is True
    assert [(p["node_id"], p["outlet_closed"]) for p in fc["pumps_stopped"]] == [("TB-W1", True)]
    assert fc["disclaimer"]["en"].startswith("The flood now-cast is a decision aid")
    assert "không phải mô hình thủy lực" in fc["disclaimer"]["vi"]
    assert fc["counts"]["high"] == len(wet) and fc["counts"]["medium"] == 0


def test_each_result_explains_its_inputs(nowcast):
    fc = nowcast("storm")
    by_id = {f["id"]: f for f in fc["features"]}
    low = by_id["parcel/W1-W1-1-1"]["properties"]
    e = low["explain"]
    assert e["rain_mm_h"] > 70  # IDW: the wet gauge is 100 m away, the dry one 1,000 m
    assert e["catchment"]["node_id"] == "HG-W1-1" and e["catchment"]["ward"] == "W1"
    assert e["catchment"]["area_m2"] > 10_000
    assert e["runoff"]["method"] == "rational" and e["runoff"]["c"] == 0.75
    assert e["pump_stopped"] == "TB-W1"
    assert e["pipe"]["from_node"] == "TB-W1" and e["pipe"]["capacity_m3_s"] == 0.0
    assert e["low_point_depth_m"] >= 0.5  # the 0.6 m dip under it
    assert e["flood_zone"] == {"zone_id": "FZ-W", "risk": "high", "typical_depth_m": 0.5}
    assert [r["code"] for r in e["reasons"]] == ["pump_stopped", "low_point", "flood_zone"]
    assert low["label"]["en"] == "Parcel W1-W1-1-1 (Phường Ướt): high flood risk"
    assert low["label"]["vi"].startswith("Thửa W1-W1-1-1 (Phường Ướt)")
    assert by_id["parcel/W1-W1-1-2"]["properties"]["explain"]["low_point_depth_m"] < 0.15


def test_no_rain_puts_nothing_at_risk(nowcast):
    fc = nowcast("dry")
    assert fc["features"] == [] and fc["counts"] == {"high": 0, "medium": 0, "low": 0}
    assert all(g["last_hour_mm"] == 0.0 for g in fc["gauges"])


def test_a_stopped_pump_raises_the_risk_of_its_basin(nowcast):
    running = _risks(nowcast("moderate"))
    stopped = nowcast("moderate_stopped")
    assert not [k for k, r in running.items() if r != "low"], running
    risks = _risks(stopped)
    for key in ("R-W1@HG-W1-1", "R-W1@HG-W1-2", "R-W1@TB-W1", "W1-W1-1-2"):
        assert risks[key] == "high", key
        assert running.get(key) in (None, "low")
    assert all(f["properties"]["explain"]["pump_stopped"] == "TB-W1"
               for f in stopped["features"])


def test_an_idle_pump_with_a_steady_well_closes_nothing(nowcast):
    fc = nowcast("moderate_idle")
    assert [(p["node_id"], p["outlet_closed"]) for p in fc["pumps_stopped"]] == [("TB-W1", False)]
    assert _risks(fc) == _risks(nowcast("moderate"))


def test_a_falling_trend_lowers_the_risk_ahead(nowcast):
    now = nowcast("falling", 0)
    ahead = nowcast("falling", 1)
    assert now["features"], "40 mm/h loads the pipes now"
    assert ahead["features"] == []  # 40 + (40 - 80) = 0 mm/h an hour on
    gauge = {g["code"]: g for g in ahead["gauges"]}["rain_gauge/DM-W1"]
    assert gauge["intensity_mm_h"] == 0.0 and ahead["horizon_h"] == 1
    assert ahead["valid_at"] > now["valid_at"]
    rising = nowcast("storm", 2)  # steady 80 mm/h stays 80 mm/h
    assert {g["code"]: g for g in rising["gauges"]}["rain_gauge/DM-W1"]["intensity_mm_h"] == 80.0


def test_a_bbox_keeps_what_touches_it(nowcast):
    west = nowcast("storm", bbox=bbox(0, 195, 90, 260))  # parcel W1-W1-1-1, M1's stretch
    assert sorted(_risks(west)) == ["R-W1@HG-W1-1", "W1-W1-1-1"]
    assert west["bbox"] == pytest.approx([float(v) for v in bbox(0, 195, 90, 260).split(",")])
    assert nowcast("storm", bbox=bbox(1000, 0, 1400, 400))["features"] == []  # the dry ward


@pytest.mark.parametrize("query, words", [
    ({"bbox": "1,2,3"}, "4 or 6"),
    ({"bbox": "108.3,16.0,108.2,16.1"}, "antimeridian"),
    ({"at": "yesterday"}, "ISO 8601"),
    ({"at": "2026-10-15T14:00:00"}, "timezone"),
    ({"at": "1900-01-01T00:00:00Z"}, "between"),
    ({"at": "2999-01-01T00:00:00Z"}, "between"),
    ({"horizon": "4"}, "0 to 3"),
    ({"horizon": "-1"}, "0 to 3"),
    ({"horizon": "1.5"}, "0 to 3"),
])
def test_bad_parameters_are_400_json(site_app, query, words):
    response = site_app.test_client().get("/api/nowcast", query_string=query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] and words in error["message"]


def test_anonymous_callers_get_public_fields_only(nowcast):
    fc = nowcast("storm")
    parcel = next(f for f in fc["features"] if f["properties"]["kind"] == "parcel")
    assert set(parcel["properties"]) <= {"kind", "risk", "label", "explain", "parcel_uid",
                                         "ward_code", "land_use", "street", "address"}


def test_cli_prints_the_summary(site_url, runner):
    result = runner("sensors", "nowcast", "--at", SCENARIOS["storm"].isoformat(),
                    env={"DATABASE_URL": site_url})
    assert result.exit_code == 0, result.output
    assert "at risk: 5 high, 0 medium, 0 low" in result.output
    assert "TB-W1" in result.output and "outlet closed" in result.output
    assert "80.0 mm/h" in result.output
    bad = runner("sensors", "nowcast", "--horizon", "9", env={"DATABASE_URL": site_url})
    assert bad.exit_code != 0 and "0 to 3" in bad.output


def test_the_network_is_kept_until_an_input_layer_changes(site_url, tmp_path):
    with psycopg.connect(site_url) as conn:
        first = network_for(conn, tmp_path)
        assert network_for(conn, tmp_path) is first
        assert len(first.node_ids) == 8 and len(first.targets) == 12  # 8 street pieces, 4 parcels
        publish_layer_change(conn, "drainage_pipes", None, None)  # as an import does
        second = network_for(conn, tmp_path)
        assert second is not first and second.version != first.version
        assert network_for(conn, tmp_path) is second
        conn.rollback()
