"""How the live map draws each kind of monitored thing: its classes, their colours and names.

A thing's class comes from its latest readings (gisapp.live.state): a rain gauge by the rain
of the last hour, a pump station by running/stopped and its wet-well level, a lake by its
level against its warning level, a lighting cabinet by on/off/fault. The map's colours and
legend, and the state endpoint's `symbols`, are derived from these declarations.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

NO_DATA = "no_data"  # no reading in the last STALE_AFTER_HOURS before the time asked


@dataclass(frozen=True)
class SymbolClass:
    """One class of a thing kind's live symbol: id, colour, names by language."""

    id: str
    colour: str
    label: dict[str, str] = dc_field(hash=False)


@dataclass(frozen=True)
class LiveSymbol:
    """A thing kind's live classes, most alarming last, and the reading it is coloured by."""

    thing_kind: str
    by: str  # a datastream kind of the thing kind (the value shown next to the symbol)
    classes: tuple[SymbolClass, ...]

    def class_ids(self) -> list[str]:
        return [c.id for c in self.classes]


STALE_AFTER_HOURS = 24
RAIN_WINDOW_MINUTES = 60  # gauges are coloured by the rain of this window
# Upper bounds (mm in the window) of the gauge classes below "very heavy"; the last bound is
# the seeded rain_1h alert's 50 mm, so a red gauge is one that alarms.
RAIN_BOUNDS_MM = (("dry", 0.1), ("light", 10.0), ("moderate", 30.0), ("heavy", 50.0))
PUMP_HIGH_LEVEL_M = 1.5  # a stopped pump with its wet well at or above this is "stopped, high"
LAKE_NEAR_WARNING_M = 0.3  # a lake within this of its warning level is "near warning"

_NONE = SymbolClass(NO_DATA, "#9e9e9e", {"vi": "Không có số liệu", "en": "No data"})

LIVE_SYMBOLS: dict[str, LiveSymbol] = {
    "rain_gauge": LiveSymbol("rain_gauge", "rainfall", (
        _NONE,
        SymbolClass("dry", "#d9f0ff", {"vi": "Không mưa", "en": "Dry"}),
        SymbolClass("light", "#74b9e8", {"vi": "Mưa nhỏ (< 10 mm/giờ)",
                                         "en": "Light (< 10 mm/h)"}),
        SymbolClass("moderate", "#2b7bba", {"vi": "Mưa vừa (10–30 mm/giờ)",
                                            "en": "Moderate (10–30 mm/h)"}),
        SymbolClass("heavy", "#f39c12", {"vi": "Mưa to (30–50 mm/giờ)",
                                         "en": "Heavy (30–50 mm/h)"}),
        SymbolClass("very_heavy", "#c0392b", {"vi": "Mưa rất to (≥ 50 mm/giờ)",
                                              "en": "Very heavy (≥ 50 mm/h)"}),
    )),
    "pump_station": LiveSymbol("pump_station", "wet_well_level", (
        _NONE,
        SymbolClass("running", "#1e8449", {"vi": "Đang chạy", "en": "Running"}),
        SymbolClass("stopped", "#5d6d7e", {"vi": "Đang dừng", "en": "Stopped"}),
        SymbolClass("stopped_high", "#c0392b", {"vi": "Dừng, mực nước cao",
                                                "en": "Stopped, level high"}),
    )),
    "lake": LiveSymbol("lake", "water_level", (
        _NONE,
        SymbolClass("normal", "#2e86c1", {"vi": "Mực nước bình thường", "en": "Normal level"}),
        SymbolClass("near_warning", "#f39c12", {"vi": "Gần mức cảnh báo",
                                                "en": "Near warning level"}),
        SymbolClass("above_warning", "#c0392b", {"vi": "Trên mức cảnh báo",
                                                 "en": "Above warning level"}),
    )),
    "lighting_cabinet": LiveSymbol("lighting_cabinet", "power", (
        _NONE,
        SymbolClass("off", "#34495e", {"vi": "Tắt", "en": "Off"}),
        SymbolClass("on", "#f1c40f", {"vi": "Bật", "en": "On"}),
        SymbolClass("fault", "#8e44ad", {"vi": "Sự cố", "en": "Fault"}),
    )),
}
