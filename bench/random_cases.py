"""Seeded random homes for the planner benchmark, like the case sets of other home optimizers.

Each case: 1-4 storages (cars with commutes, departures and mobility reserves, home batteries),
24-96 h in hourly or 15-minute steps, a time-of-use price with noise, a negative-price window in
about a third of the cases (sometimes with a negative feed-in too), PV from none to a surplus
well over the load, export limits from 0 to 30 kW and a backup reserve in some. The same seed
always gives the same cases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from voltbridge.battery.cost import wear_cost
from voltbridge.core.timegrid import TimeGrid
from voltbridge.planner import Departure, PlanRequest, StorageSpec

FloatArray = npt.NDArray[np.float64]
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def hours_of_day(grid: TimeGrid) -> FloatArray:
    """Hour of the day at each step's midpoint [h] (the site's clock is UTC here)."""
    mid = (grid.edges_s[:-1] + grid.edges_s[1:]) / 2 - grid.edges_s[0]
    return np.asarray(mid / 3600.0 % 24.0, dtype=np.float64)


def random_car(rng: np.random.Generator, grid: TimeGrid, name: str) -> StorageSpec:
    """A car away on a random daily commute, with a target by each departure."""
    n, h = grid.n, hours_of_day(grid)
    cap = float(rng.choice([40.0, 60.0, 77.0]))
    leave, back = float(rng.uniform(6.0, 9.0)), float(rng.uniform(15.0, 19.0))
    commutes = rng.random() < 0.8
    away = commutes & (h >= leave) & (h < back)
    plugged = ~away
    driving = np.zeros(n)
    starts = np.flatnonzero(away & ~np.concatenate(([False], away[:-1])))
    trip = float(rng.uniform(3.0, 15.0))
    driving[starts] = trip
    charge_kw = float(rng.choice([3.7, 7.4, 11.0]))
    v2h = rng.random() < 0.5
    at_home = np.concatenate((plugged[:1], plugged))
    target = float(rng.uniform(0.5, 0.9)) * cap
    return StorageSpec(
        name=name,
        kind="vehicle",
        capacity_kwh=cap,
        soc0_kwh=float(rng.uniform(0.15, 0.9)) * cap,
        eta_charge=0.92,
        eta_discharge=0.92,
        max_charge_kw=np.where(plugged, charge_kw, 0.0),
        max_discharge_kw=np.where(plugged & v2h, charge_kw, 0.0),
        reserve_kwh=np.where(at_home, 0.2 * cap, 0.0),
        max_soc_kwh=cap,
        driving_kwh=driving,
        departures=tuple(
            Departure(int(k), target, datetime.fromtimestamp(int(grid.edges_s[k]), UTC))
            for k in starts
            if k > 0
        ),
        can_export=bool(v2h and rng.random() < 0.4),
        wear=wear_cost(cap, "nmc"),
        backup_counts=at_home.astype(np.float64),
    )


def random_battery(rng: np.random.Generator, grid: TimeGrid, name: str) -> StorageSpec:
    """A home battery of 5-13.5 kWh, exporting in some cases."""
    n = grid.n
    cap = float(rng.choice([5.0, 10.0, 13.5]))
    power = float(rng.choice([2.5, 5.0]))
    return StorageSpec(
        name=name,
        kind="battery",
        capacity_kwh=cap,
        soc0_kwh=float(rng.uniform(0.0, 1.0)) * cap,
        eta_charge=0.95,
        eta_discharge=0.95,
        max_charge_kw=np.full(n, power),
        max_discharge_kw=np.full(n, power),
        reserve_kwh=np.full(n + 1, float(rng.choice([0.0, 0.1])) * cap),
        max_soc_kwh=cap,
        driving_kwh=np.zeros(n),
        can_export=bool(rng.random() < 0.4),
        wear=wear_cost(cap, "lfp"),
    )


def random_case(rng: np.random.Generator) -> PlanRequest:
    """One random home (see the module docstring)."""
    step_min = int(rng.choice([60, 15]))
    hours = int(rng.integers(24, 97))
    grid = TimeGrid.regular(START + timedelta(hours=int(rng.integers(0, 24))), hours, step_min)
    n, h = grid.n, hours_of_day(grid)
    count = int(rng.integers(1, 5))
    storages = []
    for i in range(count):
        make = random_battery if rng.random() < 0.4 else random_car
        storages.append(make(rng, grid, f"s{i}"))
    peak = (h >= 16) & (h < 21)
    price = rng.uniform(0.10, 0.25) + np.where(peak, rng.uniform(0.05, 0.30), 0.0)
    price = np.round(price + rng.normal(0.0, 0.02, n), 4)
    feed_in = np.full(n, float(rng.choice([0.0, 0.05, 0.08])))
    if rng.random() < 0.35:
        at = int(rng.integers(0, max(1, n - 1)))
        width = int(rng.integers(1, 7)) * (60 // step_min)
        price[at : at + width] = -float(rng.uniform(0.01, 0.20))
        if rng.random() < 0.5:
            feed_in[at : at + width] = -float(rng.uniform(0.0, 0.05))
    feed_in = np.minimum(feed_in, np.maximum(price, feed_in))
    kwp = float(rng.choice([0.0, 4.0, 8.0, 12.0]))
    pv = kwp * 0.8 * np.clip(np.sin(np.pi * (h - 6.0) / 14.0), 0.0, None) ** 1.5
    pv *= rng.uniform(0.3, 1.0, n)
    load = 0.3 + 1.2 * np.exp(-(((h - 7.5) / 1.0) ** 2)) + 2.0 * np.exp(-(((h - 19) / 1.5) ** 2))
    load *= rng.uniform(0.6, 1.4, n)
    any_export = any(s.can_export for s in storages)
    backup = float(rng.choice([2.0, 5.0])) if rng.random() < 0.3 else None
    return PlanRequest(
        grid=grid,
        load_kw=load,
        pv_kw=pv,
        price_import=price,
        price_export=feed_in,
        import_limit_kw=float(rng.choice([25.0, 40.0])),
        export_limit_kw=float(rng.choice([0.0, 3.0, 5.0, 10.0, 30.0])),
        pv_export=any_export or bool(rng.random() < 0.8),
        storages=tuple(storages),
        backup_kwh=None if backup is None else np.full(n + 1, backup),
    )


def random_cases(count: int, seed: int = 12) -> list[PlanRequest]:
    """``count`` cases from one seed."""
    rng = np.random.default_rng(seed)
    return [random_case(rng) for _ in range(count)]
