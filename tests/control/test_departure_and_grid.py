"""Plan steps on the clock's quarter hours, and the departure shown as the household set it.

The issue: a departure set for 07:45 showed as 07:33, 07:35 or 07:03, because the status took
it from the plan's step edges, which started whenever the plan was made (:20:53). Checked here
against hand-made times: the grid's edges, the planner's departure step, the controller's
tracking of the shortened first step, and the status's departure (schedule and settings)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.control.harness import CAR, T0, rig, site
from voltbridge.config import load_site
from voltbridge.control.plan_source import PlanState, SitePlanSource, planning_grid
from voltbridge.control.settings import Settings, VehicleSettings
from voltbridge.control.tracking import plan_step
from voltbridge.forecast.trips import TripRule

from ..api.fakes import EXAMPLE

LA = ZoneInfo("America/Los_Angeles")


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LA).astimezone(UTC)


def test_a_plan_made_at_an_odd_time_steps_on_quarter_hours_after_a_short_first_step() -> None:
    start = utc(2026, 7, 8, 3, 20, 53)
    grid = planning_grid(int(start.timestamp()))
    edges = [datetime.fromtimestamp(int(e), UTC) for e in grid.edges_s]
    assert edges[0] == start
    assert edges[1] == utc(2026, 7, 8, 3, 30)  # the first step: 9 min 7 s
    assert all(e.minute % 15 == 0 and e.second == 0 for e in edges[1:])
    assert edges[-1] == utc(2026, 7, 8, 3, 15) + timedelta(hours=48)
    assert [round(h * 4) for h in grid.dt_h[1:16]] == [1] * 15  # 15-minute steps first
    assert grid.dt_h[-1] == 1.0  # hourly later


def test_a_plan_made_on_a_quarter_hour_is_the_grid_it_always_was() -> None:
    """The simulator plans on quarter hours: its grids must not change."""
    start = int(utc(2026, 7, 8, 3, 15).timestamp())
    fine = np.arange(start, start + 4 * 3600, 900)
    coarse = np.arange(start + 4 * 3600, start + 48 * 3600 + 1, 3600)
    assert planning_grid(start).edges_s.tolist() == [*fine.tolist(), *coarse.tolist()]


def test_a_first_step_under_a_minute_is_merged_into_the_next() -> None:
    start = int(utc(2026, 7, 8, 3, 29, 30).timestamp())
    grid = planning_grid(start)
    assert int(grid.edges_s[1]) == int(utc(2026, 7, 8, 3, 45).timestamp())


def test_the_planner_leaves_at_the_schedules_time_and_tracking_follows_the_first_step() -> None:
    """The example's EV9 leaves at 07:45 on weekdays: planned at 05:20:53 (the departure in the
    plan's first four hours, of 15-minute steps), the plan's car is home up to 07:45 exactly and
    away from it, and the controller finds the right step both in the shortened first step and
    on either side of the departure."""
    now = utc(2026, 7, 8, 5, 20, 53)  # a Wednesday
    plan = SitePlanSource(load_site(EXAMPLE)).make_plan(
        PlanState(now=now, soc_pct={"ev9": 55.0}, plugged_in={"ev9": True}, settings=Settings())
    )
    car = plan.storage("ev9")
    away = int(np.argmin(car.plugged_in.astype(bool)))
    leave = utc(2026, 7, 8, 7, 45)
    assert int(plan.grid.edges_s[away]) == int(leave.timestamp())
    assert car.plugged_in[:away].all()
    first = plan_step(plan, now)
    assert first is not None and first.soc_kwh["ev9"] == pytest.approx(float(car.soc_kwh[0]))
    inside = plan_step(plan, now + timedelta(minutes=9))  # 05:29:53, still the first step
    assert inside is not None and inside.power_kw["ev9"] == float(car.power_kw[0])
    before, after = plan_step(plan, leave - timedelta(seconds=1)), plan_step(plan, leave)
    assert before is not None and after is not None
    assert before.power_kw["ev9"] == float(car.power_kw[away - 1])
    assert after.power_kw["ev9"] == float(car.power_kw[away]) == 0.0
    # the departure's target is met at the edge it leaves on: 80 % of the EV9's usable kWh
    assert float(car.soc_kwh[away]) >= 0.8 * car.capacity_kwh - 1e-6


def test_the_status_shows_the_schedules_departure_at_its_time() -> None:
    """T0 is Tuesday 18:00 in California: the next weekday departure is Wednesday 07:45."""
    weekdays = TripRule(("mon", "tue", "wed", "thu", "fri"), time(7, 45), time(17, 30), 12.0)
    r = rig(control_site=replace(site(), trips={CAR: (weekdays,)}))
    assert utc(2026, 7, 7, 18, 0) == T0
    status = asyncio.run(r.controller.tick())
    assert status.vehicles[CAR].departure == utc(2026, 7, 8, 7, 45)


def test_the_status_shows_the_departure_the_household_set() -> None:
    weekdays = TripRule(("mon", "tue", "wed", "thu", "fri"), time(7, 45), time(17, 30), 12.0)
    own = utc(2026, 7, 8, 6, 10)
    settings = Settings(vehicles={CAR: VehicleSettings(departure=own)})
    r = rig(control_site=replace(site(), trips={CAR: (weekdays,)}), settings=settings)
    status = asyncio.run(r.controller.tick())
    assert status.vehicles[CAR].departure == own


def test_without_a_schedule_or_a_set_departure_none_is_shown() -> None:
    status = asyncio.run(rig().controller.tick())
    assert status.vehicles[CAR].departure is None
