"""The simulator: runs one strategy through the world on the simulation grid, step by step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voltbridge.core.timegrid import TimeGrid
from voltbridge.sim.context import Context, initial_soc, plant_models, storage_params
from voltbridge.sim.controlled import ControlledOptimal, ControlledOptimalNoPrograms
from voltbridge.sim.physics import Plant
from voltbridge.sim.planned import Oracle
from voltbridge.sim.rules import SmartCharge, Strategy, Uncontrolled, V2HRules
from voltbridge.sim.types import SimTrace
from voltbridge.sim.world import World

STRATEGIES: dict[str, type[Strategy]] = {
    "uncontrolled": Uncontrolled,
    "smart-charge": SmartCharge,
    "v2h-rules": V2HRules,
    "optimal": ControlledOptimal,
    "optimal-no-programs": ControlledOptimalNoPrograms,
    "oracle": Oracle,
}
"""Strategy names accepted by `voltbridge simulate --strategies`."""


def make_strategy(name: str) -> Strategy:
    """A fresh strategy by name; ValueError listing the names otherwise."""
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise ValueError(
            f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}"
        ) from None


def run(
    world: World, strategy: Strategy, progress: Callable[[int], None] | None = None
) -> SimTrace:
    """Simulate ``strategy`` over the world's period; the world itself is not changed.

    ``progress(t)`` is called after each step (for progress bars).
    """
    params = storage_params(world)
    n = world.n_sim
    site = world.site
    plant = Plant(
        plant_models(world, params),
        initial_soc(world, params),
        n,
        world.dt_h[:n],
        site.grid.import_cap_kw,
        site.grid.export_cap_kw,
    )
    ctx = Context(world, params, plant)
    load, pv, up = world.load_kw, world.pv_kw, world.grid_up
    house = getattr(strategy, "house", None)  # a controller that islands and sheds itself
    joined = up[:n].copy()
    shed = np.zeros(n)
    try:
        for t in range(n):
            setpoints = strategy.setpoints(t, ctx)
            demand = float(load[t])
            if house is not None:
                closed, shed[t] = house(t)
                joined[t] = bool(up[t]) and closed
                demand -= shed[t]
            plant.step(t, setpoints, demand, float(pv[t]), bool(joined[t]), house is not None)
            if progress is not None:
                progress(t)
    finally:
        close = getattr(strategy, "close", None)
        if close is not None:
            close()
    reserves = [np.full(n + 1, p.reserve_kwh) for p in params]
    return SimTrace(
        strategy=strategy.name,
        grid=TimeGrid(world.grid.edges_s[: n + 1]),
        price_import=world.price_import[:n],
        price_export=world.price_export[:n],
        pv_kw=pv[:n],
        pv_used_kw=plant.pv_used_kw,
        load_kw=plant.load_served_kw,
        unserved_kw=plant.unserved_kw,
        grid_kw=plant.grid_kw,
        grid_up=up[:n],
        storages=plant.traces(reserves),
        on_grid=joined,
        shed_kw=shed,
        essential_kw=world.essential_kw[:n],
        demand_kw=load[:n],
    )
