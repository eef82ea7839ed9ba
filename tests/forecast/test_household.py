"""The varying household: reproducible under a seed, varying from day to day and by weekday,
responding to temperature, and scaled to the site's annual consumption."""

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.forecast.household import household_load_kw, household_year_kw

TZ = "Europe/Berlin"


def daily_kwh(year_kw: np.ndarray) -> np.ndarray:
    return year_kw.reshape(-1, 96).sum(axis=1) * 0.25


def test_same_seed_same_home_other_seed_other_home() -> None:
    a = household_year_kw(2026, 4000.0, 7)
    b = household_year_kw(2026, 4000.0, 7)
    c = household_year_kw(2026, 4000.0, 8)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    # the draw does not depend on the period simulated: a week read on its own grid matches the
    # same week read inside a month
    zone = ZoneInfo(TZ)
    week = TimeGrid.regular(datetime(2026, 5, 11, tzinfo=zone), 7 * 24, 15)
    month = TimeGrid.regular(datetime(2026, 5, 1, tzinfo=zone), 31 * 24, 15)
    in_month = household_load_kw(month, 4000.0, TZ, 7)
    offset = month.step_at(week.start)
    assert np.allclose(household_load_kw(week, 4000.0, TZ, 7), in_month[offset : offset + 7 * 96])


def test_year_sums_to_the_configured_consumption() -> None:
    zone = ZoneInfo(TZ)
    start = datetime(2026, 1, 1, tzinfo=zone)
    grid = TimeGrid.regular(start, (datetime(2027, 1, 1, tzinfo=zone) - start).days * 24, 5)
    load = household_load_kw(grid, 3200.0, TZ, 3, np.full(365, 9.0))
    assert float(np.sum(load * grid.dt_h)) == pytest.approx(3200.0, rel=0.002)
    assert load.min() >= 0.0


def test_days_vary_and_weekdays_differ() -> None:
    year = household_year_kw(2026, 4000.0, 11)
    days = daily_kwh(year)
    # One home's daily energy varies by a quarter or more around its mean (the H25 average of
    # many homes varies by about a tenth, from the seasons and weekends alone).
    assert days.std() / days.mean() > 0.2
    # no two consecutive weeks are alike (the standard profile repeats them exactly)
    assert not np.allclose(year[: 7 * 96], year[7 * 96 : 14 * 96], rtol=0.05)
    # 1 January 2026 is a Thursday: weekday 0 is Monday
    weekday = (np.arange(days.size) + 3) % 7
    midweek = days[(weekday >= 1) & (weekday <= 3)].mean()
    weekend = days[weekday >= 5].mean()
    assert weekend > 1.1 * midweek  # people are home at weekends
    # intra-day: appliance cycles give 15-minute peaks well above the mean, as single homes show
    assert 2.5 < year.max() < 8.0
    assert year.max() > 4 * year.mean()


def test_cold_and_hot_days_use_more() -> None:
    mild = np.full(365, 17.0)
    cold = mild.copy()
    cold[30:37] = -8.0  # a cold week in February
    hot = mild.copy()
    hot[200:207] = 33.0  # a heat wave in July
    base = daily_kwh(household_year_kw(2026, 4000.0, 5, mild))
    for temps, days in ((cold, slice(30, 37)), (hot, slice(200, 207))):
        d = daily_kwh(household_year_kw(2026, 4000.0, 5, temps))
        # the same draws, plus heating or cooling on those days, then scaled back to 4000 kWh
        assert d[days].sum() / d.sum() > 1.05 * base[days].sum() / base.sum()
