"""Time-of-use schedules compiled to lookup tables and integrated exactly over a time grid."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from voltbridge.core import FloatArray
from voltbridge.core.timegrid import piecewise_mean
from voltbridge.tariffs.localclock import (
    IntArray,
    civil_month_day,
    holiday_days,
    local_day_and_second,
    wall_clock_breakpoints,
    weekday,
    zone_offsets,
)
from voltbridge.tariffs.models import DAY_NAMES, clock_seconds

if TYPE_CHECKING:
    from voltbridge.tariffs.models import PriceSchedule

HOLIDAY = 7
"""Day kind of a public holiday in the price tables (after 0 = Monday ... 6 = Sunday)."""
_NO_SEASON = "(no season)"


@dataclass(frozen=True)
class CompiledTou:
    """A time-of-use schedule as arrays.

    Attributes:
        bounds_s: sorted seconds after local midnight [s] where some rate may change; starts at 0.
        prices: rate [currency/kWh] by ``[season row, day kind, slot]``, slot ``i`` covering
            ``[bounds_s[i], bounds_s[i + 1])``; NaN where nothing applies. The last season row
            holds the schedule's ``default_rate`` for dates no season covers.
        season_row: season row by ``month * 32 + day_of_month``.
        season_names: names of the season rows.
    """

    bounds_s: IntArray
    prices: FloatArray
    season_row: IntArray
    season_names: tuple[str, ...]


@lru_cache(maxsize=128)
def compile_schedule(schedule: PriceSchedule) -> CompiledTou:
    """Compile a TOU ``schedule``; ``ValueError`` if seasons overlap or a weekday lacks a rate."""
    seasons = schedule.all_seasons()
    clocks = {clock_seconds(p.start) for s in seasons for p in s.periods}
    clocks |= {clock_seconds(p.end) % 86400 for s in seasons for p in s.periods}
    bounds = np.array(sorted(clocks | {0}), dtype=np.int64)
    rows = len(seasons) + 1
    fallback = np.nan if schedule.default_rate is None else schedule.default_rate
    prices = np.full((rows, 8, bounds.size), fallback, dtype=np.float64)
    season_row = np.full(13 * 32, rows - 1, dtype=np.int64)
    for row, season in enumerate(seasons):
        for month, day in season.month_days():
            index = month * 32 + day
            if season_row[index] != rows - 1:
                other = seasons[int(season_row[index])].name
                raise ValueError(
                    f"seasons {other!r} and {season.name!r} both cover {month:02d}-{day:02d}; "
                    "each date of the year may belong to one season only"
                )
            season_row[index] = row
        if season.default_rate is not None:
            prices[row] = season.default_rate
        for period in season.periods:
            kinds = np.array(period.day_kinds(), dtype=np.int64)
            for lo, hi in period.ranges_s():
                slots = np.flatnonzero((bounds >= lo) & (bounds < hi))
                prices[row][np.ix_(kinds, slots)] = period.rate
    names = (*(season.name for season in seasons), _NO_SEASON)
    compiled = CompiledTou(bounds, prices, season_row, names)
    _check_covered(compiled, kinds=range(HOLIDAY), label=None)
    return compiled


def check_holidays_covered(schedule: PriceSchedule, label: str) -> None:
    """``ValueError`` if public holidays (day kind ``hol``) have no rate in ``schedule``."""
    _check_covered(compile_schedule(schedule), kinds=(HOLIDAY,), label=label)


def _check_covered(
    compiled: CompiledTou, kinds: range | tuple[int, ...], label: str | None
) -> None:
    prefix = f"{label}: " if label else ""
    for row in np.unique(compiled.season_row[_valid_month_days()]):
        table = compiled.prices[row]
        for kind in kinds:
            gaps = np.flatnonzero(np.isnan(table[kind]))
            if gaps.size == 0:
                continue
            slot = int(gaps[0])
            bounds = compiled.bounds_s
            end = int(bounds[slot + 1]) if slot + 1 < bounds.size else 86400
            when = f"{DAY_NAMES[kind]} {_clock(int(bounds[slot]))}-{_clock(end)}"
            name = compiled.season_names[row]
            if name == _NO_SEASON:
                raise ValueError(
                    f"{prefix}some dates are in no season and have no rate ({when}); "
                    "add a season covering them or a default_rate"
                )
            fix = "'weekends' or 'all'" if kind == HOLIDAY else "it"
            raise ValueError(
                f"{prefix}season {name!r} has no rate on {when}; add a period covering "
                f"{fix} or a default_rate (season or schedule)"
            )


@lru_cache(maxsize=1)
def _valid_month_days() -> IntArray:
    """Indices ``month * 32 + day`` of every date of a leap year."""
    lengths = {month: calendar.monthrange(2024, month)[1] for month in range(1, 13)}
    valid = [m * 32 + d for m, length in lengths.items() for d in range(1, length + 1)]
    return np.array(valid, dtype=np.int64)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def tou_mean_prices(
    compiled: CompiledTou,
    tz: str,
    edges_s: IntArray,
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
) -> FloatArray:
    """Time-weighted mean TOU rate over each step [currency/kWh].

    Local wall-clock time in ``tz`` picks the period, so a DST day simply has 23 or 25 hours and
    a repeated fall-back hour is priced twice by its local time.

    Args:
        compiled: the schedule from :func:`compile_schedule`.
        tz: IANA timezone the periods are written in.
        edges_s: step edges [s since the Unix epoch, UTC] (``TimeGrid.edges_s``).
        holiday_country: ``holidays`` country code; holidays are day kind ``hol``.
        holiday_subdivision: optional state or region of that country.
    """
    lo, hi = int(edges_s[0]), int(edges_s[-1])
    zone = zone_offsets(tz, lo, hi)
    breakpoints = wall_clock_breakpoints(zone, lo, hi, compiled.bounds_s)
    day, second = local_day_and_second(zone, (breakpoints[:-1] + breakpoints[1:]) // 2)
    kind = weekday(day)
    holidays = holiday_days(holiday_country, holiday_subdivision, day)
    if holidays.size:
        found = np.clip(np.searchsorted(holidays, day), 0, holidays.size - 1)
        kind = np.where(holidays[found] == day, HOLIDAY, kind)
    month, dom = civil_month_day(day)
    row = compiled.season_row[month * 32 + dom]
    slot = np.searchsorted(compiled.bounds_s, second, side="right") - 1
    values = compiled.prices[row, kind, slot]
    return piecewise_mean(breakpoints, values, edges_s)
