"""SensorThings MQTT topics: `v1.1/Datastreams(<id>)/Observations` names the datastream."""
from __future__ import annotations

import re

VERSION = "v1.1"
# The ingest subscription: every v1.1 topic, so a reading on a wrong topic is dead-lettered
# with a reason instead of vanishing. `$share/` spreads it over several subscribers.
SUBSCRIPTION = f"{VERSION}/#"
SHARE_GROUP = "gisapp-ingest"
_OBSERVATIONS = re.compile(r"v1\.1/Datastreams\(([1-9][0-9]{0,17})\)/Observations")


def observations_topic(datastream_id: int) -> str:
    """Where a device publishes the readings of one datastream."""
    return f"{VERSION}/Datastreams({int(datastream_id)})/Observations"


def datastream_of(topic: str) -> int | None:
    """The datastream id a topic names, or None when it is not an Observations topic."""
    match = _OBSERVATIONS.fullmatch(topic)
    return int(match.group(1)) if match else None
