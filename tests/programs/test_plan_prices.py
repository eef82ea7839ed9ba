"""A paid event in the plan: its payment on the window's prices, and what the plan then does.

The adders are checked against hand-computed shares; the plan on the Leaf V2G example is checked
from its own flows (export in the window, the car's SoC against the floors the site file sets)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.core.timegrid import TimeGrid
from voltbridge.forecast import forecast_site
from voltbridge.planner import Planner
from voltbridge.planner.from_site import plan_request
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.plan_prices import event_price_adders, window_share

EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"
T0 = datetime(2026, 7, 14, 0, 0, tzinfo=UTC)


def event(start: datetime, hours: float, kind: str = "export", pay: float = 2.0) -> ProgramEvent:
    return ProgramEvent(
        f"e-{start.isoformat()}",
        "elrp",
        start,
        start + timedelta(hours=hours),
        kind,  # type: ignore[arg-type]
        payment_per_kwh=pay,
    )


def test_share_is_the_overlap_of_each_step() -> None:
    grid = TimeGrid.regular(T0, 2, 15)  # 8 steps of 15 min
    # 00:10-00:40 covers 5 of the first step's 15 minutes, all of the second, 10 of the third
    share = window_share(grid, event(T0 + timedelta(minutes=10), 0.5))
    assert share == pytest.approx([1 / 3, 1.0, 2 / 3, 0, 0, 0, 0, 0])


def test_reduce_moves_both_prices_export_only_the_export_price() -> None:
    grid = TimeGrid.regular(T0, 4, 60)
    imp, exp = event_price_adders(
        grid,
        [
            event(T0 + timedelta(hours=1), 2, "reduce", 2.0),
            event(T0 + timedelta(hours=2), 2, "export", 0.5),
        ],
    )
    assert imp == pytest.approx([0, 2.0, 2.0, 0])
    assert exp == pytest.approx([0, 2.0, 2.5, 0.5])


def test_events_outside_the_grid_add_nothing() -> None:
    grid = TimeGrid.regular(T0, 4, 60)
    imp, exp = event_price_adders(
        grid, [event(T0 - timedelta(hours=3), 3), event(T0 + timedelta(hours=4), 1)]
    )
    assert not imp.any() and not exp.any()


def test_the_plan_delivers_in_a_paid_window_within_the_cars_floors() -> None:
    """Leaf V2G, a Tuesday at home (its trips are Mon/Wed/Fri): a 2 h export event at midday
    paying 2 GBP/kWh. Without it the car does not sell at midday (Flux pays most 16-19); with it
    every step of the window either exports at the site's export limit, discharges the car at its
    limit, or has the car at its floor, and the car's SoC never goes below the floor the site file
    sets (30 % mobility reserve) nor misses Wednesday's 75 % departure target."""
    site = load_site(EXAMPLES / "leaf-uk-v2g.toml")
    london = ZoneInfo("Europe/London")
    grid = TimeGrid.regular(datetime(2026, 7, 14, 9, 0, tzinfo=london), 36, 15)
    fc = forecast_site(site, grid)
    window = event(datetime(2026, 7, 14, 11, 0, tzinfo=london), 2.0)
    planner = Planner()
    plain = planner.plan(plan_request(site, grid, fc, {"leaf": 90.0}))
    paid = planner.plan(plan_request(site, grid, fc, {"leaf": 90.0}, events=[window]))

    in_window = window_share(grid, window) > 0
    dt_h = grid.dt_h
    exported = {
        name: float((np.clip(-p.grid_kw, 0, None) * dt_h)[in_window].sum())
        for name, p in (("plain", plain), ("paid", paid))
    }
    assert exported["paid"] > exported["plain"] + 5.0, exported

    car = paid.storage("leaf")
    cap = car.capacity_kwh
    export_cap = site.grid.export_cap_kw
    assert export_cap is not None
    max_discharge = float(-car.power_kw.min())
    for k in np.flatnonzero(in_window):
        at_export_cap = -paid.grid_kw[k] >= export_cap - 1e-6
        at_power_cap = -car.power_kw[k] >= max_discharge - 1e-6
        at_floor = car.soc_kwh[k + 1] <= 0.30 * cap + 1e-6
        assert at_export_cap or at_power_cap or at_floor, k
    assert car.soc_kwh.min() >= 0.30 * cap - 1e-6
    wednesday_0815 = grid.edge_index(datetime(2026, 7, 15, 8, 15, tzinfo=london))
    assert car.soc_kwh[wednesday_0815] >= 0.75 * cap - 1e-6
    # the payment is in the prices the plan reports, so its cost counts the income
    assert paid.price_export[in_window] == pytest.approx(plain.price_export[in_window] + 2.0)
