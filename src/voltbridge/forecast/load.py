"""Household load: the BDEW H25 standard household profile (demandlib) or the site's typical week.

BDEW's H25 profile (2025 revision of the German standard load profile H0, published by BDEW and
shipped by demandlib) is a measured average over many households at 15-minute resolution, with
weekday, Saturday, Sunday/holiday and seasonal shapes. It stands in for a home without its own
measurements; a typical-week CSV from the home's meter replaces it.
"""

from __future__ import annotations

import csv
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means

QUARTER_S = 900
WEEK_S = 7 * 86400
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=8)
def h25_year_shape(year: int) -> FloatArray:
    """The H25 profile of ``year`` (local time, 15-min) for 1 kWh a year [kW per kWh/year]."""
    from demandlib import bdew

    index = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="15min", inclusive="left")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # demandlib's pandas calls raise deprecation warnings
        values: FloatArray = np.asarray(bdew.H25(index), dtype=np.float64)
    year_kwh = float(values.sum()) * 0.25
    shape: FloatArray = values / year_kwh
    shape.flags.writeable = False  # shared by every caller in the process (cached)
    return shape


def local_seconds(edges_s: np.ndarray, timezone: str) -> np.ndarray:
    """Wall-clock seconds since 1970-01-01 local time for each UTC instant (DST-aware)."""
    utc = pd.to_datetime(np.asarray(edges_s, dtype=np.int64), unit="s", utc=True)
    local = utc.tz_convert(timezone).tz_localize(None)
    return np.asarray(local, dtype="datetime64[s]").astype(np.int64)


def quarter_edges(grid: TimeGrid) -> np.ndarray:
    """Quarter-hour edges [s] covering ``grid``: the profiles' native steps."""
    start = grid.edges_s[0] // QUARTER_S * QUARTER_S
    end = -(-grid.edges_s[-1] // QUARTER_S) * QUARTER_S
    return np.arange(start, end + QUARTER_S, QUARTER_S, dtype=np.int64)


def standard_load_kw(grid: TimeGrid, annual_kwh: float, timezone: str) -> FloatArray:
    """Household load scaled to ``annual_kwh`` [kWh/year], mean over each step [kW].

    The profile is read at local wall-clock time, so the evening peak stays at the same local
    hour across daylight-saving changes.
    """
    edges = quarter_edges(grid)
    local = local_seconds(edges[:-1], timezone)
    out = np.empty(local.size)
    years = (local // 86400).astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    for year in np.unique(years):
        profile = h25_year_shape(int(year))
        start = (np.datetime64(f"{year}-01-01", "s") - np.datetime64("1970-01-01", "s")).astype(int)
        pos = np.clip((local[years == year] - start) // QUARTER_S, 0, profile.size - 1)
        out[years == year] = profile[pos.astype(np.int64)]
    return step_means(edges, out * annual_kwh, grid)


def read_week_profile(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A typical-week CSV (columns ``weekday``, ``time`` HH:MM, ``kw``) as (second of week, kW).

    Each row's power holds until the next row's time; the week wraps around.
    """
    seconds, kws = [], []
    with Path(path).open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                day = _DAYS.index(row["weekday"].strip().lower()[:3])
                hh, mm = (int(x) for x in row["time"].split(":"))
                kw = float(row["kw"])
            except (KeyError, ValueError, AttributeError):
                raise ValueError(
                    f"{path}:{line}: expected columns weekday (mon..sun), time (HH:MM), kw (number)"
                ) from None
            if kw < 0 or not (0 <= hh < 24 and 0 <= mm < 60):
                raise ValueError(f"{path}:{line}: kw must be >= 0 and time a valid HH:MM")
            seconds.append(day * 86400 + hh * 3600 + mm * 60)
            kws.append(kw)
    if not seconds:
        raise ValueError(f"{path}: the load profile has no rows")
    order = np.argsort(seconds, kind="stable")
    return np.asarray(seconds)[order], np.asarray(kws, dtype=np.float64)[order]


def week_profile_kw(grid: TimeGrid, path: Path, timezone: str) -> FloatArray:
    """Load from a typical-week profile, mean over each step [kW], read at local time."""
    seconds, kws = read_week_profile(path)
    edges = quarter_edges(grid)
    local = local_seconds(edges[:-1], timezone)
    # 1970-01-01 was a Thursday: shift so that second 0 of the week is Monday 00:00.
    of_week = (local + 3 * 86400) % WEEK_S
    idx = np.searchsorted(seconds, of_week, side="right") - 1  # -1 wraps to the week's last row
    return step_means(edges, kws[idx], grid)
