"""The planner's cost agrees with an independent LP (:mod:`.reference_lp`) on random sites.

This is what proves the plans optimal, overlap removal and binaries included: where the plan is
an LP optimum it must cost what the reference LP does (so removing free overlap kept the
objective); where the planner needed binaries it must cost what the reference MILP, with a
binary on every step of every storage and of the grid, does. Where the planner's bound on the
MIP's work cut the search short, its plan may only cost more than that MILP's optimum.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from voltbridge.planner import Planner, PlanRequest

from .reference_lp import reference_objective
from .scenarios import raw_requests

AGREE_RTOL = 1e-6


def planned_objective(req: PlanRequest) -> tuple[float, Planner]:
    planner = Planner()
    plan = planner.plan(req)
    return plan.cost.total - plan.cost.terminal_value, planner


def gap(ours: float, ref: float) -> float:
    return (ours - ref) / max(1.0, abs(ref))


def check(req: PlanRequest) -> None:
    """Without binaries the planner matches the LP; with them, the MILP that forbids every
    overlap (the plan never charges and discharges at once, so it is one of its solutions)."""
    ours, planner = planned_objective(req)
    exclusive = planner.last_stats.mip_rounds > 0 or planner.last_stats.fixed_directions
    ref = reference_objective(req, exclusive=exclusive)
    if planner.last_stats.proven_optimal:
        assert abs(gap(ours, ref)) <= AGREE_RTOL, (ours, ref, planner.last_stats)
    else:  # its work bound spent, the planner keeps a feasible plan: never below the optimum
        assert gap(ours, ref) >= -AGREE_RTOL, (ours, ref, planner.last_stats)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_requests())
def test_planner_cost_matches_the_reference_lp(req: PlanRequest) -> None:
    check(req)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_requests(negative_window=True, max_steps=24, max_cars=1))
def test_negative_prices_never_beat_the_relaxation(req: PlanRequest) -> None:
    check(req)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_requests(max_steps=96, max_cars=3))
def test_planner_cost_matches_the_reference_lp_many(req: PlanRequest) -> None:
    check(req)
