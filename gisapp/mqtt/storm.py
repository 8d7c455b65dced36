"""A demo storm: the readings the demo city's sensors would send through one, over MQTT.

A deterministic October storm (no randomness, so a demo and a test see the same one):
rain rises to a peak of 90 mm/h at 40% of its duration and falls off (a triangular
hyetograph, each gauge scaled 0.7-1.3 and lagged by up to 30 minutes by its position), so
the wettest gauge passes 50 mm in an hour. Pump stations' wet wells fill with the rain and
their pumps start at 1.5 m and stop at 0.8 m; the first station trips at the peak for 40
minutes (stopped while its level rises). Lakes rise with the rain that fell, turn turbid and
lose oxygen. Lighting cabinets are on from 18:00 to 06:00 (Da Nang time); the first one
faults (flooded) after the peak. Readings follow each datastream's declared interval.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

import psycopg

PEAK_MM_PER_H = 90.0
PEAK_AT = 0.4  # of the duration
CITY_TZ = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Stream:
    """A datastream the storm feeds: its id, thing kind, datastream kind, interval and the
    rank of its thing among the things of its kind."""

    id: int
    thing_kind: str
    kind: str
    interval_s: int
    rank: int


def demo_streams(conn: psycopg.Connection) -> list[Stream]:
    """Every datastream of the registered things, ranked by thing code within each kind."""
    rows = conn.execute(
        "SELECT d.id, t.kind, d.kind, d.interval_s,"
        " dense_rank() OVER (PARTITION BY t.kind ORDER BY t.code) - 1"
        " FROM datastreams d JOIN things t ON t.id = d.thing_id ORDER BY t.kind, t.code, d.kind")
    return [Stream(*r) for r in rows]


def rain_mm_per_h(fraction: float, rank: int) -> float:
    """Rain intensity at a gauge `fraction` of the way through the storm."""
    scale = 0.7 + 0.6 * ((rank * 0.37) % 1.0)
    lagged = fraction - 0.05 * ((rank * 0.61) % 1.0)
    if lagged <= 0 or lagged >= 1:
        return 0.0
    shape = lagged / PEAK_AT if lagged < PEAK_AT else (1 - lagged) / (1 - PEAK_AT)
    return PEAK_MM_PER_H * scale * shape


def storm_readings(streams: list[Stream], start: datetime,
                   hours: float) -> Iterator[tuple[datetime, int, object]]:
    """(phenomenon time, datastream id, result) in time order, from `start` for `hours`."""
    step_s = math.gcd(*{s.interval_s for s in streams}) if streams else 60
    steps = int(hours * 3600 // step_s)
    pumps: dict[int, dict] = {}
    rained = {rank: 0.0 for rank in {s.rank for s in streams}}  # mm fallen so far, by rank
    trip = 40 / (60 * hours)  # the first pump station trips for 40 minutes at the peak
    for n in range(steps + 1):
        when = start + timedelta(seconds=n * step_s)
        fraction = n / steps if steps else 1.0
        for rank in rained:
            rained[rank] += rain_mm_per_h(fraction, rank) * step_s / 3600
        for s in streams:
            if (n * step_s) % s.interval_s:
                continue
            value = _reading(s, when, fraction, rained[s.rank], pumps, step_s, trip)
            if value is not None:
                yield when, s.id, value


def _reading(s: Stream, when: datetime, fraction: float, rain_so_far: float,
             pumps: dict[int, dict], step_s: int, trip: float) -> object:
    if s.thing_kind == "rain_gauge":
        return round(rain_mm_per_h(fraction, s.rank) * s.interval_s / 3600, 2)
    if s.thing_kind == "pump_station":
        state = _pump(pumps, s.rank, fraction, rain_mm_per_h(fraction, s.rank), when, step_s,
                      trip)
        return {"running": state["running"], "flow": 1200.0 if state["running"] else 0.0,
                "wet_well_level": round(state["level"], 3)}[s.kind]
    if s.thing_kind == "lake":
        intensity = rain_mm_per_h(fraction, s.rank)
        return {"water_level": round(1.2 + 0.006 * rain_so_far, 3),
                "dissolved_oxygen": round(max(2.0, 6.5 - 0.04 * intensity), 2),
                "ph": round(7.2 - 0.004 * intensity, 2),
                "turbidity": round(12 + 2.5 * intensity, 1)}[s.kind]
    if s.thing_kind == "lighting_cabinet":
        hour = when.astimezone(CITY_TZ).hour
        on = hour >= 18 or hour < 6
        faulted = s.rank == 0 and fraction > PEAK_AT + 0.05
        return {"lights_on": on and not faulted, "power": 12.0 if on and not faulted else 0.0,
                "fault": faulted}[s.kind]
    return None


def _pump(pumps: dict[int, dict], rank: int, fraction: float, intensity: float,
          when: datetime, step_s: int, trip: float) -> dict:
    """A station's state at `when`, advanced once per time step (shared by its streams)."""
    state = pumps.setdefault(rank, {"at": None, "level": 0.6, "running": False})
    if state["at"] == when:
        return state
    state["at"] = when
    tripped = rank == 0 and PEAK_AT <= fraction < PEAK_AT + trip
    inflow = intensity * 0.0012  # metres a minute per mm/h over the station's catchment
    pumped = 0.2 if state["running"] else 0.0
    state["level"] = max(0.3, state["level"] + (inflow - pumped) * step_s / 60)
    if tripped:
        state["running"] = False
    elif state["level"] >= 1.5:
        state["running"] = True
    elif state["level"] <= 0.8:
        state["running"] = False
    return state


def observation_payload(when: datetime, result: object) -> str:
    """The SensorThings Observation a device publishes."""
    return json.dumps({"phenomenonTime": when.isoformat(), "result": result})
