"""Small planning problems whose optimum is worked out by hand in each test's docstring."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from voltbridge.battery.cost import WearCost
from voltbridge.core.types import Plan
from voltbridge.planner import DemandCharge, Planner, PlanRequest, build_model
from voltbridge.planner.lp import solve
from voltbridge.planner.request import BudgetWindow

from .builders import MONDAY, FloatArray, battery, car, hourly, request
from .checks import assert_plan_valid
from .reference_lp import reference_objective

PEAK = slice(17, 21)
"""Steps 17..20 of an hourly day: a four-hour evening peak."""


def plan(req: PlanRequest) -> Plan:
    p = Planner().plan(req)
    assert_plan_valid(req, p)
    return p


def evening_peak_prices(peak: float = 0.50, base: float = 0.10) -> FloatArray:
    prices = np.full(24, base)
    prices[PEAK] = peak
    return prices


def test_two_price_day_charges_only_in_cheap_hours() -> None:
    """Needs X = 40 - 20 = 20 kWh stored by 08:00; the six cheap hours (0.10) hold 6 * 7 = 42 kWh AC.

    The charger draws X / eta_c = 22.22 kWh AC, all between 00:00 and 06:00, none at 0.30:
    cost = 22.22 * 0.10 = 2.222. With no terminal value, nothing above the target is bought.
    """
    g = hourly(24)
    prices = np.where(np.arange(24) < 6, 0.10, 0.30)
    plugged = np.arange(24) < 8
    ev = car(g, soc0_kwh=20.0, plugged=plugged, departures=[(8, 40.0)])
    req = request(g, [ev], price_import=prices, terminal_value_per_kwh=0.0)
    p = plan(req)
    sp = p.storage("ev")
    x_ac = 20.0 / 0.9
    assert sp.power_kw[:6].sum() == pytest.approx(x_ac, abs=1e-6)
    np.testing.assert_allclose(sp.power_kw[6:], 0.0, atol=1e-9)
    assert sp.soc_kwh[8] == pytest.approx(40.0, abs=1e-6)
    assert p.cost.import_cost == pytest.approx(x_ac * 0.10, abs=1e-6)
    assert p.cost.total == pytest.approx(x_ac * 0.10, abs=1e-6)
    assert p.slack["departure:ev"] == pytest.approx(0.0, abs=1e-9)
    assert p.warnings == ()


@pytest.mark.parametrize(
    ("export_limit_kw", "can_export"), [(0.0, True), (10.0, False)], ids=["no-export", "v2h-only"]
)
def test_v2h_covers_the_evening_peak(export_limit_kw: float, can_export: bool) -> None:
    """Load 2 kW all day; 0.50 from 17:00 to 21:00, 0.10 otherwise; terminal value v = 0.10.

    Discharging saves the price per kWh AC and loses v / eta_d = 0.111 of stored value: worth it
    only in the peak. Charging costs 0.10 per kWh AC for eta_c v = 0.09 of value: never. Export
    (0.40) is closed, by the limit or by the car. So the car gives exactly the load in the peak:
    8 kWh AC, SoC drop 8 / 0.9 = 8.89 kWh; the grid gives 2 kW in the other 20 hours (4.00).
    """
    g = hourly(24)
    ev = car(g, soc0_kwh=40.0, discharge_kw=7.0, reserve_kwh=10.0, can_export=can_export)
    req = request(
        g,
        [ev],
        load_kw=2.0,
        price_import=evening_peak_prices(),
        price_export=0.40,
        export_limit_kw=export_limit_kw,
        terminal_value_per_kwh=0.10,
    )
    p = plan(req)
    sp = p.storage("ev")
    np.testing.assert_allclose(sp.power_kw[PEAK], -2.0, atol=1e-9)
    np.testing.assert_allclose(p.grid_kw[PEAK], 0.0, atol=1e-9)
    off_peak = np.ones(24, dtype=bool)
    off_peak[PEAK] = False
    np.testing.assert_allclose(p.grid_kw[off_peak], 2.0, atol=1e-9)
    np.testing.assert_allclose(sp.power_kw[off_peak], 0.0, atol=1e-9)
    assert -sp.power_kw.sum() == pytest.approx(8.0, abs=1e-9)
    assert sp.soc_kwh[0] - sp.soc_kwh[-1] == pytest.approx(8.0 / 0.9, abs=1e-9)
    assert p.cost.import_cost == pytest.approx(20 * 2 * 0.10, abs=1e-9)
    assert p.cost.export_revenue == 0.0


def test_impossible_departure_is_reported_not_raised() -> None:
    """Away 2 h using 5 kWh (10 -> 5 kWh), home from 02:00 to the 03:00 departure at 7 kW.

    One hour at 7 kW stores 7 * 0.9 = 6.3 kWh: 11.3 kWh at departure, 40 - 11.3 = 28.7 short.
    """
    g = hourly(4, step_minutes=15)
    plugged = (np.arange(16) >= 8) & (np.arange(16) < 12)
    driving = np.where(np.arange(16) < 8, 5.0 / 8, 0.0)
    ev = car(g, soc0_kwh=10.0, plugged=plugged, driving_kwh=driving, departures=[(12, 40.0)])
    p = plan(request(g, [ev]))
    sp = p.storage("ev")
    np.testing.assert_allclose(sp.power_kw[8:12], 7.0, atol=1e-9)
    assert sp.soc_kwh[12] == pytest.approx(11.3, abs=1e-9)
    assert p.slack["departure:ev"] == pytest.approx(28.7, abs=1e-6)
    (warning,) = [w for w in p.warnings if "departure" in w]
    assert warning.startswith("ev:") and "28.7" in warning and "40.0" in warning


def negative_price_request() -> PlanRequest:
    """A full 10 kWh battery that may export, 1 kW load, import paid for (-0.10) from 04:00 to 08:00.

    Burning energy in losses pays there: charging 5 kW and discharging 5 * 0.95^2 kW at once
    keeps a full battery full while importing more, and importing to export earns twice. The
    wear (0.001 per kWh) is far below those gains.
    """
    g = hourly(12)
    prices = np.full(12, 0.20)
    prices[4:8] = -0.10
    bat = battery(g, soc0_kwh=10.0, can_export=True, wear=WearCost(0.001, 0.0, 0.0))
    return request(
        g,
        [bat],
        load_kw=1.0,
        price_import=prices,
        price_export=0.05,
        export_limit_kw=10.0,
        import_limit_kw=10.0,
    )


def test_negative_prices_relaxation_cycles_but_the_plan_does_not() -> None:
    """The LP relaxation charges and discharges at once; the plan's SoC still follows its power."""
    req = negative_price_request()
    built = build_model(req)
    x = solve(built.lp).x
    sc = built.storages[0]
    both = (x[sc.charge] > 1e-6) & (x[sc.discharge] > 1e-6)
    assert both.any(), "expected the relaxation to charge and discharge at once"
    p = plan(req)  # SoC from power and degradation from |power| would catch netting
    sp = p.storage("battery")
    # Emptied before the window (0.20 saved per kWh), filled in it while paid to import.
    assert sp.soc_kwh[4] == pytest.approx(0.0, abs=1e-6)
    # Several plans tie here (which window steps charge is free): the best is checked by cost.
    assert sp.power_kw[4:8].max() > 0.0
    best = reference_objective(req, exclusive=True)
    assert p.cost.total - p.cost.terminal_value == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert np.maximum(p.grid_kw[4:8], 0.0).sum() > 4 * 1.0 + 5.0


def test_negative_prices_grid_never_imports_and_exports_at_once() -> None:
    """Import paid 0.10 and export paid 0.05: importing and exporting together would earn both.

    The relaxation does it (through the exporting battery); the plan reports costs that match
    its net grid power, which is only possible if import and export never overlap.
    """
    req = negative_price_request()
    built = build_model(req)
    x = solve(built.lp).x
    overlap = (x[built.grid.imp] > 1e-6) & (x[built.grid.exp] > 1e-6)
    assert overlap.any(), "expected the relaxation to import and export at once"
    p = plan(req)
    imp = np.maximum(p.grid_kw, 0.0)
    assert p.cost.import_cost == pytest.approx(float((req.price_import * imp).sum()), abs=1e-9)


def demand_request(rate: float) -> PlanRequest:
    g = hourly(6)
    bat = battery(g, capacity_kwh=4.0, soc0_kwh=4.0, power_kw=5.0, eta=(0.9, 0.9))
    window = np.array([False, False, True, True, False, False])
    charges = (DemandCharge(mask=window, rate_per_kw=rate),) if rate else ()
    return request(
        g,
        [bat],
        load_kw=[1, 1, 5, 5, 1, 1],
        price_import=0.10,
        demand_charges=charges,
        terminal_value_per_kwh=0.10,
    )


def test_demand_charge_flattens_peak_import() -> None:
    """Load [1, 1, 5, 5, 1, 1] kW, flat 0.10, a full 4 kWh battery (eta 0.9 each way), v = 0.10.

    Without a demand charge the battery idles: discharging saves 0.10 per kWh AC but loses
    v / 0.9 = 0.111, charging costs 0.10 for 0.09 of value. With 10 per kW of peak over steps
    2-3, the battery's 4 * 0.9 = 3.6 kWh AC is split evenly: 1.8 kW each, peak 5 - 1.8 = 3.2 kW,
    demand charge 32 (a kW of peak saves 10 and costs 2 kWh * 0.011).
    """
    flat = plan(demand_request(0.0))
    np.testing.assert_allclose(flat.grid_kw, [1, 1, 5, 5, 1, 1], atol=1e-9)
    p = plan(demand_request(10.0))
    np.testing.assert_allclose(p.grid_kw, [1, 1, 3.2, 3.2, 1, 1], atol=1e-9)
    assert p.cost.demand_charge == pytest.approx(32.0, abs=1e-6)
    assert p.storage("battery").soc_kwh[-1] == pytest.approx(0.0, abs=1e-9)


def budget_request(budget: float | None) -> PlanRequest:
    g = hourly(24)
    bat = battery(g, soc0_kwh=10.0, eta=(0.9, 0.9), discharge_budget_kwh=budget)
    return request(
        g, [bat], load_kw=2.0, price_import=evening_peak_prices(), terminal_value_per_kwh=0.10
    )


def test_discharge_budget_caps_discharge() -> None:
    """The V2H peak of 8 kWh AC, with a 3 kWh budget: exactly 3 kWh AC, in the peak, no slack.

    Going over costs 3 * max(0.50, 1) = 3 per kWh, more than the 0.50 a peak kWh saves.
    """
    free = plan(budget_request(None))
    assert -free.storage("battery").power_kw.sum() == pytest.approx(8.0, abs=1e-9)
    p = plan(budget_request(3.0))
    power = p.storage("battery").power_kw
    assert -power.sum() == pytest.approx(3.0, abs=1e-9)
    assert np.all(power[:17] >= -1e-9) and np.all(power[21:] >= -1e-9)
    assert p.slack["discharge_budget:battery"] == pytest.approx(0.0, abs=1e-9)
    assert not any("budget" in w for w in p.warnings)


def test_budget_windows_spread_the_allowance_over_days() -> None:
    """Two days, a peak of 0.50 from 17:00 to 21:00 each day (2 kW load), a full 10 kWh battery
    (eta 0.9), v = 0.10. A 4 kWh horizon budget lets the plan spend it all on one day; with one
    2 kWh (stored) window a day the battery gives 2 * 0.9 = 1.8 kWh AC in each day's peak and
    no more: going over costs 3 per kWh, more than a peak kWh saves.
    """
    g = hourly(48)
    prices = np.tile(evening_peak_prices(), 2)
    windows = (
        BudgetWindow(0, 24, 2.0, MONDAY),
        BudgetWindow(24, 48, 2.0, MONDAY + timedelta(days=1)),
    )
    bat = replace(battery(g, soc0_kwh=10.0, eta=(0.9, 0.9)), budget_windows=windows)
    req = request(g, [bat], load_kw=2.0, price_import=prices, terminal_value_per_kwh=0.10)
    p = plan(req)
    given = np.maximum(-p.storage("battery").power_kw, 0.0)
    assert given[:24].sum() == pytest.approx(1.8, abs=1e-9)
    assert given[24:].sum() == pytest.approx(1.8, abs=1e-9)
    assert given[PEAK].sum() == pytest.approx(1.8, abs=1e-9)
    assert p.slack["discharge_budget:battery"] == pytest.approx(0.0, abs=1e-9)
    assert not any("allowance" in w for w in p.warnings)
    assert (
        plan(
            replace(
                req,
                storages=(
                    replace(bat, soc0_kwh=10.0, budget_windows=(BudgetWindow(0, 24, 0.0, MONDAY),)),
                ),
            )
        )
        .storage("battery")
        .power_kw[:24]
        .min()
        >= -1e-9
    )


def backup_request(backup_kwh: float | None) -> PlanRequest:
    g = hourly(24)
    prices = np.full(24, 0.10)
    prices[:8] = 0.50
    ev = car(
        g,
        soc0_kwh=30.0,
        discharge_kw=7.0,
        reserve_kwh=10.0,
    )
    return request(
        g,
        [ev],
        load_kw=2.0,
        price_import=prices,
        backup_kwh=backup_kwh,
        terminal_value_per_kwh=0.10,
    )


def test_backup_reserve_holds_energy_above_the_floor() -> None:
    """An 8 h peak at 0.50 from the start, 2 kW load, 0.10 after it, v = 0.10.

    Without backup the car covers the peak: 16 kWh AC = 17.8 kWh stored, from 30 to 12.2 kWh,
    above its 10 kWh floor. With 10 kWh of backup above the floor the car stops at 20 kWh:
    10 kWh stored = 9 kWh AC, the grid supplies the remaining 7 kWh of peak load, and the car is
    not charged back (0.10 / 0.9 per kWh stored is more than v).
    """
    free = plan(backup_request(None))
    assert free.storage("ev").soc_kwh.min() == pytest.approx(30.0 - 16.0 / 0.9, abs=1e-9)
    p = plan(backup_request(10.0))
    sp = p.storage("ev")
    assert sp.soc_kwh.min() >= 20.0 - 1e-9
    assert -sp.power_kw.sum() == pytest.approx(9.0, abs=1e-9)
    assert p.slack["backup_reserve"] == pytest.approx(0.0, abs=1e-9)


def test_same_request_gives_bit_identical_plans() -> None:
    """Both the LP and the branch-and-bound path (negative prices) are deterministic."""
    for req in (negative_price_request(), backup_request(10.0), demand_request(10.0)):
        a, b = Planner().plan(req), Planner().plan(req)
        for x, y in (
            [(a.grid_kw, b.grid_kw), (a.pv_used_kw, b.pv_used_kw)]
            + [(s.power_kw, t.power_kw) for s, t in zip(a.storages, b.storages, strict=True)]
            + [(s.soc_kwh, t.soc_kwh) for s, t in zip(a.storages, b.storages, strict=True)]
        ):
            assert x.tobytes() == y.tobytes()
        assert a.cost == b.cost and a.slack == b.slack and a.warnings == b.warnings


def test_short_first_step() -> None:
    """Re-planning at 00:07: the first step lasts 8 min, the rest 15 min, over 6 h.

    The first step is the cheapest, so the car charges at 11 kW through it: 11 * 8/60 * 0.9 =
    1.32 kWh stored, not the 2.475 kWh of a full 15-minute step. It reaches its 50 kWh target
    before the last step; the balance and SoC checks must use the short steps too.
    """
    g = hourly(6, step_minutes=15, start=MONDAY + timedelta(minutes=7))
    n = g.n
    assert g.dt_h[0] == pytest.approx(8 / 60) and g.dt_h[-1] == pytest.approx(7 / 60)
    np.testing.assert_allclose(g.dt_h[1:-1], 0.25)
    prices = np.linspace(0.4, 0.1, n)
    prices[0] = 0.05
    pv = np.where(np.arange(n) > 12, 3.0, 0.0)
    ev = car(g, soc0_kwh=20.0, charge_kw=11.0, discharge_kw=11.0, departures=[(n - 1, 50.0)])
    bat = battery(g, soc0_kwh=8.0)
    req = request(
        g,
        [ev, bat],
        load_kw=1.5,
        pv_kw=pv,
        price_import=prices,
        pv_export=True,
        export_limit_kw=5.0,
        price_export=0.05,
    )
    p = plan(req)
    sp = p.storage("ev")
    assert sp.power_kw[0] == pytest.approx(11.0, abs=1e-9)
    assert sp.soc_kwh[1] == pytest.approx(20.0 + 11.0 * 8 / 60 * 0.9, abs=1e-9)
    assert sp.soc_kwh[n - 1] == pytest.approx(50.0, abs=1e-6)


def test_unmet_driving_never_exceeds_the_trip() -> None:
    """A 1 kWh trip in the first hour from 21 kWh; then home with a 30 kWh reserve and a 0.5 kW
    charger, so the reserve is missed for most of the day whatever the plan.

    Unmet driving is energy the trip needed that the car could not hold; here the car holds it
    all, so none is unmet, and it can never exceed the trip's 1 kWh (a car does not come home
    with more than it left with).
    """
    g = hourly(24)
    plugged = np.arange(24) > 0
    ev = car(
        g,
        soc0_kwh=21.0,
        plugged=plugged,
        charge_kw=0.5,
        reserve_kwh=30.0,
        driving_kwh=np.where(plugged, 0.0, 1.0),
    )
    req = request(g, [ev], load_kw=1.0)
    p = Planner().plan(req)
    sp = p.storage("ev")
    assert sp.driving_kwh[0] >= 0.0, (
        f"plan drives {sp.driving_kwh[0]:.2f} kWh: the car gains energy while away"
    )
    assert p.slack["unmet_driving:ev"] == pytest.approx(0.0, abs=1e-6)
    assert not any("trips" in w for w in p.warnings)
    assert_plan_valid(req, p)


def test_car_below_its_floor_does_not_cancel_the_battery_backup() -> None:
    """A full 10 kWh battery holds the 8 kWh backup by itself. The car, plugged in at 5 kWh under
    its 20 kWh floor, "does not count for backup" below that floor (StorageSpec): it adds
    nothing, and must not take 15 kWh away from what the battery holds.
    """
    g = hourly(12)
    ev = car(g, soc0_kwh=5.0, charge_kw=3.7, discharge_kw=3.7, reserve_kwh=20.0)
    bat = battery(g, soc0_kwh=10.0)
    req = request(g, [ev, bat], load_kw=1.0, backup_kwh=8.0)
    p = Planner().plan(req)
    assert p.slack["backup_reserve"] == pytest.approx(0.0, abs=1e-6)
    assert not any("backup" in w for w in p.warnings)
    assert_plan_valid(req, p)


def test_below_reserve_charges_back_at_full_power() -> None:
    """5 kWh against a 20 kWh reserve, 0.50 for 4 h then 0.10: the reserve penalty (10 per kWh·h,
    the scale being at least 1) outweighs waiting for the cheap hours, so the car charges at 7 kW
    from the start. 15 kWh stored = 16.67 kWh AC: nine 15-min steps at 7 kW (15.75 kWh) and
    0.92 kWh in the tenth, then nothing more (v = 0.10 is less than 0.10 / 0.9 per kWh stored).
    """
    g = hourly(8, step_minutes=15)
    prices = np.where(np.arange(32) < 16, 0.50, 0.10)
    ev = car(g, soc0_kwh=5.0, reserve_kwh=20.0)
    p = plan(request(g, [ev], price_import=prices))
    sp = p.storage("ev")
    np.testing.assert_allclose(sp.power_kw[:9], 7.0, atol=1e-9)
    assert sp.soc_kwh[10] == pytest.approx(20.0, abs=1e-9)
    np.testing.assert_allclose(sp.power_kw[10:], 0.0, atol=1e-9)


def test_demand_charge_does_not_outweigh_a_reachable_departure() -> None:
    """Penalties "are multiples of the largest price ... so that a request that can be met is
    always met". Home for 30 min before a departure needing 3.15 kWh (7 kW * 0.5 h * 0.9), on a
    tariff with a 15 per kW demand charge at all hours: charging raises the peak from 1 to 8 kW
    (105), the missed target costs 3.15 * 20 * max(0.30, 1) = 63. The target must still be met.
    """
    g = hourly(8, step_minutes=15)
    plugged = (np.arange(32) >= 24) & (np.arange(32) < 26)
    ev = car(g, soc0_kwh=10.0, plugged=plugged, departures=[(26, 13.15)])
    req = request(
        g,
        [ev],
        load_kw=1.0,
        price_import=0.30,
        demand_charges=[DemandCharge(mask=np.ones(32, dtype=bool), rate_per_kw=15.0)],
    )
    p = plan(req)
    assert p.storage("ev").soc_kwh[26] == pytest.approx(13.15, abs=1e-6)
    assert p.slack["departure:ev"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("pv_kw", "value"), [(0.0, 0.30), (2.0, 0.15)])
def test_terminal_value_counts_the_suns_refill(pv_kw: float, value: float) -> None:
    """A day at 0.30 flat with 1 kW of load. With no PV the end value is 0.30. With 2 kW of PV
    for the first 12 h the surplus is 12 kWh and the deficit (the other 12 h) 12 kWh: the sun
    covers it all, and a kWh left stored is worth half, 0.15."""
    from voltbridge.planner.model import terminal_value

    g = hourly(24)
    pv = np.zeros(24)
    pv[:12] = pv_kw
    req = request(g, [battery(g, soc0_kwh=5.0)], load_kw=1.0, pv_kw=pv, price_import=0.30)
    assert terminal_value(req) == pytest.approx(value)
    # 1.5 kW of PV for 12 h: 6 kWh of surplus for 12 of deficit, half covered: 0.30 * 0.75
    pv[:12] = 1.5
    req = request(g, [battery(g, soc0_kwh=5.0)], load_kw=1.0, pv_kw=pv, price_import=0.30)
    assert terminal_value(req) == pytest.approx(0.225)
