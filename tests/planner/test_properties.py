"""Invariants of the planner on random small sites: valid plans, never worse than no control."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from voltbridge.planner import Planner, PlanRequest
from voltbridge.planner.model import terminal_value

from .checks import assert_plan_valid, departure_shortfall_kwh, price_scale
from .scenarios import feasible_requests, raw_requests, uncontrolled

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def objective_tolerance(req: PlanRequest, reference: float) -> float:
    """Room for HiGHS's tolerances (MIP gap 1e-6 relative to an objective that includes the
    reserve reward constant) [currency]."""
    reward = sum(
        req.penalties.mobility_reserve
        * price_scale(req)
        * float((s.reserve_kwh[1:] * req.grid.dt_h).sum())
        for s in req.storages
    )
    return 1e-6 + 2e-6 * (abs(reference) + reward)


@PROPERTY
@given(feasible_requests())
def test_plan_is_valid_and_beats_uncontrolled_charging(req: PlanRequest) -> None:
    """(a) every hard limit holds and costs add up; (b) the plan's objective is no worse than
    the uncontrolled baseline's, which meets every soft limit here; (c) reachable targets are met."""
    plan = Planner().plan(req)
    assert_plan_valid(req, plan)
    base = uncontrolled(req)
    v = terminal_value(req)
    ours = plan.cost.total - plan.cost.terminal_value
    theirs = base.cost - v * base.final_soc_kwh
    assert ours <= theirs + objective_tolerance(req, theirs), (ours, theirs)
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        assert departure_shortfall_kwh(spec, sp.soc_kwh) <= 1e-6, spec.name
        assert plan.slack[f"departure:{spec.name}"] <= 1e-6
        assert plan.slack[f"unmet_driving:{spec.name}"] <= 1e-6
    assert plan.slack["unserved_load"] <= 1e-6


@PROPERTY
@given(feasible_requests(negative_window=True, max_steps=24, max_cars=1))
def test_negative_prices_never_charge_and_discharge_at_once(req: PlanRequest) -> None:
    """(d) with paid imports, netting charge against discharge (or import against export) would
    break the SoC recomputed from the signed power, or the degradation and costs from it."""
    assert np.any(req.price_import < 0)
    plan = Planner().plan(req)
    assert_plan_valid(req, plan)


@PROPERTY
@given(raw_requests())
def test_infeasible_requests_give_warnings_not_exceptions(req: PlanRequest) -> None:
    """(e) targets above reach, reserves the car arrives below, trips longer than the battery:
    the plan is still valid and every shortfall is named in a warning."""
    plan = Planner().plan(req)
    assert_plan_valid(req, plan)
    text = "\n".join(plan.warnings)
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        if departure_shortfall_kwh(spec, sp.soc_kwh) > 0.1:
            assert f"{spec.name}: departure" in text
        if float((spec.driving_kwh - sp.driving_kwh).sum()) > 0.1:
            assert f"{spec.name}: trips" in text
        short = (
            np.minimum(spec.reserve_kwh[1:], max(spec.max_soc_kwh, spec.soc0_kwh)) - sp.soc_kwh[1:]
        )
        if short.max(initial=0.0) > 0.1:
            assert f"{spec.name}: below its" in text
    if float((plan.unserved_kw * req.grid.dt_h).sum()) > 0.1:
        assert "cannot be supplied" in text
