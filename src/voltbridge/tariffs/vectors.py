"""Price vectors on a time grid: import and export prices, and demand-charge windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from voltbridge.core import FloatArray, TimeGrid
from voltbridge.tariffs.errors import TariffError
from voltbridge.tariffs.localclock import (
    civil_month_day,
    civil_year,
    local_day_and_second,
    zone_offsets,
)
from voltbridge.tariffs.models import DemandCharge, Period, PriceSchedule, Season, Tariff
from voltbridge.tariffs.series import load_series, repeat_period_s, series_mean_prices
from voltbridge.tariffs.tou import compile_schedule, tou_mean_prices


def import_prices(tariff: Tariff, grid: TimeGrid) -> FloatArray:
    """Mean import price over each step of ``grid`` [currency/kWh], time-weighted.

    >>> from datetime import UTC, datetime
    >>> flat = Tariff.model_validate({"currency": "EUR", "import": 0.3})
    >>> import_prices(flat, TimeGrid.regular(datetime(2026, 1, 1, tzinfo=UTC), 1, 30)).tolist()
    [0.3, 0.3]
    """
    return _schedule_prices(tariff, tariff.import_, grid, "import")


def export_prices(tariff: Tariff, grid: TimeGrid) -> FloatArray:
    """Mean export credit over each step of ``grid`` [currency/kWh], time-weighted (0 if none)."""
    return _schedule_prices(tariff, tariff.export, grid, "export")


def _schedule_prices(
    tariff: Tariff, schedule: PriceSchedule, grid: TimeGrid, label: str
) -> FloatArray:
    if schedule.rate is not None:
        return np.full(grid.n, schedule.rate, dtype=np.float64)
    if schedule.series is not None:
        return series_mean_prices(schedule.series, grid.edges_s, tariff.timezone)
    tz = require_timezone(tariff, f"its {label} time-of-use periods")
    return tou_mean_prices(
        compile_schedule(schedule), tz, grid.edges_s, tariff.holidays, tariff.holiday_subdivision
    )


def require_timezone(tariff: Tariff, purpose: str) -> str:
    """The tariff's timezone, or a ``TariffError`` saying what needs it and how to set it."""
    if tariff.timezone is None:
        raise TariffError(
            f"tariff {tariff.name or '(inline)'} has no timezone, which {purpose} need; set "
            "[tariff] timezone or call tariff.with_timezone(site_timezone)"
        )
    return tariff.timezone


@dataclass(frozen=True)
class DemandWindow:
    """Steps whose import counts toward one demand charge in one local calendar month.

    The planner adds ``rate_per_kw * max(import_kw[mask])``.

    Attributes:
        mask: per step, whether any of it lies in the charge's window and the month.
        rate_per_kw: the charge [currency/kW] on the month's peak average import power.
        label: charge name and month, e.g. ``"peak demand 2026-07"``.
    """

    mask: npt.NDArray[np.bool_]
    rate_per_kw: float
    label: str


def demand_windows(tariff: Tariff, grid: TimeGrid) -> list[DemandWindow]:
    """One window per demand charge and local calendar month the grid touches.

    A step belongs to the month of its midpoint (local time) and to the charge's window if any
    part of it lies in the window, so an hourly step straddling the window start counts.
    """
    if not tariff.demand_charges:
        return []
    tz = require_timezone(tariff, "its demand charges")
    zone = zone_offsets(tz, int(grid.edges_s[0]), int(grid.edges_s[-1]))
    day, _ = local_day_and_second(zone, (grid.edges_s[:-1] + grid.edges_s[1:]) // 2)
    month_key = civil_year(day) * 100 + civil_month_day(day)[0]
    windows = []
    for charge in tariff.demand_charges:
        inside = tou_mean_prices(
            compile_schedule(_indicator(charge)),
            tz,
            grid.edges_s,
            tariff.holidays,
            tariff.holiday_subdivision,
        )
        for key in np.unique(month_key):
            mask = (inside > 0.0) & (month_key == key)
            if mask.any():
                label = f"{charge.name} {key // 100:04d}-{key % 100:02d}"
                windows.append(DemandWindow(mask, charge.rate_per_kw, label))
    return windows


def _indicator(charge: DemandCharge) -> PriceSchedule:
    """A TOU schedule worth 1 inside the charge's window (and months), 0 elsewhere."""
    window = charge.period
    periods = (
        (Period(name=charge.name, days=window.days, start=window.start, end=window.end, rate=1.0),)
        if window is not None
        else ()
    )
    months = charge.months or tuple(range(1, 13))
    season = Season(
        name=charge.name, months=months, periods=periods, default_rate=0.0 if periods else 1.0
    )
    return PriceSchedule(seasons=(season,), default_rate=0.0)


def coverage_warnings(tariff: Tariff, grid: TimeGrid) -> list[str]:
    """Sentences for each price series the grid reaches beyond, where a fallback rate stands in
    or the series repeats.

    (Without either the price functions raise instead.)
    """
    out = []
    for label, schedule in (("import", tariff.import_), ("export", tariff.export)):
        spec = schedule.series
        if spec is None or (spec.fallback_rate is None and not spec.repeat):
            continue
        data = load_series(spec.file)
        lo, hi = int(grid.edges_s[0]), int(grid.edges_s[-1])
        outside = max(0, min(hi, int(data.starts_s[0])) - lo) + max(0, hi - max(lo, data.end_s))
        if outside > 0:
            zone = ZoneInfo(tariff.timezone) if tariff.timezone else UTC
            first = datetime.fromtimestamp(int(data.starts_s[0]), zone).date()
            last = datetime.fromtimestamp(data.end_s - 1, zone).date()
            head = (
                f"{label} prices: {outside / 3600:.1f} h of the plan lie outside the price series "
                f"({first} to {last}); "
            )
            if spec.repeat:
                weeks = repeat_period_s(data) // (7 * 86400)
                out.append(
                    head + f"the series' real prices repeat there, shifted by multiples of "
                    f"{weeks} weeks (weekdays kept)"
                )
            else:
                out.append(
                    head + f"the fallback rate {spec.fallback_rate:g} {tariff.currency}/kWh "
                    "stands in there"
                )
    return out
