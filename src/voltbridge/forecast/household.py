"""A household that varies: a seeded stochastic load model around the BDEW H25 profile.

The standard profile is an average over many homes and repeats every week, so a forecast from the
past is perfect on it. One home varies: people leave for work or stay in, go on holiday, wake up
late, cook, wash and dry at different times, and heat or cool more on cold or hot days. This model
adds those to H25 (which keeps its weekday, weekend, holiday and seasonal shape as the mean):

- a **base load** (standby, fridge and freezer): ``BASE_SHARE`` of the mean power, with a small
  day-to-day wobble;
- **activity** (the rest of H25: lighting, media, small appliances), per day shifted by a random
  wake-up/bed-time offset (``SHIFT_SD_MIN``), scaled by a persistent day factor (log-normal AR(1),
  ``DAY_SD``, ``DAY_PERSISTENCE``), by **occupancy** (weekdays out at work with
  ``WORKDAY_OUT_PROB``; ``HOLIDAYS_PER_YEAR`` holidays away) and by per-slot noise (``SLOT_SD``);
- **appliance events** (cooking, kettle, washing machine, dishwasher, dryer: ``APPLIANCES``) drawn as
  Poisson counts per occupied day, placed at times weighted by the day's activity;
- **weather**: heating auxiliaries on cold days and air conditioning on hot days, from the day's
  mean air temperature (degree days below ``HEAT_BASE_C`` and above ``COOL_BASE_C``).

Each local calendar year is drawn on its own (seeded by seed and year, so a date's load does not
depend on the simulated period) and scaled to exactly ``annual_kwh``. A year of 15-minute values
takes well under a second to draw, and draws are cached per (year, seed, consumption, weather).

Why not a published stochastic model package: richardsonpy (the CREST/Richardson model, installed
here) was measured at ~10 s per household-year at 10-minute resolution, draws from numpy's global
random state (not reproducible beside other draws without seeding the whole process), has no
heating or cooling weather response, and is GPL-3.0, which an Apache-2.0 package cannot import
without becoming GPL. The parameters below are plausibility ranges, not a fit: single German homes
measured at high resolution (HTW Berlin's 74 homes, Tjaden et al. 2015) show daily energy varying by
about a quarter to a third around the mean, 15-minute peaks of 3-6 kW at ~4 MWh/year, and standby
plus cold appliances around a quarter to a third of consumption; ``tests/forecast`` checks the
model stays in those ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.forecast.load import QUARTER_S, h25_year_shape, local_seconds, quarter_edges

SLOTS_PER_DAY = 96
REFERENCE_KWH = 4000.0
"""Annual consumption [kWh/year] the appliance event rates are given for; they scale with it."""
BASE_SHARE = 0.28
"""Standby and cold appliances as a share of the mean power [-]."""
BASE_DAY_SD = 0.05
"""Day-to-day spread of the base load [-, log-normal sigma]."""
DAY_SD = 0.22
"""Spread of the daily activity factor [-, log-normal sigma]."""
DAY_PERSISTENCE = 0.5
"""Lag-one correlation of the daily activity factor [-] (busy weeks, quiet weeks)."""
SLOT_SD = 0.35
"""Spread of activity from one 15-minute slot to the next [-, log-normal sigma]."""
SHIFT_SD_MIN = 40.0
"""Spread of the day's wake-up/bed-time shift [min]."""
WORKDAY_OUT_PROB = 0.7
"""Chance that the household is out on a weekday [-]."""
OUT_ACTIVITY = 0.25
"""Activity left while out (timers, a remaining occupant) [-]."""
LEAVE_H, LEAVE_SD_H = 7.75, 0.6
"""Leaving time on a workday [h local] and its spread [h]."""
BACK_H, BACK_SD_H = 17.5, 1.2
"""Return time on a workday [h local] and its spread [h]."""
HOLIDAYS_PER_YEAR = 2
HOLIDAY_DAYS = (5, 15)
"""Length of a holiday away [days], drawn uniformly from this range (end excluded)."""
HEAT_BASE_C, COOL_BASE_C = 15.0, 22.0
"""Degree-day bases for heating and cooling [°C] (daily mean air temperature)."""
HEAT_KWH_PER_KD_MWH = 0.03
"""Heating auxiliaries (pumps, fans, a fan heater) [kWh per kelvin-day per MWh/year]."""
COOL_KWH_PER_KD_MWH = 0.12
"""Air conditioning [kWh per kelvin-day per MWh/year]."""
HEAT_SLOTS = slice(24, 88)
"""Slots of the day the heating auxiliaries run (06:00-22:00)."""
COOL_SLOTS = slice(48, 88)
"""Slots of the day air conditioning runs (12:00-22:00)."""


@dataclass(frozen=True)
class Appliance:
    """A cycle of one appliance.

    Attributes:
        name: what it is.
        kw: mean power in each 15-minute slot of its cycle [kW].
        per_day: cycles per occupied day at ``REFERENCE_KWH`` [1/day].
    """

    name: str
    kw: tuple[float, ...]
    per_day: float


APPLIANCES = (
    Appliance("cooking", (2.0, 1.6), 0.9),
    Appliance("kettle", (0.35,), 2.0),
    Appliance("washing machine", (2.0, 0.3, 0.3, 0.3), 0.45),
    Appliance("dishwasher", (1.8, 0.2, 1.6, 0.1), 0.55),
    Appliance("tumble dryer", (2.2, 2.2, 2.0, 1.8), 0.2),
)

_CACHE: dict[tuple[int, int, float, bytes], FloatArray] = {}
_CACHE_MAX = 16


def _day_factors(rng: np.random.Generator, days: int) -> FloatArray:
    """Log-normal AR(1) factors with mean 1 and lag-one correlation ``DAY_PERSISTENCE``."""
    eps = rng.standard_normal(days)
    x = np.empty(days)
    x[0] = eps[0] * DAY_SD
    scale = DAY_SD * np.sqrt(1 - DAY_PERSISTENCE**2)
    for d in range(1, days):
        x[d] = DAY_PERSISTENCE * x[d - 1] + scale * eps[d]
    out: FloatArray = np.exp(x - DAY_SD**2 / 2)
    return out


def _occupancy(rng: np.random.Generator, days: int, weekday0: int) -> FloatArray:
    """Share of activity per (day, slot) [-]: 0 on holiday, ``OUT_ACTIVITY`` while out at work."""
    occ = np.ones((days, SLOTS_PER_DAY))
    slot_h = (np.arange(SLOTS_PER_DAY) + 0.5) / 4
    weekday = (weekday0 + np.arange(days)) % 7
    out = (weekday < 5) & (rng.random(days) < WORKDAY_OUT_PROB)
    leave = rng.normal(LEAVE_H, LEAVE_SD_H, days)
    back = np.maximum(rng.normal(BACK_H, BACK_SD_H, days), leave + 4)
    away = out[:, None] & (slot_h[None, :] > leave[:, None]) & (slot_h[None, :] < back[:, None])
    occ[away] = OUT_ACTIVITY
    for _ in range(HOLIDAYS_PER_YEAR):
        length = int(rng.integers(*HOLIDAY_DAYS))
        first = int(rng.integers(0, max(days - length, 1)))
        occ[first : first + length] = 0.0
    return occ


def _shifted(activity: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Each day's activity moved by its own wake-up/bed-time shift (whole slots, wrapping)."""
    days = activity.shape[0]
    shift = np.rint(rng.normal(0.0, SHIFT_SD_MIN / 15.0, days)).astype(np.int64)
    cols = (np.arange(SLOTS_PER_DAY)[None, :] - shift[:, None]) % SLOTS_PER_DAY
    out: FloatArray = np.take_along_axis(activity, cols, axis=1)
    return out


def _appliance_events(
    rng: np.random.Generator, weight: FloatArray, occupied: FloatArray, scale: float
) -> FloatArray:
    """Appliance cycles [kW] per (day, slot), started at times drawn in proportion to ``weight``."""
    days = weight.shape[0]
    flat = np.zeros(days * SLOTS_PER_DAY + 8)
    cdf = np.cumsum(weight, axis=1)
    totals = cdf[:, -1]
    for app in APPLIANCES:
        counts = rng.poisson(app.per_day * scale * occupied)
        counts[totals <= 0] = 0
        day_of = np.repeat(np.arange(days), counts)
        u = rng.random(day_of.size) * totals[day_of]
        slot = np.array(
            [np.searchsorted(cdf[d], x, side="right") for d, x in zip(day_of, u, strict=True)],
            dtype=np.int64,
        )
        starts = day_of * SLOTS_PER_DAY + np.minimum(slot, SLOTS_PER_DAY - 1)
        for k, kw in enumerate(app.kw):
            np.add.at(flat, starts + k, kw)
    out: FloatArray = flat[: days * SLOTS_PER_DAY].reshape(days, SLOTS_PER_DAY)
    return out


def _weather_kw(daily_temp_c: FloatArray, day_of_year: np.ndarray, annual_kwh: float) -> FloatArray:
    """Heating auxiliaries and air conditioning [kW] per (day, slot) from the daily mean [°C]."""
    temp = daily_temp_c[np.minimum(day_of_year, daily_temp_c.size - 1)]
    mwh = annual_kwh / 1000.0
    heat_kwh = HEAT_KWH_PER_KD_MWH * mwh * np.maximum(HEAT_BASE_C - temp, 0.0)
    cool_kwh = COOL_KWH_PER_KD_MWH * mwh * np.maximum(temp - COOL_BASE_C, 0.0)
    out = np.zeros((temp.size, SLOTS_PER_DAY))
    for kwh, slots in ((heat_kwh, HEAT_SLOTS), (cool_kwh, COOL_SLOTS)):
        hours = (slots.stop - slots.start) / 4
        out[:, slots] += (kwh / hours)[:, None]
    return out


def household_year_kw(
    year: int, annual_kwh: float, seed: int, daily_temp_c: FloatArray | None = None
) -> FloatArray:
    """One household's load for local calendar ``year`` at 15-minute slots [kW], summing to
    ``annual_kwh`` [kWh/year] exactly.

    ``daily_temp_c`` [°C] holds the mean air temperature of each day of a 365-day year (1 January
    first); without it the load has no weather response. The draw depends only on (year, seed):
    the same seed gives the same home.
    """
    temp = None if daily_temp_c is None else np.asarray(daily_temp_c, dtype=np.float64)
    key = (year, seed, float(annual_kwh), b"" if temp is None else temp.tobytes())
    if key in _CACHE:
        return _CACHE[key]
    rng = np.random.default_rng([seed, year, 0x10AD])
    mean = h25_year_shape(year) * annual_kwh
    days = mean.size // SLOTS_PER_DAY
    mean = mean.reshape(days, SLOTS_PER_DAY)
    base_kw = BASE_SHARE * annual_kwh / (days * 24)
    base = base_kw * np.exp(rng.normal(0.0, BASE_DAY_SD, days))[:, None]
    weekday0 = int(np.datetime64(f"{year}-01-01", "D").astype(np.int64) + 3) % 7  # Monday 0
    occ = _occupancy(rng, days, weekday0)
    activity = _shifted(np.maximum(mean - base_kw, 0.0), rng) * occ
    noise = np.exp(rng.normal(-(SLOT_SD**2) / 2, SLOT_SD, activity.shape))
    smooth = activity * _day_factors(rng, days)[:, None] * noise
    occupied = occ.mean(axis=1)
    events = _appliance_events(rng, activity, occupied, annual_kwh / REFERENCE_KWH)
    total = base + smooth + events
    if temp is not None:
        total += _weather_kw(temp, np.arange(days), annual_kwh)
    total *= annual_kwh / (float(total.sum()) * QUARTER_S / 3600)
    out: FloatArray = total.reshape(-1)
    out.flags.writeable = False  # shared through the cache
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = out
    return out


def household_load_kw(
    grid: TimeGrid,
    annual_kwh: float,
    timezone: str,
    seed: int,
    daily_temp_c: FloatArray | None = None,
) -> FloatArray:
    """A varying household's load on ``grid``, mean over each step [kW], read at local time.

    Each local calendar year the grid touches is drawn by ``household_year_kw`` (``annual_kwh``
    [kWh/year], ``seed``, ``daily_temp_c`` [°C] per day of a 365-day year).
    """
    edges = quarter_edges(grid)
    local = local_seconds(edges[:-1], timezone)
    out = np.empty(local.size)
    years = (local // 86400).astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    for year in np.unique(years):
        profile = household_year_kw(int(year), annual_kwh, seed, daily_temp_c)
        start = (np.datetime64(f"{year}-01-01", "s") - np.datetime64("1970-01-01", "s")).astype(int)
        pos = np.clip((local[years == year] - start) // QUARTER_S, 0, profile.size - 1)
        out[years == year] = profile[pos.astype(np.int64)]
    return step_means(edges, out, grid)
