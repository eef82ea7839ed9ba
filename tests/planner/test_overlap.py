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

from .builders import battery, car, hourly, request
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


def flat_price_request() -> PlanRequest:
    """Import and export both at 0.01 (found by hypothesis): a car needs 10 kWh more by the end
    and the only way is import at its 3.7 kW limit, so the LP optimum may import and export
    through the exporting battery at once for free."""
    g = hourly(3, step_minutes=15)
    ev = car(
        g,
        capacity_kwh=40.0,
        soc0_kwh=2.0,
        charge_kw=3.7,
        eta=(0.85, 0.85),
        max_soc_kwh=32.0,
        departures=[(12, 12.0)],
    )
    bat = battery(g, capacity_kwh=5.0, soc0_kwh=0.0, power_kw=2.5, can_export=True)
    pv = np.zeros(12)
    pv[1] = 0.1
    return request(
        g,
        [ev, bat],
        load_kw=0.0,
        pv_kw=pv,
        price_import=0.01,
        price_export=0.01,
        import_limit_kw=3.7,
        export_limit_kw=5.0,
        pv_export=True,
    )


def test_free_overlap_of_the_lp_is_removed_without_binaries() -> None:
    """The old planner ran branch and bound here; now the LP's overlap is moved away at the
    same cost (the reference LP's) and no binary is added."""
    req = flat_price_request()
    built = build_model(req)
    assert simultaneous_steps(built, req, solve(built.lp).x), "the LP optimum overlaps"
    planner = Planner()
    plan = planner.plan(req)
    assert planner.last_stats.lp_overlap and planner.last_stats.mip_rounds == 0
    grid = plan.grid_kw
    imp = np.maximum(grid, 0.0)
    assert plan.cost.import_cost == pytest.approx(float((0.01 * imp * 0.25).sum()), abs=1e-12)
    assert plan.cost.total - plan.cost.terminal_value == pytest.approx(
        reference_objective(req), rel=1e-9, abs=1e-9
    )
