"""The simulator end to end: energy is conserved, strategies rank as they must, runs repeat with
a seed, and no forecast reads the future. Checks recompute from the traces, not via metrics."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.sim import simulate_site
from voltbridge.sim.forecasting import past_forecast, planning_grid
from voltbridge.sim.outages import parse_outage
from voltbridge.sim.types import SimTrace
from voltbridge.sim.world import build_world

EXAMPLES = Path(__file__).parents[2] / "examples"
ALL = ["uncontrolled", "smart-charge", "v2h-rules", "optimal", "oracle"]
# Each example with a start inside its tariff's data.
CASES = {
    "ev9-california": "2026-01-05",
    "f150-outage-sonoma": "2026-07-06",
    "leaf-uk-v2g": "2026-03-02",
    "sigen-dynamic-germany": "2024-03-25",
}


def start_of(site_name: str) -> tuple[object, datetime]:
    site = load_site(EXAMPLES / f"{site_name}.toml")
    tz = ZoneInfo(site.location.timezone)
    return site, datetime.fromisoformat(CASES[site_name]).replace(tzinfo=tz)


def conservation_error_kwh(trace: SimTrace) -> float:
    """import + pv + away - (load + losses + export + stored change + driving), from the trace."""
    dt = trace.grid.dt_h
    imp = float(np.sum(np.maximum(trace.grid_kw, 0) * dt))
    exp = float(np.sum(np.maximum(-trace.grid_kw, 0) * dt))
    pv = float(np.sum(trace.pv_used_kw * dt))
    load = float(np.sum(trace.load_kw * dt))
    away = sum(float(s.away_charging_kwh.sum()) for s in trace.storages)
    losses = sum(float(s.losses_kwh.sum()) for s in trace.storages)
    stored = sum(float(s.soc_kwh[-1] - s.soc_kwh[0]) for s in trace.storages)
    driving = sum(float(s.driving_kwh.sum()) for s in trace.storages)
    return imp + pv + away - (load + losses + exp + stored + driving)


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_weeks_conserve_energy_and_rank_strategies(name: str) -> None:
    site, start = start_of(name)
    result, traces, _ = simulate_site(site, start, 12, ALL, seed=1)  # type: ignore[arg-type]
    rows = result["strategies"]
    for strategy, trace in traces.items():
        assert abs(conservation_error_kwh(trace)) < 1e-6, strategy
        assert abs(rows[strategy]["balance_error_kwh"]) < 1e-6
        # the SoC recorded matches power, efficiency losses, driving and away charging
        for s in trace.storages:
            dt = trace.grid.dt_h
            ac_in = s.power_kw * dt
            stored = ac_in - s.losses_kwh  # losses leave the cells both ways
            soc = s.soc_kwh[0] + np.cumsum(stored + s.away_charging_kwh - s.driving_kwh)
            assert np.allclose(soc, s.soc_kwh[1:], atol=1e-6), (strategy, s.name)
            assert s.soc_kwh.min() >= -1e-9 and s.soc_kwh.max() <= s.capacity_kwh + 1e-9
            assert not np.any(s.power_kw[~s.plugged_in]), "power only while plugged in"
    # Total cost as the issue defines it: bill + ageing cost. (Over 12 days the energy each
    # strategy leaves stored still differs by tens of kWh; the year-long run is in the slow test.)
    cost = {k: r["bill"] + r["ageing_cost"] for k, r in rows.items()}
    assert cost["oracle"] <= cost["optimal"] + 1e-6
    assert cost["smart-charge"] <= cost["uncontrolled"] + 1e-6
    assert cost["optimal"] <= cost["smart-charge"] + 1e-6


def test_same_seed_same_result_other_seed_other_trips() -> None:
    site, start = start_of("leaf-uk-v2g")
    a, _, wa = simulate_site(site, start, 4, ["smart-charge"], seed=3)  # type: ignore[arg-type]
    b, _, _ = simulate_site(site, start, 4, ["smart-charge"], seed=3)  # type: ignore[arg-type]
    _, _, wc = simulate_site(site, start, 4, ["smart-charge"], seed=4)  # type: ignore[arg-type]
    assert a == b
    assert [t.depart for t in wa.vehicles[0].trips] != [t.depart for t in wc.vehicles[0].trips]


def test_forecasts_never_read_the_future() -> None:
    site, start = start_of("ev9-california")
    world = build_world(site, start, 10, seed=0)  # type: ignore[arg-type]
    prior = np.full(world.grid.n, 0.7)  # a prior profile, independent of the world's load
    for t in (0, 5, 288 * 3 + 7, 288 * 9):
        grid = planning_grid(int(world.grid.edges_s[t]))
        honest = past_forecast(world, t, grid, prior)
        poisoned = copy.deepcopy(world)
        poisoned.load_forecasts.clear()  # the learned load forecast is made again from the past
        poisoned.pv_kw[t:] = np.nan
        poisoned.load_kw[t:] = np.nan
        for vw in poisoned.vehicles:
            vw.plugged_in[t + 1 :] = ~vw.plugged_in[t + 1 :]
            vw.driving_kwh[t:] = np.nan
        # the prior is the site's own profile (known in advance), not measurements
        seen = past_forecast(poisoned, t, grid, prior)
        assert np.array_equal(honest.pv_kw, seen.pv_kw)
        assert np.array_equal(honest.load_kw, seen.load_kw)
        for name, avail in honest.vehicles.items():
            assert np.array_equal(avail.plugged_in, seen.vehicles[name].plugged_in)
            assert np.array_equal(avail.driving_kwh, seen.vehicles[name].driving_kwh)


def test_outage_islands_the_house() -> None:
    site, start = start_of("f150-outage-sonoma")
    outage = parse_outage("2026-07-07T18:00/6h", site.location.timezone)  # type: ignore[attr-defined]
    result, traces, _ = simulate_site(
        site,
        start,
        3,
        ["smart-charge"],
        seed=0,
        outages=[outage],  # type: ignore[arg-type]
    )
    trace = traces["smart-charge"]
    down = ~trace.grid_up
    assert down.sum() == 6 * 12
    assert np.all(trace.grid_kw[down] == 0), "no grid power while the grid is absent"
    assert result["outages"] and result["outages"][0]["hours"] == pytest.approx(6)
    # the truck (V2H) covered the house in the outage evening: little or nothing unserved
    served = float(np.sum(trace.load_kw[down])) / 12
    unserved = float(np.sum(trace.unserved_kw[down])) / 12
    assert served > 0 and unserved <= 0.01 * (served + unserved)


def test_oracle_leaves_at_the_departure_target_like_the_controller() -> None:
    """The upper bound keeps the household's rules: on the dynamic-tariff example from 7 April
    2025 (where it left up to 2.3 kWh short while it let the cars give way to the load's
    wobble) both ``oracle`` and ``optimal`` leave at 70 % of 77 kWh or more at every departure,
    read from the traces (the step before the car is gone), within 0.1 kWh (the controller
    lands within a five-minute tick of charging, 0.04 kWh here)."""
    site = load_site(EXAMPLES / "sigen-dynamic-germany.toml")
    start = datetime(2025, 4, 7, tzinfo=ZoneInfo(site.location.timezone))
    _, traces, _ = simulate_site(site, start, 5, ["oracle", "optimal"], seed=0)
    target = 0.70 * 77.0
    for name, trace in traces.items():
        car = trace.storages[0]
        plugged = np.asarray(car.plugged_in, dtype=bool)
        leaving = np.flatnonzero(plugged[:-1] & ~plugged[1:]) + 1
        assert leaving.size >= 4, name
        assert np.all(car.soc_kwh[leaving] >= target - 0.1), (name, car.soc_kwh[leaving])
