"""No 5xx from any input: every rule of the URL map, every method, every role, hostile values
in each path variable, query parameter, form field and JSON field (issue 11, class 1).

Reads (GET) walk the demo city; writes walk a scratch database holding the small land world
and the seeded permit rules, so the demo city's data never changes.
"""
from __future__ import annotations

import psycopg
import pytest
from pyproj import Transformer

from gisapp import create_app
from layers import LAYERS, ROLES
from layers.city import CITY
from tests.auth_helpers import auth_headers, csrf_from
from tests.conftest import demo_app_config
from tests.gisapp.hardening.route_walker import (Target, Walk, documented_names,
                                                 install_recorder, rule_targets, walk_target)
from tests.gisapp.permits.known_site import copy_rules
from tests.land_world import E0, LEFT, N0, OTHER_FORMER, RIGHT, UID, load_land_world
from tests.tiles.conftest import center_tile

ORDER = ["admin", "permit_officer", "planner", "etl_operator", "public"]
TO_WGS = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True)


def _rect(x0: float, y0: float, x1: float, y1: float, crs: str = CITY.metric_crs) -> dict:
    """A rectangle in metres east and north of the land world's origin (E0, N0)."""
    ring = [(E0 + x, N0 + y) for x, y in [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]]
    if crs != CITY.metric_crs:
        ring = [TO_WGS.transform(x, y) for x, y in ring]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


# Valid bodies of the write routes. In the land world parcel 124 (LEFT) spans E0..E0+10,
# N0..N0+20; the merge takes 125 and 126, the split the other ward's 125 (E0+300..310).
BODIES = {
    "admin.tokens_create": {"user": "test-admin", "label": "walker"},
    "admin.users_create": {"name": "walker", "role": "planner"},
    "analysis.area_query": {"layer": "parcels", "polygon": _rect(0, 0, 120, 100, "4326"),
                            "group_by": "land_use", "sum": "legal_area"},
    "etl.create_import": {"layer": "street_lights", "path": "lights.geojson", "mode": "upsert"},
    "etl.create_schedule": {"layer": "street_lights", "source": "nightly/lights.csv",
                            "cron": "30 1 * * *", "options": {"mode": "upsert"}},
    "etl.update_schedule": {"cron": "0 2 * * *", "enabled": False},
    "etl.cancel": {},
    "parcels.parcel_split": {"parts": [
        {"geometry": _rect(300, 0, 310, 10, "4326"), "parcel_no": 901},
        {"geometry": _rect(300, 10, 310, 20, "4326")}]},
    "parcels.parcel_merge": {"parcels": [UID, RIGHT], "parcel_no": 902},
    "permits.create_check": [
        {"parcel_uid": LEFT, "use": "residential", "floors": 3, "height_m": 12.0,
         "footprint": _rect(1, 1, 9, 19), "footprint_crs": CITY.metric_crs},
        {"parcel_uid": LEFT, "use": "residential", "floors": 3, "height_m": 12.0,
         "footprint_area_m2": 144.0}],
    "permits.check_override": {"rule_id": "floors", "status": "pass",
                               "reason": "checked on site by the officer"},
    "permits.rules_add_version": {"params": {"max_floors": 5}, "source": "walker",
                                  "valid_from": "2030-01-01", "note": "n", "enabled": False},
    "permits.rules_set_enabled": {"enabled": True},
    "admin.tokens_revoke": {},
    "etl.delete_schedule": {},
}
NOT_FOUND = {"etl.create_import", "etl.cancel", "admin.tokens_revoke"}  # no source, run, token
FORMS = {"login.login_submit": {"username": "test-admin", "password": "wrong", "next": "/map"},
         "login.logout_submit": {}}
FORM_ENDPOINTS = {"etl.create_raster": {"name": "walker", "unit": "m"}}


def _demo_path_values(url: str) -> dict[str, list[str]]:
    with psycopg.connect(url) as conn:
        one = lambda q: str(conn.execute(q).fetchone()[0])  # noqa: E731
        values = {
            "uid": [one("SELECT parcel_uid FROM parcels ORDER BY id LIMIT 1")],
            "code": [one("SELECT code FROM wards ORDER BY code LIMIT 1")],
            "cabinet_id": [one("SELECT cabinet_id FROM lighting_cabinets ORDER BY 1 LIMIT 1")],
            "rule_id": [one("SELECT rule_id FROM permit_rules ORDER BY 1 LIMIT 1")],
            "name": [r[0] for r in conn.execute("SELECT name FROM rasters ORDER BY name")],
        }
    tile = center_tile()
    values["name"] += ["default"]
    values.update(layer_id=["parcels", *[i for i in LAYERS if i != "parcels"]],
                  layers=["parcels", ",".join(LAYERS), *[i for i in LAYERS if i != "parcels"]],
                  z=[str(tile.z)], x=[str(tile.x)], y=[str(tile.y)], feature_id=["1", "2"],
                  filename=["js/dom.js"])
    return values


def _scratch_path_values() -> dict[str, list[str]]:
    return {"uid": [OTHER_FORMER], "rule_id": ["floors"], "code": ["20242"], "check_id": ["1"],
            "version": ["1"], "schedule_id": ["1"], "run_id": ["1"], "token_id": ["1"]}


def _targets(pairs, path_values: dict[str, list[str]], csrf: str) -> list[Target]:
    out = []
    for rule, method in pairs:
        values = {name: path_values.get(name, ["1"]) for name in rule.arguments}
        if rule.endpoint in FORMS:
            out.append(Target(rule, method, values,
                              form={**FORMS[rule.endpoint], "csrf_token": csrf}))
        elif rule.endpoint in FORM_ENDPOINTS:
            out.append(Target(rule, method, values, form=FORM_ENDPOINTS[rule.endpoint]))
        elif method != "GET":
            bodies = BODIES.get(rule.endpoint, {})
            for body in bodies if isinstance(bodies, list) else [bodies]:
                out.append(Target(rule, method, values, body=body))
        else:
            out.append(Target(rule, method, values))
    return out


def _walk(app, url: str, reads: bool) -> Walk:
    install_recorder(app)
    headers = {role: auth_headers(url, role) for role in ROLES}
    clients = {role: app.test_client() for role in ROLES}
    csrf = csrf_from(clients["public"].get("/login").get_data(as_text=True))
    walk = Walk(client_for=clients.__getitem__, headers_for=headers.__getitem__)
    pairs = [(r, m) for r, m in rule_targets(app) if (m == "GET") == reads]
    values = _demo_path_values(url) if reads else _scratch_path_values()
    documented = documented_names(app)
    roles = [r for r in ORDER if r in ROLES]
    blueprints: set[str] = set()
    for target in _targets(pairs, values, csrf):
        blueprint = target.rule.endpoint.rpartition(".")[0]
        walk_target(walk, target, roles, documented, ORDER, blueprint not in blueprints)
        blueprints.add(blueprint)
    return walk


def _report(walk: Walk) -> str:
    shown = "\n".join(walk.failures[:60])
    return f"{len(walk.failures)} of {walk.sent} requests failed:\n{shown}"


@pytest.fixture()
def recorded_app(test_url: str, tmp_path):
    """An app of its own over the demo city: the walk installs its recorder in it."""
    app = create_app(demo_app_config(test_url, tmp_path / "data"))
    yield app
    app.extensions["engine"].dispose()


def test_no_read_route_answers_5xx_to_hostile_input(recorded_app, test_url):
    walk = _walk(recorded_app, test_url, reads=True)
    assert walk.sent > 2000
    assert not walk.failures, _report(walk)


@pytest.fixture()
def world_url(scratch_url: str, test_url: str) -> str:
    load_land_world(scratch_url)
    copy_rules(test_url, scratch_url)
    return scratch_url


def test_no_write_route_answers_5xx_to_hostile_input(scratch_app, world_url):
    walk = _walk(scratch_app, world_url, reads=False)
    # The valid bodies must stay valid, or the hostile values stop reaching the code behind.
    refused = {e: s for e, s in walk.baselines.items() if e in BODIES and e not in NOT_FOUND
               and any(code is None or code >= 400 for code in s)}
    assert not refused, refused
    assert walk.sent > 1000
    assert not walk.failures, _report(walk)
