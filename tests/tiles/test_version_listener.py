"""The tile-version listener in an outage: it retries each second, warns once, and says once
that it is back (a database down for a minute used to log 60 warnings per process)."""
from __future__ import annotations

import logging
import time

from tests.db_proxy import proxied
from tests.pg_cluster import wait_for
from tiles.versions import LayerVersions


def _records(caplog, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "tiles.versions" and r.levelno == level]


def test_an_outage_is_a_warning_once_and_the_return_an_info_once(test_url, caplog):
    # The proxy stays up after the test: cut, the listener (a daemon thread) would start a
    # new outage of its own and warn again while the worker runs on.
    proxy, url = proxied(test_url)
    versions = LayerVersions(url)
    with caplog.at_level(logging.INFO, logger="tiles.versions"):
        assert versions.get(["parcels"])[0] > 0  # starts the listener
        assert wait_for(lambda: proxy.sockets, 10)  # it holds its connection
        proxy.cut()
        time.sleep(2.5)  # the lost connection, then two or three retries refused
        proxy.start()
        assert wait_for(lambda: _records(caplog, logging.INFO), 10)
    warnings = _records(caplog, logging.WARNING)
    assert len(warnings) == 1 and "lost its connection" in warnings[0]
    back = _records(caplog, logging.INFO)
    assert len(back) == 1 and "connected again after" in back[0]
    assert int(back[0].split("after ")[1].split()[0]) >= 2
