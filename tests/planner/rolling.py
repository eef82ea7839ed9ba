"""A controller's sequence of re-plans, cut from one long request: the horizon rolls on a step
at a time, the state of charge follows the last plan's first step (with a little measurement
noise), and load, PV and prices move a little from one forecast to the next.

Used by the hot-start tests and by bench/planner.py's warm re-plan figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Plan
from voltbridge.planner import PlanRequest, StorageSpec


def window_storage(s: StorageSpec, k: int, n: int, soc0_kwh: float) -> StorageSpec:
    """Steps ``k .. k+n-1`` of storage ``s``, starting from ``soc0_kwh``."""
    return replace(
        s,
        soc0_kwh=soc0_kwh,
        max_charge_kw=s.max_charge_kw[k : k + n],
        max_discharge_kw=s.max_discharge_kw[k : k + n],
        reserve_kwh=s.reserve_kwh[k : k + n + 1],
        driving_kwh=s.driving_kwh[k : k + n],
        departures=tuple(replace(d, edge=d.edge - k) for d in s.departures if k <= d.edge <= k + n),
        backup_counts=None if s.backup_counts is None else s.backup_counts[k : k + n + 1],
    )


def window(
    base: PlanRequest,
    k: int,
    n: int,
    soc0_kwh: dict[str, float],
    rng: np.random.Generator,
    noise: float = 0.03,
    price_noise: float = 0.03,
) -> PlanRequest:
    """Steps ``k .. k+n-1`` of ``base`` with load and PV moved by up to ``noise`` and import
    prices by up to ``price_noise`` (relative, per step), and the given states of charge [kWh].
    A tariff's prices are known: a controller's re-plans see them move only with a dynamic
    tariff's forecast."""

    def moved(values: np.ndarray, by: float = noise) -> np.ndarray:
        return np.asarray(values[k : k + n] * (1.0 + rng.uniform(-by, by, n)))

    return replace(
        base,
        grid=TimeGrid(base.grid.edges_s[k : k + n + 1]),
        load_kw=moved(base.load_kw),
        pv_kw=moved(base.pv_kw),
        price_import=np.round(moved(base.price_import, price_noise), 5),
        price_export=base.price_export[k : k + n].copy(),
        storages=tuple(window_storage(s, k, n, soc0_kwh[s.name]) for s in base.storages),
        backup_kwh=None if base.backup_kwh is None else base.backup_kwh[k : k + n + 1],
    )


def rolling(
    base: PlanRequest,
    n: int,
    count: int,
    plan: Callable[[PlanRequest], Plan],
    seed: int = 0,
    soc_noise_kwh: float = 0.2,
    times_ms: list[float] | None = None,
    price_noise: float = 0.03,
) -> Iterator[tuple[PlanRequest, Plan]]:
    """``count`` re-plans of ``n`` steps, each a step after the last (``base`` needs at least
    ``n + count - 1`` steps), planned with ``plan``; yields each request with its plan.

    ``price_noise``: see :func:`window`. ``times_ms`` receives each re-plan's time from the state to the plan (the request cut
    from the forecasts, then planned) [ms].
    """
    if base.grid.n < n + count - 1:
        raise ValueError(f"base has {base.grid.n} steps, {n + count - 1} needed")
    rng = np.random.default_rng(seed)
    soc = {s.name: s.soc0_kwh for s in base.storages}
    for k in range(count):
        t0 = time.perf_counter()
        req = window(base, k, n, soc, rng, price_noise=price_noise)
        result = plan(req)
        if times_ms is not None:
            times_ms.append((time.perf_counter() - t0) * 1000.0)
        yield req, result
        for s, sp in zip(req.storages, result.storages, strict=True):
            moved = float(sp.soc_kwh[1]) + float(rng.uniform(-soc_noise_kwh, soc_noise_kwh))
            soc[s.name] = min(max(moved, 0.0), s.capacity_kwh)
