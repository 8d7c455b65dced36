"""The registry: every layer and table, in one explicit dict each."""
from __future__ import annotations

from layers.base import BUILDINGS, ROADS, WARDS, WATER
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from layers.facilities import FACILITIES
from layers.land import LAND_USES, PARCELS, PARTIES, RIGHTS
from layers.lighting import LIGHTING_CABINETS, STREET_LIGHTS
from layers.model import Layer, Table
from layers.planning import FLOOD_ZONES, HERITAGE_AREAS, ROAD_RESERVES, ZONING
from layers.sensors import RAIN_GAUGES
from layers.wifi import WIFI_APS

LAYERS: dict[str, Layer] = {
    "wards": WARDS,
    "water": WATER,
    "roads": ROADS,
    "buildings": BUILDINGS,
    "parcels": PARCELS,
    "drainage_pipes": DRAINAGE_PIPES,
    "drainage_nodes": DRAINAGE_NODES,
    "rain_gauges": RAIN_GAUGES,
    "lighting_cabinets": LIGHTING_CABINETS,
    "street_lights": STREET_LIGHTS,
    "wifi_aps": WIFI_APS,
    "zoning": ZONING,
    "road_reserves": ROAD_RESERVES,
    "flood_zones": FLOOD_ZONES,
    "heritage_areas": HERITAGE_AREAS,
    "facilities": FACILITIES,
}

TABLES: dict[str, Table] = {
    "parties": PARTIES,
    "rights": RIGHTS,
    "parcel_land_uses": LAND_USES,
}

THEMES: dict[str, dict[str, str]] = {
    "base": {"vi": "Nền", "en": "Base map"},
    "land": {"vi": "Đất đai", "en": "Land"},
    "drainage": {"vi": "Thoát nước", "en": "Drainage"},
    "lighting": {"vi": "Chiếu sáng", "en": "Lighting"},
    "wifi": {"vi": "Wi-Fi", "en": "Wi-Fi"},
    "planning": {"vi": "Quy hoạch", "en": "Planning"},
    "hazards": {"vi": "Rủi ro thiên tai", "en": "Hazards"},
}

# The themes a map opens with: the base map, land use and the plan; the networks are one
# click away, a theme at a time.
DEFAULT_THEMES: tuple[str, ...] = ("base", "land", "planning")


class UnknownLayer(LookupError):
    """A layer or table id that the registry does not hold."""

    def __init__(self, layer_id: str):
        self.layer_id = layer_id
        super().__init__(f"unknown layer {layer_id!r}; known layers: {', '.join(LAYERS)}")


def get_layer(layer_id: str) -> Layer:
    """The declared layer with this id, or UnknownLayer."""
    try:
        return LAYERS[layer_id]
    except KeyError:
        raise UnknownLayer(layer_id) from None


def get_table(table_id: str) -> Table:
    """A layer or non-spatial table by id, or UnknownLayer."""
    if table_id in LAYERS:
        return LAYERS[table_id]
    try:
        return TABLES[table_id]
    except KeyError:
        raise UnknownLayer(table_id) from None
