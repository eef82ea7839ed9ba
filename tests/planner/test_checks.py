"""The independent checker itself: it passes a good plan and catches each kind of tampering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from voltbridge.core.types import Plan
from voltbridge.planner import Planner, PlanRequest

from .builders import FloatArray, battery, car, hourly, request
from .checks import assert_plan_valid


def site() -> PlanRequest:
    """A car and a battery with PV, an evening peak and negative prices at noon."""
    g = hourly(24)
    h = np.arange(24)
    prices = np.where((h >= 17) & (h < 21), 0.45, 0.15)
    prices[11:14] = -0.05
    pv = np.clip(5 * np.sin(np.pi * (h - 6) / 14), 0, None)
    ev = car(g, soc0_kwh=25.0, discharge_kw=7.0, reserve_kwh=12.0, departures=[(8, 40.0)])
    bat = battery(g, soc0_kwh=6.0, can_export=True)
    return request(
        g,
        [ev, bat],
        load_kw=1.0,
        pv_kw=pv,
        price_import=prices,
        price_export=0.04,
        export_limit_kw=5.0,
        pv_export=True,
        backup_kwh=3.0,
    )


@cache
def planned() -> tuple[PlanRequest, Plan]:
    """The site and its plan, solved once for every test here (it takes the binary path)."""
    req = site()
    return req, Planner().plan(req)


def with_storage_power(p: Plan, i: int, power: FloatArray) -> Plan:
    storages = list(p.storages)
    storages[i] = replace(storages[i], power_kw=power)
    return replace(p, storages=tuple(storages))


def netted(p: Plan) -> Plan:
    """The battery's power with 1 kW of extra charge and discharge netted away: the SoC no
    longer follows from the power."""
    power = p.storages[1].power_kw.copy()
    k = int(np.argmax(np.abs(power) > 0.5))
    power[k] -= np.sign(power[k]) * 0.5
    bal = replace(p, grid_kw=p.grid_kw - np.eye(p.grid.n)[k] * np.sign(power[k]) * 0.5)
    return with_storage_power(bal, 1, power)


TAMPERING: dict[str, Callable[[Plan], Plan]] = {
    "balance": lambda p: replace(p, grid_kw=p.grid_kw + 0.01),
    "netted charge and discharge": netted,
    "import limit": lambda p: replace(
        p, grid_kw=p.grid_kw + 100.0, unserved_kw=p.unserved_kw - 100.0
    ),
    "pv above forecast": lambda p: replace(
        p, pv_used_kw=p.pv_used_kw + 1.0, grid_kw=p.grid_kw - 1.0
    ),
    "import cost": lambda p: replace(p, cost=replace(p.cost, import_cost=p.cost.import_cost + 1)),
    "penalties": lambda p: replace(p, cost=replace(p.cost, penalties=p.cost.penalties + 1)),
    "departure slack": lambda p: replace(p, slack={**p.slack, "departure:ev": 1.0}),
}


def test_checker_accepts_the_plan() -> None:
    assert_plan_valid(*planned())


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_checker_catches_tampering(name: str) -> None:
    req, plan = planned()
    bad = TAMPERING[name](plan)
    with pytest.raises(AssertionError):
        assert_plan_valid(req, bad)
