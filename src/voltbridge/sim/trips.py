"""Trips as they happen in the simulated world: the weekly schedule with random timing and distance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from voltbridge.config.models import WEEKDAYS, Trip
from voltbridge.core.timegrid import FloatArray, TimeGrid, ensure_utc
from voltbridge.forecast.trips import TripRule
from voltbridge.sim.types import RealisedTrip

BoolArray = npt.NDArray[np.bool_]

MIN_TRIP = timedelta(minutes=10)
"""A realised trip lasts at least this long."""
CLIP_SD = 3.0
"""Timing noise is clipped to this many standard deviations [-]."""


def _nominal(
    rule: Trip | TripRule, consumption_kwh_per_km: float
) -> tuple[tuple[str, ...], time, time, float]:
    """``(days, depart, return, km)`` of a site-file trip or of a forecast rule."""
    if isinstance(rule, Trip):
        return tuple(rule.days), rule.depart_time, rule.return_time, rule.km
    if consumption_kwh_per_km <= 0:
        raise ValueError("consumption_kwh_per_km must be positive to turn trip energy into km")
    return rule.days, rule.depart, rule.return_, rule.energy_kwh / consumption_kwh_per_km


def realise_trips(
    rules: Sequence[Trip | TripRule],
    start: datetime,
    end: datetime,
    timezone: str,
    rng: np.random.Generator,
    consumption_kwh_per_km: float,
    vehicle: str,
    time_sd_min: float = 15.0,
    distance_cv: float = 0.2,
) -> list[RealisedTrip]:
    """The trips one car makes on [``start``, ``end``): each weekly rule on each of its days, perturbed.

    ``rules`` are site-file trips (``config.Trip``, with km) or forecast rules
    (``forecast.trips.TripRule``, with energy; km = energy / consumption) in local time of
    ``timezone``. For each local day and rule, in that order, the departure and the return move by
    independent normal noise of standard deviation ``time_sd_min`` [min], clipped to ±3 standard
    deviations, and the return is kept at least 10 minutes after the departure; the distance is
    multiplied by lognormal noise of mean 1 and coefficient of variation ``distance_cv`` [-], so the
    mean distance is the schedule's. Energy is distance × ``consumption_kwh_per_km`` [kWh/km].
    The same ``rng`` state gives the same trips, and a later ``end`` only adds trips (the noise of
    each trip is drawn in date order, so the trips of a shorter period are a prefix of a longer
    one's). Trips that the noise makes overlap are merged into
    one trip (first departure, last return, summed distance and energy), so the car is never on
    two trips at once and no distance is lost. A trip is kept whole if any of it falls in the period.
    """
    t0, t1 = ensure_utc(start), ensure_utc(end)
    if t1 <= t0:
        raise ValueError(f"end {end.isoformat()} must be after start {start.isoformat()}")
    if time_sd_min < 0 or distance_cv < 0 or consumption_kwh_per_km < 0:
        raise ValueError("time_sd_min, distance_cv and consumption_kwh_per_km must not be negative")
    zone = ZoneInfo(timezone)
    specs = [_nominal(rule, consumption_kwh_per_km) for rule in rules]
    nominal = []
    day = t0.astimezone(zone).date() - timedelta(days=2)
    while day <= t1.astimezone(zone).date() + timedelta(days=1):
        for days, depart, return_, km in specs:
            if WEEKDAYS[day.weekday()] in days:
                back_day = day + timedelta(days=1) if return_ <= depart else day
                leave = datetime.combine(day, depart, zone).astimezone(UTC)
                back = datetime.combine(back_day, return_, zone).astimezone(UTC)
                nominal.append((leave, back, km))
        day += timedelta(days=1)
    if not nominal:
        return []
    # one row of draws per trip, in date order: a trip's noise depends on the period's start
    # and its own place in it, never on how long the period is (drawing all shifts first and
    # then all distances made the first week's distances change with --days)
    z = rng.standard_normal(size=(len(nominal), 3))
    shifts_s = np.clip(z[:, :2], -CLIP_SD, CLIP_SD) * time_sd_min * 60
    sigma2 = math.log1p(distance_cv**2)
    factors = np.exp(-sigma2 / 2.0 + math.sqrt(sigma2) * z[:, 2])
    drawn = []
    for (leave, back, km), (dl, db), factor in zip(nominal, shifts_s, factors, strict=True):
        leave = leave + timedelta(seconds=round(float(dl)))
        back = max(back + timedelta(seconds=round(float(db))), leave + MIN_TRIP)
        drawn.append((leave, back, km * float(factor)))
    drawn.sort()
    merged: list[tuple[datetime, datetime, float]] = []
    for leave, back, km in drawn:
        if merged and leave < merged[-1][1]:
            first, last, total = merged[-1]
            merged[-1] = (first, max(last, back), total + km)
        else:
            merged.append((leave, back, km))
    return [
        RealisedTrip(vehicle, leave, back, km, km * consumption_kwh_per_km)
        for leave, back, km in merged
        if back > t0 and leave < t1
    ]


def trip_arrays(trips: Sequence[RealisedTrip], grid: TimeGrid) -> tuple[BoolArray, FloatArray]:
    """Where the car is in each step: ``(plugged_in, driving_kwh)``.

    As in ``forecast.trips.availability``, a step touched by a trip counts as away, and each trip's
    energy [kWh] is spread evenly over its duration (the part outside the grid is dropped).
    """
    edges = grid.edges_s.astype(np.float64)
    plugged = np.ones(grid.n, dtype=bool)
    driving = np.zeros(grid.n)
    for trip in trips:
        a, b = trip.depart.timestamp(), trip.return_.timestamp()
        lo = max(int(np.searchsorted(edges, a, side="right")) - 1, 0)
        hi = min(int(np.searchsorted(edges, b, side="left")), grid.n)
        if lo >= hi:
            continue
        overlap = np.clip(
            np.minimum(edges[lo + 1 : hi + 1], b) - np.maximum(edges[lo:hi], a), 0, None
        )
        plugged[lo:hi] &= overlap <= 0
        driving[lo:hi] += trip.energy_kwh * overlap / (b - a)
    return plugged, driving
