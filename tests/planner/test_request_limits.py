"""Requests at the edges of their limits: bad inputs refused with a message, and warnings that
agree with the slack when a target or reserve lies above the storage's maximum."""

from __future__ import annotations

import numpy as np
import pytest

from voltbridge.planner import Planner

from .builders import car, hourly, request
from .checks import assert_plan_valid


def test_negative_start_soc_is_refused_with_a_message() -> None:
    """A negative stored energy is a bad measurement, not a plan to make: ``validate`` should
    name the storage and field (today HiGHS reports the LP infeasible and the planner raises
    SolverError, whose docstring calls that "a bug: every planner model is feasible")."""
    g = hourly(6)
    ev = car(g, soc0_kwh=-1.0, plugged=np.zeros(6, dtype=bool))
    with pytest.raises(ValueError, match=r"ev.*soc0"):
        Planner().plan(request(g, [ev]))


def test_target_above_max_soc_is_not_blamed_on_plug_in_time() -> None:
    """Plugged in for 6 h at 7 kW with 40 kWh, a 48 kWh maximum (an 80 % charge limit) and a
    54 kWh departure target: the car stops at 48 kWh because of its limit, not for lack of time.
    Targets are capped at capacity for the same reason; the warning must not say "not enough
    time plugged in" (either cap the target at max_soc too, or name the limit)."""
    g = hourly(6)
    ev = car(g, soc0_kwh=40.0, max_soc_kwh=48.0, departures=[(6, 54.0)])
    req = request(g, [ev])
    p = Planner().plan(req)
    assert_plan_valid(req, p)
    assert p.storage("ev").soc_kwh[6] == pytest.approx(48.0, abs=1e-6)
    assert not any("not enough time plugged in" in w for w in p.warnings), p.warnings


def test_reserve_warning_agrees_with_reserve_slack() -> None:
    """A 50 kWh reserve on a car limited to 48 kWh: the planner clips the reserve to 48 and
    reports ``reserve:ev`` = 0 once the car is full, so no warning should claim a shortfall that
    the slack does not show (the warning compares with the unclipped reserve)."""
    g = hourly(6)
    ev = car(g, soc0_kwh=48.0, max_soc_kwh=48.0, reserve_kwh=50.0)
    req = request(g, [ev])
    p = Planner().plan(req)
    assert_plan_valid(req, p)
    assert p.slack["reserve:ev"] == pytest.approx(0.0, abs=1e-9)
    assert not any("below its mobility reserve" in w for w in p.warnings), p.warnings
