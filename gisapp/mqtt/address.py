"""`MQTT_URL`: where the broker listens and which account the ingest subscriber signs in with."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_MQTT_URL = "mqtt://ingest:ingest-dev-only@127.0.0.1:1883"


@dataclass(frozen=True)
class MqttAddress:
    host: str
    port: int
    user: str
    password: str

    @property
    def listen(self) -> str:
        return f"{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttAddress:
    """mqtt://user:password@host:port as its parts; ValueError naming what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"MQTT_URL is not a URL such as {_EXAMPLE}: {exc}") from None
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ValueError(f"MQTT_URL must start with mqtt:// and name a host, like {_EXAMPLE}")
    if not parts.username or not parts.password:
        raise ValueError(f"MQTT_URL must name the ingest account and its password, like "
                         f"{_EXAMPLE}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"MQTT_URL must have no path, query or fragment, like {_EXAMPLE}")
    return MqttAddress(host=parts.hostname, port=port or 1883, user=unquote(parts.username),
                       password=unquote(parts.password))


_EXAMPLE = "mqtt://ingest:secret@127.0.0.1:1883"
