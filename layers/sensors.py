"""Live monitoring: the rain-gauge layer and the datastreams each kind of monitored asset has.

A thing kind says which layer's features are monitored things (pump stations are the
drainage nodes of kind `pump_station`, lakes the water bodies of kind `lake`) and which
datastreams each one carries, following the OGC SensorThings API 1.1 model: an observed
property, a unit of measurement, an observation type and the interval a device reports at.
Things, sensors and datastreams in the database are derived from these declarations
(store.sensor_things), never typed anywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from layers.model import Field, FieldType as T, Label, Layer, Style

# OGC O&M 2.0 observation types the SensorThings API names.
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
TRUTH = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation"
CATEGORY = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CategoryObservation"
OBSERVATION_TYPES = (MEASUREMENT, TRUTH, CATEGORY)

RAIN_GAUGES = Layer(
    id="rain_gauges",
    title={"vi": "Trạm đo mưa", "en": "Rain gauges"},
    theme="drainage",
    key=("gauge_id",),
    geometry_type="Point",
    minzoom=11,
    style=Style("circle", "#31a354", radius=6.0, opacity=1.0, label="name",
                labels=(Label("name", minzoom=14, size=11),)),
    fields=(
        Field("gauge_id", T.TEXT, {"vi": "Mã trạm", "en": "Gauge id"},
              required=True, sources=("ma_tram",)),
        Field("name", T.TEXT, {"vi": "Tên trạm", "en": "Name"}, sources=("ten_tram",)),
        Field("ward_code", T.TEXT, {"vi": "Mã phường", "en": "Ward code"}, sources=("ma_xa",)),
        Field("ground_level", T.FLOAT, {"vi": "Cao độ mặt đất", "en": "Ground level"}, unit="m",
              sources=("cao_do_md",)),
    ),
)


@dataclass(frozen=True)
class Unit:
    """A unit of measurement as SensorThings writes it (name, symbol, definition URI)."""

    name: str
    symbol: str
    definition: str


@dataclass(frozen=True)
class ObservedProperty:
    """What is observed: a stable id, names by language and a definition URI."""

    id: str
    name: dict[str, str] = dc_field(hash=False)
    definition: str = ""


@dataclass(frozen=True)
class DatastreamKind:
    """One series a thing of a kind reports: property, unit, type, nominal interval.

    `valid` bounds a plausible numeric result (readings outside are refused with a reason);
    truth observations are stored as 1.0/0.0 so hourly and daily aggregates give the share
    of time a pump ran or a cabinet was on. `accumulates` marks an amount per interval (rain
    in mm per 5 min): a chart of it sums a bucket's readings instead of averaging them.
    """

    id: str
    observed_property: ObservedProperty
    unit: Unit | None
    observation_type: str
    interval_s: int
    valid: tuple[float, float] | None = None
    accumulates: bool = False


@dataclass(frozen=True)
class ThingKind:
    """A kind of monitored asset: the layer features it is, its sensor and its datastreams.

    `where` selects the layer's features that are things of this kind (field, value); None
    takes every feature. `name_field` names a thing after its feature.
    """

    id: str
    title: dict[str, str] = dc_field(hash=False)
    layer: str = ""
    where: tuple[str, str] | None = None
    name_field: str | None = None
    sensor: str = ""
    datastreams: tuple[DatastreamKind, ...] = ()

    def datastream(self, kind_id: str) -> DatastreamKind:
        for kind in self.datastreams:
            if kind.id == kind_id:
                return kind
        raise KeyError(f"thing kind {self.id} has no datastream {kind_id!r}")


UCUM = "http://unitsofmeasure.org/ucum.html#"
MM = Unit("millimetre", "mm", UCUM + "mm")
METRE = Unit("metre", "m", UCUM + "m")
CUBIC_METRE_PER_HOUR = Unit("cubic metre per hour", "m3/h", UCUM + "m3/h")
MG_PER_L = Unit("milligram per litre", "mg/L", UCUM + "mg/L")
PH = Unit("pH", "pH", UCUM + "[pH]")
NTU = Unit("nephelometric turbidity unit", "NTU", "https://qudt.org/vocab/unit/NTU")
KILOWATT = Unit("kilowatt", "kW", UCUM + "kW")

DEF = "https://gisapp.danang.example/def/property/"
RAINFALL = ObservedProperty("rainfall", {"vi": "Lượng mưa", "en": "Rainfall"}, DEF + "rainfall")
PUMP_RUNNING = ObservedProperty("pump_running", {"vi": "Bơm đang chạy", "en": "Pump running"},
                                DEF + "pump_running")
FLOW = ObservedProperty("flow", {"vi": "Lưu lượng", "en": "Flow"}, DEF + "flow")
WET_WELL_LEVEL = ObservedProperty("wet_well_level", {"vi": "Mực nước bể hút",
                                                     "en": "Wet-well level"},
                                  DEF + "wet_well_level")
WATER_LEVEL = ObservedProperty("water_level", {"vi": "Mực nước", "en": "Water level"},
                               DEF + "water_level")
DISSOLVED_OXYGEN = ObservedProperty("dissolved_oxygen", {"vi": "Ôxy hoà tan",
                                                         "en": "Dissolved oxygen"},
                                    DEF + "dissolved_oxygen")
PH_VALUE = ObservedProperty("ph", {"vi": "Độ pH", "en": "pH"}, DEF + "ph")
TURBIDITY = ObservedProperty("turbidity", {"vi": "Độ đục", "en": "Turbidity"}, DEF + "turbidity")
LIGHTS_ON = ObservedProperty("lights_on", {"vi": "Đèn bật", "en": "Lights on"},
                             DEF + "lights_on")
POWER = ObservedProperty("power", {"vi": "Công suất tiêu thụ", "en": "Power draw"},
                         DEF + "power")
FAULT = ObservedProperty("fault", {"vi": "Sự cố", "en": "Fault"}, DEF + "fault")

THING_KINDS: dict[str, ThingKind] = {
    "rain_gauge": ThingKind(
        id="rain_gauge", title={"vi": "Trạm đo mưa", "en": "Rain gauge"},
        layer="rain_gauges", name_field="name", sensor="tipping-bucket rain gauge",
        datastreams=(DatastreamKind("rainfall", RAINFALL, MM, MEASUREMENT, 300, (0.0, 200.0),
                                    accumulates=True),)),
    "pump_station": ThingKind(
        id="pump_station", title={"vi": "Trạm bơm", "en": "Pump station"},
        layer="drainage_nodes", where=("kind", "pump_station"), name_field="node_id",
        sensor="pump station PLC",
        datastreams=(DatastreamKind("running", PUMP_RUNNING, None, TRUTH, 60),
                     DatastreamKind("flow", FLOW, CUBIC_METRE_PER_HOUR, MEASUREMENT, 60,
                                    (0.0, 50_000.0)),
                     DatastreamKind("wet_well_level", WET_WELL_LEVEL, METRE, MEASUREMENT, 60,
                                    (-20.0, 20.0)))),
    "lake": ThingKind(
        id="lake", title={"vi": "Hồ", "en": "Lake"},
        layer="water", where=("kind", "lake"), name_field="name",
        sensor="multi-parameter water quality sonde",
        datastreams=(DatastreamKind("water_level", WATER_LEVEL, METRE, MEASUREMENT, 900,
                                    (-10.0, 20.0)),
                     DatastreamKind("dissolved_oxygen", DISSOLVED_OXYGEN, MG_PER_L, MEASUREMENT,
                                    900, (0.0, 30.0)),
                     DatastreamKind("ph", PH_VALUE, PH, MEASUREMENT, 900, (0.0, 14.0)),
                     DatastreamKind("turbidity", TURBIDITY, NTU, MEASUREMENT, 900,
                                    (0.0, 4000.0)))),
    "lighting_cabinet": ThingKind(
        id="lighting_cabinet", title={"vi": "Tủ chiếu sáng", "en": "Lighting cabinet"},
        layer="lighting_cabinets", name_field="name", sensor="lighting cabinet controller",
        datastreams=(DatastreamKind("lights_on", LIGHTS_ON, None, TRUTH, 300),
                     DatastreamKind("power", POWER, KILOWATT, MEASUREMENT, 300, (0.0, 500.0)),
                     DatastreamKind("fault", FAULT, None, TRUTH, 300))),
}

# The layers monitored things are registered from: what a sensor read's version depends on.
THING_LAYERS = tuple(sorted({kind.layer for kind in THING_KINDS.values()}))


def observed_properties() -> dict[str, ObservedProperty]:
    """Every declared observed property by id."""
    return {ds.observed_property.id: ds.observed_property
            for kind in THING_KINDS.values() for ds in kind.datastreams}
