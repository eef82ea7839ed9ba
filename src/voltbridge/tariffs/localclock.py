"""Local wall-clock arithmetic on UTC seconds, vectorised: offsets, DST breakpoints, calendars.

Prices are piecewise constant in time. Every function here works on the UTC instants where a
local rule can change (a local time of day, a UTC-offset change) so that a step's mean price is
integrated exactly, with no sub-sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_pkg
import numpy as np
import numpy.typing as npt

from voltbridge.core import FloatArray
from voltbridge.core.timegrid import piecewise_mean

IntArray = npt.NDArray[np.int64]
DAY_S = 86400


@lru_cache(maxsize=512)
def _year_offsets(tz: str, year: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """UTC instants [s] in ``year`` from which each UTC offset [s] of ``tz`` applies."""
    zone = ZoneInfo(tz)

    def offset(t: int) -> int:
        delta = datetime.fromtimestamp(t, zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    stop = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    starts, offsets = [start], [offset(start)]
    previous = start
    # Daily probes, then bisection to the second: zones change offset at most once a day.
    probes = [*range(start + DAY_S, stop, DAY_S), stop - 1]
    for probe in probes:
        now = offset(probe)
        if now != offsets[-1]:
            lo, hi = previous, probe
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offsets[-1] else (lo, mid)
            starts.append(hi)
            offsets.append(now)
        previous = probe
    return tuple(starts), tuple(offsets)


@dataclass(frozen=True)
class ZoneOffsets:
    """UTC offsets of a timezone over a span of years.

    Attributes:
        starts_s: instants from which ``offsets_s`` applies [s since the Unix epoch, UTC].
        offsets_s: local minus UTC time [s].
    """

    starts_s: IntArray
    offsets_s: IntArray

    def at(self, t_s: IntArray) -> IntArray:
        """UTC offset [s] at each instant ``t_s`` [s since the Unix epoch, UTC]."""
        index = np.searchsorted(self.starts_s, t_s, side="right") - 1
        return self.offsets_s[np.clip(index, 0, None)]


@lru_cache(maxsize=128)
def _zone_years(tz: str, first_year: int, last_year: int) -> ZoneOffsets:
    starts: list[int] = []
    offsets: list[int] = []
    for year in range(first_year, last_year + 1):
        year_starts, year_offsets = _year_offsets(tz, year)
        starts += year_starts
        offsets += year_offsets
    return ZoneOffsets(np.array(starts, dtype=np.int64), np.array(offsets, dtype=np.int64))


def zone_offsets(tz: str, lo_s: int, hi_s: int) -> ZoneOffsets:
    """Offsets of ``tz`` covering ``[lo_s, hi_s]`` [s, UTC] with a few days to spare."""
    first = datetime.fromtimestamp(lo_s - 3 * DAY_S, UTC).year
    last = datetime.fromtimestamp(hi_s + 3 * DAY_S, UTC).year
    return _zone_years(tz, first, last)


def wall_clock_breakpoints(zone: ZoneOffsets, lo_s: int, hi_s: int, bounds_s: IntArray) -> IntArray:
    """Sorted UTC instants in ``[lo_s, hi_s]`` where a local rule may change.

    These are ``lo_s`` and ``hi_s``, every instant the local clock reads one of ``bounds_s``
    [s after local midnight] (twice in a repeated fall-back hour, never in a skipped spring
    hour), and every change of UTC offset.
    """
    offsets = np.unique(zone.offsets_s)
    first_day = (lo_s + int(offsets.min())) // DAY_S - 1
    last_day = (hi_s + int(offsets.max())) // DAY_S + 1
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    local = (days[:, None] * DAY_S + bounds_s[None, :]).ravel()
    candidates = local[None, :] - offsets[:, None]
    real = candidates[zone.at(candidates) == offsets[:, None]]
    changes = zone.starts_s
    inside = np.concatenate(
        (
            np.array([lo_s, hi_s], dtype=np.int64),
            real[(real > lo_s) & (real < hi_s)],
            changes[(changes > lo_s) & (changes < hi_s)],
        )
    )
    return np.unique(inside)


def local_day_and_second(zone: ZoneOffsets, t_s: IntArray) -> tuple[IntArray, IntArray]:
    """Local day number (days since 1970-01-01) and second of the local day [s] at ``t_s``."""
    local = t_s + zone.at(t_s)
    return local // DAY_S, local % DAY_S


def civil_month_day(day: IntArray) -> tuple[IntArray, IntArray]:
    """Month (1-12) and day of month (1-31) of day numbers (days since 1970-01-01).

    >>> civil_month_day(np.array([0, 59, 19723]))
    (array([1, 3, 1]), array([1, 1, 1]))
    """
    days = day.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    dom = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return month, dom


def civil_year(day: IntArray) -> IntArray:
    """Calendar year of day numbers (days since 1970-01-01)."""
    return day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def weekday(day: IntArray) -> IntArray:
    """Day of the week of day numbers, 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


@lru_cache(maxsize=256)
def _holiday_days(country: str, subdivision: str | None, year: int) -> tuple[int, ...]:
    found = holidays_pkg.country_holidays(country, subdiv=subdivision, years=year)
    epoch = datetime(1970, 1, 1).date()
    return tuple(sorted((day - epoch).days for day in found))


def holiday_days(country: str | None, subdivision: str | None, days: IntArray) -> IntArray:
    """Sorted day numbers of public holidays in the years ``days`` touch (none if no country)."""
    if country is None or days.size == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = civil_year(np.array([days.min(), days.max()], dtype=np.int64))
    years = range(int(first), int(last) + 1)
    found = [day for year in years for day in _holiday_days(country, subdivision, year)]
    return np.array(sorted(found), dtype=np.int64)


def local_day_fractions(zone: ZoneOffsets, edges_s: IntArray) -> FloatArray:
    """Fraction of a local calendar day each step covers; a 23- or 25-hour day sums to 1."""
    lo, hi = int(edges_s[0]) - 2 * DAY_S, int(edges_s[-1]) + 2 * DAY_S
    breakpoints = wall_clock_breakpoints(zone, lo, hi, np.zeros(1, dtype=np.int64))
    day, _ = local_day_and_second(zone, (breakpoints[:-1] + breakpoints[1:]) // 2)
    lengths = np.bincount(day - day.min(), weights=np.diff(breakpoints).astype(np.float64))
    per_second = 1.0 / lengths[day - day.min()]
    result: FloatArray = piecewise_mean(breakpoints, per_second, edges_s) * np.diff(edges_s)
    return result
