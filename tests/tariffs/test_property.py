"""Property: on any grid, sum(price * dt_h) equals a brute-force minute-by-minute integral.

The brute-force evaluators below are written independently of the library: they read the local
wall clock with ``zoneinfo`` one minute at a time and apply the tariff's rules by hand.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbridge.core import TimeGrid
from voltbridge.tariffs import Tariff, export_prices, import_prices, load_shipped
from voltbridge.tariffs.registry import DATA_DIR

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")

MIXED = Tariff.model_validate(
    {
        "currency": "USD",
        "timezone": "America/Los_Angeles",
        "holidays": "US",
        "import": {
            "seasons": [
                {
                    "name": "summer",
                    "start": "06-15",
                    "end": "09-14",
                    "default_rate": 0.30,
                    "periods": [
                        {
                            "name": "peak",
                            "days": "weekdays",
                            "start": "16:30",
                            "end": "21:00",
                            "rate": 0.50,
                        },
                        {"name": "night", "start": "22:00", "end": "06:30", "rate": 0.12},
                    ],
                },
                {
                    "name": "rest",
                    "start": "09-15",
                    "end": "06-14",
                    "default_rate": 0.25,
                    "periods": [
                        {
                            "name": "peak",
                            "days": "weekdays",
                            "start": "17:00",
                            "end": "20:00",
                            "rate": 0.40,
                        },
                        {
                            "name": "sun",
                            "days": ["sat", "sun", "hol"],
                            "start": "10:00",
                            "end": "14:00",
                            "rate": 0.08,
                        },
                    ],
                },
            ]
        },
    }
)


@lru_cache(maxsize=16)
def us_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year))


def mixed_by_hand(moment: datetime) -> float:
    local = moment.astimezone(LA)
    minute = local.hour * 60 + local.minute
    restful = local.weekday() >= 5 or local.date() in us_holidays(local.year)
    if (6, 15) <= (local.month, local.day) <= (9, 14):
        if not restful and 16 * 60 + 30 <= minute < 21 * 60:
            return 0.50
        return 0.12 if minute >= 22 * 60 or minute < 6 * 60 + 30 else 0.30
    if not restful and 17 * 60 <= minute < 20 * 60:
        return 0.40
    return 0.08 if restful and 10 * 60 <= minute < 14 * 60 else 0.25


def flux_by_hand(moment: datetime, export: bool) -> float:
    hour = moment.astimezone(LONDON).hour
    band = 0 if 2 <= hour < 5 else 2 if 16 <= hour < 19 else 1
    return ((0.0911, 0.2252, 0.3593) if export else (0.2011, 0.3352, 0.4693))[band]


@lru_cache(maxsize=1)
def epex_rows() -> tuple[list[float], list[float]]:
    with (DATA_DIR / "epex-de-lu-2024-03-25_2024-04-07.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return [datetime.fromisoformat(r["start"]).timestamp() for r in rows], [
        float(r["price"]) for r in rows
    ]


def epex_by_hand(moment: datetime) -> float:
    starts, prices = epex_rows()
    return (prices[bisect.bisect_right(starts, moment.timestamp()) - 1] + 0.17754) * 1.19


def brute_force(grid: TimeGrid, price_at: Callable[[datetime], float]) -> float:
    """Integral of price over the grid [currency/kWh * h], one minute at a time."""
    minutes = range(int(grid.edges_s[0]), int(grid.edges_s[-1]), 60)
    return sum(price_at(datetime.fromtimestamp(t, UTC)) for t in minutes) / 60.0


def grids(anchors: list[str], spread_days: int) -> st.SearchStrategy[TimeGrid]:
    """Grids of whole-minute steps (1 minute to 3 hours) starting near an interesting moment."""
    starts = st.builds(
        lambda anchor, offset: int(datetime.fromisoformat(anchor).timestamp()) + 60 * offset,
        st.sampled_from(anchors),
        st.integers(-spread_days * 1440, spread_days * 1440),
    )
    steps = st.lists(st.sampled_from([1, 5, 7, 15, 30, 45, 60, 90, 180]), min_size=1, max_size=40)
    return st.builds(
        lambda start, minutes: TimeGrid(start + 60 * np.cumsum([0, *minutes], dtype=np.int64)),
        starts,
        steps,
    )


US_MOMENTS = [
    "2026-03-08T02:00-08:00",
    "2026-11-01T01:00-07:00",
    "2025-07-04T12:00-07:00",
    "2026-06-15T00:00-07:00",
    "2026-09-15T00:00-07:00",
    "2026-12-31T23:00-08:00",
]
UK_MOMENTS = ["2026-03-29T01:00+00:00", "2026-10-25T01:00+00:00", "2026-12-25T12:00+00:00"]


@settings(max_examples=150, deadline=None)
@given(grids(US_MOMENTS, spread_days=3))
def test_tou_with_seasons_holidays_and_dst_matches_brute_force(grid: TimeGrid) -> None:
    total = float(np.dot(import_prices(MIXED, grid), grid.dt_h))
    assert abs(total - brute_force(grid, mixed_by_hand)) < 1e-9


@settings(max_examples=75, deadline=None)
@given(grids(UK_MOMENTS, spread_days=2))
def test_flux_import_and_export_match_brute_force(grid: TimeGrid) -> None:
    flux = load_shipped("octopus-flux")
    imported = float(np.dot(import_prices(flux, grid), grid.dt_h))
    exported = float(np.dot(export_prices(flux, grid), grid.dt_h))
    assert abs(imported - brute_force(grid, lambda t: flux_by_hand(t, False))) < 1e-9
    assert abs(exported - brute_force(grid, lambda t: flux_by_hand(t, True))) < 1e-9


@settings(max_examples=75, deadline=None)
@given(grids(["2024-03-31T03:00+02:00", "2024-04-06T13:00+02:00"], spread_days=3))
def test_series_matches_brute_force_inside_its_coverage(grid: TimeGrid) -> None:
    first, last = epex_rows()[0][0], epex_rows()[0][-1] + 3600
    if grid.edges_s[0] < first or grid.edges_s[-1] > last:
        return
    epex = load_shipped("epex-de-2024-spring")
    total = float(np.dot(import_prices(epex, grid), grid.dt_h))
    assert abs(total - brute_force(grid, epex_by_hand)) < 1e-9
