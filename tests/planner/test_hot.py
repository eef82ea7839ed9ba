"""Hot-started re-plans (voltbridge.planner.hot) against cold solves of the same requests."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voltbridge.planner import Planner, PlanRequest, build_model
from voltbridge.planner import hot as hot_module
from voltbridge.planner.hot import HotSolver, certify, row_ids
from voltbridge.planner.lp import assemble, solve

from .rolling import rolling, window

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from random_cases import random_cases

RTOL = 1e-9


def rel_gap(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(b))


def cold_objective(req: PlanRequest) -> float:
    return solve(build_model(req).lp).objective


def overlap_may_pay(req: PlanRequest) -> bool:
    """Negative prices or export above import: the planner may need branch and bound (slow)."""
    return bool(
        np.any(req.price_import < 0)
        or np.any(req.price_export < 0)
        or np.any(req.price_export > req.price_import)
    )


@pytest.mark.parametrize("seed", range(3))
def test_rolled_sequences_match_cold_solves(seed: int) -> None:
    """On random homes re-planned as the horizon rolls, every hot-started LP has the cold
    LP's objective to 1e-9, every plan the cold plan's cost to 1e-9, and no hot answer had to
    be thrown away."""
    starts: set[str] = set()
    bases = [r for r in random_cases(16, seed=100 + seed) if not overlap_may_pay(r)][:8]
    for case, base in enumerate(bases):
        hot = HotSolver()
        planner, cold = Planner(), Planner(hot=False)
        for req, plan in rolling(base, base.grid.n - 5, 5, planner.plan, seed=case):
            lp_hot = hot.solve(build_model(req).lp)
            starts.add(hot.last_mode)
            assert rel_gap(lp_hot.objective, cold_objective(req)) <= RTOL
            assert rel_gap(plan.cost.total, cold.plan(req).cost.total) <= RTOL
        assert hot.rejected == 0 and planner.hot_rejections == 0
    assert {"cold", "carried"} <= starts


def test_rolled_lps_with_negative_prices_match_cold_solves() -> None:
    """The LPs of homes where overlap may pay (whose plans go on to branch and bound, which
    is always cold) also hot-start exactly as the horizon rolls."""
    bases = [r for r in random_cases(24, seed=5) if overlap_may_pay(r)][:6]
    rng = np.random.default_rng(1)
    for base in bases:
        hot = HotSolver()
        n = base.grid.n - 5
        for k in range(5):
            soc = {s.name: float(rng.uniform(0.0, s.capacity_kwh)) for s in base.storages}
            req = window(base, k, n, soc, rng)
            assert rel_gap(hot.solve(build_model(req).lp).objective, cold_objective(req)) <= RTOL
        assert hot.rejected == 0


def test_same_structure_updates_the_kept_model() -> None:
    """New prices, forecasts and states of charge on the same grid update HiGHS's model in
    place; each answer equals a cold solve."""
    base = random_cases(1, seed=7)[0]
    rng = np.random.default_rng(0)
    hot = HotSolver()
    for _ in range(8):
        req = replace(
            base,
            price_import=base.price_import * rng.uniform(0.8, 1.2, base.grid.n),
            load_kw=base.load_kw * rng.uniform(0.8, 1.2, base.grid.n),
            storages=tuple(
                replace(s, soc0_kwh=float(rng.uniform(0.0, s.capacity_kwh))) for s in base.storages
            ),
        )
        assert rel_gap(hot.solve(build_model(req).lp).objective, cold_objective(req)) <= RTOL
    assert hot.last_mode == "updated"


def test_a_wrong_hot_answer_is_caught_and_solved_cold(monkeypatch: pytest.MonkeyPatch) -> None:
    """If HiGHS answered for a stale model (as in HiGHS issue #3294), the certificate rejects
    the answer and the cold solve is returned instead."""
    base = random_cases(1, seed=7)[0]
    hot = HotSolver()
    hot.solve(build_model(base).lp)
    monkeypatch.setattr(hot_module, "send_changes", lambda *args: None)  # changes get lost
    req = replace(base, price_import=base.price_import[::-1].copy())
    answer = hot.solve(build_model(req).lp)
    assert hot.rejected == 1 and hot.last_mode == "cold"
    assert rel_gap(answer.objective, cold_objective(req)) <= RTOL


def test_certificate_of_a_cold_optimum_and_of_an_infeasible_point() -> None:
    """The certificate is about 0 for HiGHS's cold optimum and infinite for a point off the
    model."""
    req = random_cases(1, seed=3)[0]
    lp = build_model(req).lp
    model = assemble(lp)
    hot = HotSolver()
    sol = hot.solve(lp)
    assert hot._h is not None
    duals = np.asarray(hot._h.getSolution().row_dual)
    rows = row_ids(model)
    assert certify(model, rows, sol.x, duals).gap <= RTOL * max(1.0, abs(sol.objective))
    assert certify(model, rows, sol.x + 1.0, duals).gap == np.inf


def test_one_planner_switching_sites_matches_cold() -> None:
    """A planner given another home's request (another structure) still plans it exactly."""
    a, b = random_cases(2, seed=11)
    planner = Planner()
    for req in (a, b, a, b):
        ours = planner.plan(req)
        assert rel_gap(ours.cost.total, Planner(hot=False).plan(req).cost.total) <= 1e-6
