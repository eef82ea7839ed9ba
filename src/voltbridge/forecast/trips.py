"""Car availability from the weekly trip schedule: plugged-in steps, driving energy, departures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TripRule:
    """A recurring trip in local time: weekdays, departure, return (next day if earlier), energy."""

    days: tuple[str, ...]
    depart: time
    return_: time
    energy_kwh: float


@dataclass(frozen=True)
class Availability:
    """A car's schedule on a grid.

    Attributes:
        plugged_in: home for the whole step.
        driving_kwh: energy driven in each step [kWh], spread evenly over each trip.
        departures: UTC departure times within the grid (start excluded, end included).
    """

    plugged_in: np.ndarray
    driving_kwh: FloatArray
    departures: tuple[datetime, ...]


def trip_intervals(
    rules: list[TripRule], start: datetime, end: datetime, timezone: str
) -> list[tuple[datetime, datetime, float]]:
    """Every trip (depart, return, energy kWh) in UTC that overlaps [start, end]."""
    zone = ZoneInfo(timezone)
    first: date = start.astimezone(zone).date() - timedelta(days=2)
    last: date = end.astimezone(zone).date() + timedelta(days=1)
    out = []
    day = first
    while day <= last:
        for rule in rules:
            if DAYS[day.weekday()] not in rule.days:
                continue
            leave = datetime.combine(day, rule.depart, zone)
            back_day = day + timedelta(days=1) if rule.return_ <= rule.depart else day
            back = datetime.combine(back_day, rule.return_, zone)
            leave_utc, back_utc = leave.astimezone(UTC), back.astimezone(UTC)
            if back_utc > start and leave_utc <= end and back_utc > leave_utc:
                out.append((leave_utc, back_utc, rule.energy_kwh))
        day += timedelta(days=1)
    return sorted(out)


def availability(grid: TimeGrid, rules: list[TripRule], timezone: str) -> Availability:
    """Where the car is in each step of ``grid``; a step touched by a trip counts as away."""
    edges = grid.edges_s.astype(np.float64)
    plugged = np.ones(grid.n, dtype=bool)
    driving = np.zeros(grid.n)
    departures = []
    for leave, back, energy in trip_intervals(rules, grid.start, grid.end, timezone):
        a, b = leave.timestamp(), back.timestamp()
        overlap = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0.0, None)
        plugged &= overlap <= 0
        driving += energy * overlap / (b - a)
        if grid.start < leave <= grid.end:
            departures.append(leave)
    return Availability(plugged_in=plugged, driving_kwh=driving, departures=tuple(departures))
