"""DischargeBudget: a car's warranty throughput per local day, counted in stored energy from the
measured discharge, each reading held at most ``max_gap_s``, never below zero, reset at local
midnight, and a clock stepping back counting nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.control.fakes import FAST_ENOUGH
from tests.control.harness import CAR, CAR_ETA, rig, site, vehicle
from voltbridge.control.budget import DischargeBudget
from voltbridge.control.io import Snapshot
from voltbridge.core.types import Measurement

T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)  # 18:00 in Los Angeles (UTC-7 in July)
MIDNIGHT = datetime(2026, 7, 8, 7, 0, tzinfo=UTC)  # 00:00 on 8 July in Los Angeles
BUDGET_KWH_PER_H = 0.5  # 12 kWh of stored energy a day
ETA = 0.9  # the test car's one-way efficiency


def budget(max_gap_s: float = 3600.0, per_h: float | None = BUDGET_KWH_PER_H) -> DischargeBudget:
    car = replace(vehicle(), discharge_budget_kwh_per_h=per_h)
    return DischargeBudget(site(car=car), max_gap_s)


def car(kw: float | None) -> Snapshot:
    reading = None if kw is None else Measurement(CAR, T0, kw, soc_kwh=40.0)
    return Snapshot(storages={CAR: reading}, plugged_in={CAR: reading is not None})


def test_an_hour_at_4_5_kw_uses_5_kwh_of_the_12_kwh_day() -> None:
    b = budget()
    assert b.left(car(-4.5), T0) == {CAR: 12.0}  # the first call has no past to count
    # 4.5 kW from the AC side is 4.5 / 0.9 = 5 kWh out of the cells in one hour
    assert b.left(car(-4.5), T0 + timedelta(hours=1)) == {CAR: pytest.approx(7.0)}


def test_charging_and_missing_readings_use_nothing() -> None:
    b = budget()
    b.left(car(0.0), T0)
    assert b.left(car(7.2), T0 + timedelta(hours=1)) == {CAR: 12.0}
    assert b.left(car(None), T0 + timedelta(hours=2)) == {CAR: 12.0}


def test_a_gap_in_readings_counts_no_more_than_max_gap_s() -> None:
    b = budget(max_gap_s=4.0)
    b.left(car(-4.5), T0)
    # an hour without readings: only 4 s of 5 kW stored power count, 1/180 kWh
    assert b.left(car(-4.5), T0 + timedelta(hours=1)) == {CAR: pytest.approx(12.0 - 1 / 180)}


def test_a_clock_stepping_back_counts_nothing() -> None:
    b = budget()
    b.left(car(-4.5), T0)
    assert b.left(car(-4.5), T0 - timedelta(minutes=10)) == {CAR: 12.0}


def test_the_budget_never_goes_below_zero_and_comes_back_at_local_midnight() -> None:
    b = budget()
    b.left(car(-4.5), MIDNIGHT - timedelta(hours=3))
    b.left(car(-4.5), MIDNIGHT - timedelta(hours=2))
    b.left(car(-4.5), MIDNIGHT - timedelta(hours=1))  # 10 kWh used
    assert b.left(car(-4.5), MIDNIGHT - timedelta(seconds=1)) == {CAR: 0.0}  # 15 kWh asked
    assert b.left(car(0.0), MIDNIGHT) == {CAR: 12.0}


def test_a_car_without_a_budget_has_none() -> None:
    b = budget(per_h=None)
    b.left(car(-4.5), T0)
    assert b.left(car(-4.5), T0 + timedelta(hours=1)) == {CAR: None}


@FAST_ENOUGH
@given(st.lists(st.tuples(st.floats(-60.0, 7200.0), st.floats(-11.0, 11.0)), max_size=30))
def test_what_is_left_stays_within_the_day_and_only_falls_within_a_day(
    steps: list[tuple[float, float]],
) -> None:
    b, now = budget(), T0
    last: tuple[object, float] | None = None
    for dt_s, kw in steps:
        now += timedelta(seconds=dt_s)
        left = b.left(car(kw), now)[CAR]
        assert left is not None and 0.0 <= left <= 12.0
        day = (now - timedelta(hours=7)).date()  # the local day in Los Angeles in July
        if last is not None and last[0] == day and dt_s >= 0:
            assert left <= last[1] + 1e-12
        last = (day, left)


def test_the_plan_is_told_what_is_left_of_todays_budget() -> None:
    """The car gives up to 6 kW for an hour under a 4.8 kWh-a-day budget (0.2 kWh/h): each
    re-plan is told the stored energy left today, which the plan spends
    (``planner/from_site.py day_windows``) instead of a whole day's again."""

    car = replace(vehicle(), discharge_budget_kwh_per_h=0.2)
    r = rig(control_site=site(car=car), car_soc_kwh=50.0, plan_kw={CAR: -6.0}, load_kw=6.0)
    r.run(3600.0)
    states = r.plans.calls
    assert states[0].budget_left_kwh == {CAR: pytest.approx(4.8)}
    last = states[-1]
    tick_h = r.tick_s / 3600.0
    # stored energy out so far, counted from the car's own SoC (the simulated home's books)
    given = 50.0 - r.car.soc_kwh
    left = last.budget_left_kwh[CAR]
    assert left is not None and 0.0 <= left < 4.8
    assert left == pytest.approx(max(0.0, 4.8 - given), abs=6.0 / CAR_ETA * tick_h + 1e-6)
