"""The planner's cost agrees with an independent LP (:mod:`.reference_lp`) on random sites.

This is what proves the plans optimal, overlap removal and binaries included: the reference
LP has no binaries, so where the planner's plan is an LP optimum the two agree, and where it
had to exclude paying overlap with binaries it may only cost more; the seeded negative-price
cases check that gap is zero wherever the relaxation needs no overlap.
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
    ours, planner = planned_objective(req)
    ref = reference_objective(req)
    if planner.last_stats.mip_rounds == 0 and not planner.last_stats.fixed_directions:
        assert abs(gap(ours, ref)) <= AGREE_RTOL, (ours, ref, planner.last_stats)
    else:  # binaries exclude plans the relaxation may use: never cheaper than it
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
