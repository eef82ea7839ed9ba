"""Savings compare like with like: the baseline's charge counts only as the real car charges.

The issue: "Saved $5.89 today" at 03:35, before the deferred night charge had happened, because
the baseline's evening charge was priced at once while the real car had not charged yet. Here
one charge by hand: the baseline car draws 14.4 kWh at 0.50 in the evening (two hours at 7.2
kW, from 35.05 kWh to its 48 kWh target at 90 %), the real car charges the same 14.4 kWh at
0.20 later; the house draws 1 kW throughout, no PV."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.api.fakes import demo_status
from tests.control.harness import CAR, T0, rig, site
from voltbridge.control.baseline import ShadowBaseline
from voltbridge.control.settings import Settings
from voltbridge.store.money import interval_money
from voltbridge.store.sample import Sample, sample_from_dict, sample_from_status

EVENING, NIGHT, EXPORT = 0.50, 0.20, 0.05
HOUSE_KW, CAR_KW = 1.0, 7.2


def run(real_kw: list[float], prices: list[float], unplug_at: int | None = None) -> list[float]:
    """Hourly ticks; the baseline's cost of each hour [currency], as the store integrates it."""
    shadow = ShadowBaseline(site())
    shadow.plug(CAR, True, 35.05)
    costs = []
    for k, (kw, price) in enumerate(zip(real_kw, prices, strict=True)):
        if k == unplug_at:
            shadow.plug(CAR, False, None)
        shadow.step(T0 + timedelta(hours=k), Settings(), {CAR: kw})
        rate = shadow.cost_per_h(HOUSE_KW, 0.0, price, EXPORT)
        held = Sample(0, HOUSE_KW + kw, price, EXPORT, shadow.grid_kw(HOUSE_KW, 0.0))
        costs.append(interval_money(replace(held, baseline_cost_per_h=rate), 1.0).baseline_cost)
    return costs


def real_cost(real_kw: list[float], prices: list[float]) -> list[float]:
    return [(HOUSE_KW + kw) * p for kw, p in zip(real_kw, prices, strict=True)]


REAL = [0.0, 0.0, CAR_KW, CAR_KW]
PRICES = [EVENING, EVENING, NIGHT, NIGHT]


def test_nothing_is_saved_before_the_real_car_has_charged() -> None:
    baseline, real = run(REAL, PRICES), real_cost(REAL, PRICES)
    # after the evening: both homes paid 1 kW for 2 h at 0.50; the baseline's charge waits
    assert sum(baseline[:2]) == pytest.approx(1.0)
    assert sum(baseline[:2]) - sum(real[:2]) == pytest.approx(0.0)


def test_over_the_whole_charge_the_savings_are_the_difference_of_the_bills() -> None:
    baseline, real = run(REAL, PRICES), real_cost(REAL, PRICES)
    # 14.4 kWh bought at 0.20 instead of 0.50
    assert sum(baseline) - sum(real) == pytest.approx(14.4 * (EVENING - NIGHT))
    # what the old rule (the baseline priced as it draws) came to over the same charge
    old = (HOUSE_KW + CAR_KW) * EVENING * 2 + HOUSE_KW * NIGHT * 2
    assert sum(baseline) == pytest.approx(old)


def test_half_the_charge_saves_half() -> None:
    baseline, real = run(REAL[:3], PRICES[:3]), real_cost(REAL[:3], PRICES[:3])
    assert sum(baseline) - sum(real) == pytest.approx(7.2 * (EVENING - NIGHT))


def test_a_charge_the_real_car_never_makes_is_never_saved() -> None:
    """Unplugged after one hour of charging: the other 7.2 kWh of the baseline are dropped."""
    real_kw, prices = [0.0, 0.0, CAR_KW, 0.0, 0.0], [EVENING, EVENING, NIGHT, NIGHT, NIGHT]
    baseline, real = run(real_kw, prices, unplug_at=3), real_cost(real_kw, prices)
    assert sum(baseline) - sum(real) == pytest.approx(7.2 * (EVENING - NIGHT))


def test_a_status_without_the_rate_is_priced_from_the_baseline_power() -> None:
    """Statuses stored by an older voltbridge have no rate: their baseline power is priced."""
    old = Sample(0, 1.0, 0.3, 0.05, baseline_grid_kw=8.2)
    assert interval_money(old, 0.5).baseline_cost == pytest.approx(8.2 * 0.3 * 0.5)


def test_the_rate_travels_from_the_status_to_the_stores_sample_and_back_from_json() -> None:
    status = replace(demo_status(), baseline_cost_per_h=3.8)
    assert sample_from_status(status).baseline_cost_per_h == 3.8
    resumed = sample_from_dict(status.to_dict())
    assert resumed is not None and resumed.baseline_cost_per_h == 3.8


@pytest.mark.parametrize("real_kw", [0.0, CAR_KW])
def test_the_controller_prices_the_baseline_like_with_like(real_kw: float) -> None:
    """In the loop: the baseline car charges at 7.2 kW from plug-in; while the real car waits
    (its plan says 0 kW) the baseline's rate is the house's alone at the plan's 0.40, and once
    the real car charges, its kWh are priced at what the baseline paid for them (0.40)."""
    r = rig(car_soc_kwh=30.0, plan_kw={CAR: real_kw}, load_kw=1.0)
    asyncio.run(r.controller.tick())
    r.home.advance(r.tick_s)
    status = asyncio.run(r.controller.tick())
    house_kw = status.power.load_kw
    assert house_kw is not None and status.price_import == pytest.approx(0.40)
    assert status.baseline_grid_kw == pytest.approx(house_kw + CAR_KW)
    charging = status.vehicles[CAR].power_kw
    assert charging == pytest.approx(real_kw, abs=0.05)
    assert status.baseline_cost_per_h == pytest.approx(house_kw * 0.40 + (charging or 0.0) * 0.40)
