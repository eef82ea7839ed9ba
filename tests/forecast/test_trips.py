"""Car availability from a weekly schedule, checked by hand, across a DST change."""

from datetime import UTC, datetime, time

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.forecast import TripRule, availability

COMMUTE = TripRule(
    days=("mon", "tue", "wed", "thu", "fri"), depart=time(8), return_=time(17), energy_kwh=9.0
)


def test_weekday_commute_in_utc() -> None:
    # Monday 2026-06-01 in London is BST (UTC+1): away 07:00-16:00 UTC.
    grid = TimeGrid.regular(datetime(2026, 6, 1, 0, tzinfo=UTC), 24, 60)
    a = availability(grid, [COMMUTE], "Europe/London")
    away = np.flatnonzero(~a.plugged_in)
    assert away.tolist() == list(range(7, 16))
    assert a.driving_kwh.sum() == pytest.approx(9.0)
    assert a.driving_kwh[7] == pytest.approx(1.0)
    assert a.departures == (datetime(2026, 6, 1, 7, tzinfo=UTC),)


def test_weekend_has_no_trip() -> None:
    grid = TimeGrid.regular(datetime(2026, 6, 6, 0, tzinfo=UTC), 48, 60)  # Sat and Sun
    a = availability(grid, [COMMUTE], "Europe/London")
    assert a.plugged_in.all() and a.driving_kwh.sum() == 0 and a.departures == ()


def test_trip_underway_at_start_counts_only_the_rest() -> None:
    grid = TimeGrid.regular(datetime(2026, 6, 1, 11, 30, tzinfo=UTC), 12, 30)
    a = availability(grid, [COMMUTE], "Europe/London")
    # 07:00-16:00 UTC trip, 4.5 of its 9 hours remain: 4.5 kWh
    assert a.driving_kwh.sum() == pytest.approx(4.5)
    assert a.departures == ()
    assert not a.plugged_in[0] and a.plugged_in[-1]


def test_overnight_trip_returns_next_day() -> None:
    night = TripRule(days=("fri",), depart=time(22), return_=time(6), energy_kwh=16.0)
    grid = TimeGrid.regular(datetime(2026, 6, 5, 12, tzinfo=UTC), 24, 60)
    a = availability(grid, [night], "UTC")
    assert (~a.plugged_in).sum() == 8
    assert a.driving_kwh.sum() == pytest.approx(16.0)


def test_partial_step_overlap_makes_step_unavailable() -> None:
    rule = TripRule(days=("mon",), depart=time(8, 10), return_=time(9, 50), energy_kwh=5.0)
    grid = TimeGrid.regular(datetime(2026, 6, 1, 8, tzinfo=UTC), 2, 60)
    a = availability(grid, [rule], "UTC")
    assert not a.plugged_in.any()


def test_departure_on_us_spring_forward_day() -> None:
    # 2026-03-08 clocks jump 02:00 -> 03:00 in Los Angeles; an 08:00 departure is 15:00 UTC.
    rule = TripRule(days=("sun",), depart=time(8), return_=time(9), energy_kwh=1.0)
    grid = TimeGrid.regular(datetime(2026, 3, 8, 0, tzinfo=UTC), 24, 15)
    a = availability(grid, [rule], "America/Los_Angeles")
    assert a.departures == (datetime(2026, 3, 8, 15, tzinfo=UTC),)
