"""A layer the caller may not see answers like an unknown layer, in features and tiles alike."""
from __future__ import annotations

import dataclasses

import pytest

from layers import LAYERS, Access
from layers.wifi import WIFI_APS
from tests.auth_helpers import auth_headers

TILE = "14/13117/7451"  # over the demo city


@pytest.fixture()
def staff_wifi(monkeypatch):
    """Wi-Fi access points declared for staff only (every registry layer is public today)."""
    monkeypatch.setitem(LAYERS, WIFI_APS.id, dataclasses.replace(WIFI_APS, access=Access.STAFF))
    return WIFI_APS.id


def _paths(layer_id: str) -> list[str]:
    return [f"/collections/{layer_id}", f"/collections/{layer_id}/items?limit=1",
            f"/tiles/{layer_id}/{TILE}.mvt", f"/tiles/roads,{layer_id}/{TILE}.mvt",
            f"/tiles/{layer_id}.json"]


def test_a_hidden_layer_is_a_404_like_an_unknown_one_everywhere(client, staff_wifi):
    for path in _paths(staff_wifi):
        hidden = client.get(path)
        unknown = client.get(path.replace(staff_wifi, "no_such_layer"))
        assert hidden.status_code == unknown.status_code == 404, path
        assert hidden.json["error"]["code"] == unknown.json["error"]["code"] == "unknown_layer"
        message = hidden.json["error"]["message"]
        assert message == unknown.json["error"]["message"].replace("no_such_layer", staff_wifi)
        assert staff_wifi not in message.split("known layers:")[1], path


def test_a_role_that_may_see_the_layer_gets_it(client, test_url, staff_wifi):
    headers = auth_headers(test_url, "planner")
    for path in _paths(staff_wifi):
        assert client.get(path, headers=headers).status_code in (200, 204), path

