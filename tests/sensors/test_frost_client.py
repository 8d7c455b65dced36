"""The SensorThings API through a client we did not write: FROST's Python client (frost-sta-client)
against the app served by gunicorn."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import frost_sta_client as fsc
import pytest
from frost_sta_client.service.auth_handler import AuthHandler

from tests.auth_helpers import make_token
from tests.served import gunicorn


class BearerToken(AuthHandler):
    """Our API tokens travel as `Authorization: Bearer`; FROST's handler speaks Basic only."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def add_auth_header(self):
        def sign(request):
            request.headers["Authorization"] = f"Bearer {self.token}"
            return request
        return sign


@pytest.fixture(scope="module")
def service_url(sensor_url, tmp_path_factory):
    with gunicorn(sensor_url, tmp_path_factory.mktemp("frost"), workers=1, threads=2) as port:
        yield f"http://127.0.0.1:{port}/sta/v1.1"


def test_the_client_lists_things_and_follows_them_to_datastreams(service_url):
    service = fsc.SensorThingsService(service_url)
    things = list(service.things().query().filter("startswith(name, 'TB')")
                  .orderby("name", "ASC").list())
    assert [t.name for t in things] == ["TB-1", "TB-2"]
    streams = list(service.datastreams().query().filter(f"Thing/id eq {things[0].id}")
                   .orderby("name", "ASC").list())
    assert [d.name for d in streams] == ["TB-1: Flow", "TB-1: Pump running",
                                         "TB-1: Wet-well level"]
    flow = service.datastreams().find(streams[0].id)
    assert flow.unit_of_measurement.symbol == "m3/h"


def test_the_client_creates_observations_and_reads_them_back_paged(service_url, sensor_url,
                                                                   streams):
    writer = fsc.SensorThingsService(service_url,
                                     auth_handler=BearerToken(make_token(sensor_url,
                                                                         "etl_operator")))
    stream = writer.datastreams().find(streams["rain_gauge/DM-1/rainfall"])
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=3)
    for k in range(12):
        obs = fsc.Observation(result=float(k), phenomenon_time=(
            start + timedelta(minutes=5 * k)).isoformat().replace("+00:00", "Z"),
            datastream=stream)
        writer.create(obs)
        assert isinstance(obs.id, str) and obs.id.startswith(f"{stream.id}-")
    reader = fsc.SensorThingsService(service_url)
    got = reader.observations().query().filter(f"Datastream/id eq {stream.id} and result ge 2")\
        .orderby("phenomenonTime", "ASC").top(4).list()
    results = [o.result for o in got]  # the entity list follows @iot.nextLink as it iterates
    assert results == [float(k) for k in range(2, 12)]
    one = reader.observations().find(got.entities[0].id)
    assert one.result == 2.0


def test_the_client_sees_server_errors_as_errors(service_url):
    service = fsc.SensorThingsService(service_url)
    with pytest.raises(Exception) as raised:
        service.things().find(999_999)
    assert "404" in str(raised.value) or "no Thing" in str(raised.value)
