"""Zero-cost overlap is removed without binaries, at the same objective, and paying overlap is not.

The site: a full battery and 10 kW of PV over a 1 kW load with a 2 kW export limit, so 7 kW
must go somewhere for free: curtailment, or burning it in the battery's losses by charging and
discharging at once. Both cost the same; only the first is a plan a battery can follow.
"""

from __future__ import annotations

import numpy as np
import pytest

from voltbridge.planner import Planner, PlanRequest, build_model
from voltbridge.planner import overlap as ov
from voltbridge.planner.lp import solve
from voltbridge.planner.planner import simultaneous_steps

from .builders import battery, hourly, request
from .reference_lp import reference_objective


def surplus_request(price_import: float = 0.30, pv_kw: float = 10.0) -> PlanRequest:
    g = hourly(4)
    bat = battery(g, capacity_kwh=10.0, soc0_kwh=10.0, power_kw=5.0, eta=(0.9, 0.9))
    return request(
        g,
        [bat],
        load_kw=1.0,
        pv_kw=pv_kw,
        price_import=price_import,
        price_export=0.05,
        export_limit_kw=2.0,
        pv_export=True,
    )


def with_burnt_surplus(x: np.ndarray, built: object, kw: float) -> np.ndarray:
    """``x`` with the battery charging ``kw`` and discharging ``0.81 kw`` more at every step and
    less PV curtailed by the difference: the same stored energy and bus balance, at no cost."""
    sc = built.storages[0]  # type: ignore[attr-defined]
    g = built.grid  # type: ignore[attr-defined]
    out = x.copy()
    out[sc.charge] += kw
    out[sc.discharge] += 0.81 * kw
    out[g.pv] += 0.19 * kw
    return out


def test_burnt_surplus_is_turned_into_curtailment_at_the_same_objective() -> None:
    req = surplus_request()
    built = build_model(req)
    sol = solve(built.lp)
    arrays = ov.Arrays.of(built.lp)
    burnt = with_burnt_surplus(sol.x, built, 4.0)
    assert simultaneous_steps(built, req, burnt)  # the injected overlap is there
    assert arrays.objective(burnt) == pytest.approx(arrays.objective(sol.x), abs=1e-12)
    assert arrays.violation(burnt) <= 1e-9
    fixed = ov.remove_free_overlap(req, arrays, built.grid, built.storages, burnt)
    assert not simultaneous_steps(built, req, fixed)
    assert arrays.objective(fixed) == pytest.approx(arrays.objective(sol.x), abs=1e-12)
    assert arrays.violation(fixed) <= 1e-9
    np.testing.assert_allclose(fixed[built.storages[0].charge], sol.x[built.storages[0].charge])


def test_paying_overlap_is_left_for_the_binaries() -> None:
    """At a negative import price and without PV the burnt energy is bought at a profit: less
    import would cost money, so the transformation must leave it (the planner uses binaries)."""
    req = surplus_request(price_import=-0.10, pv_kw=0.0)
    built = build_model(req)
    sol = solve(built.lp)
    arrays = ov.Arrays.of(built.lp)
    x = sol.x
    assert simultaneous_steps(built, req, x)  # the relaxation burns energy bought at a profit
    assert arrays.violation(x) <= 1e-9
    kept = ov.remove_free_overlap(req, arrays, built.grid, built.storages, x)
    assert kept is x


def test_planner_needs_no_binaries_for_free_overlap_and_matches_the_reference() -> None:
    req = surplus_request()
    planner = Planner()
    plan = planner.plan(req)
    assert planner.last_stats.mip_rounds == 0
    sp = plan.storages[0]
    assert plan.cost.total - plan.cost.terminal_value == pytest.approx(
        reference_objective(req), rel=1e-9, abs=1e-9
    )
    assert np.all(np.abs(sp.power_kw) <= 5.0 + 1e-9)
