"""The ``oracle`` strategy (perfect foresight, the upper bound on value) and the planning helpers it
shares with ``optimal`` (which runs the real-time controller: see ``sim/controlled.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.core.types import Plan
from voltbridge.forecast import SiteForecast
from voltbridge.forecast.site import expected_load_kw
from voltbridge.planner import Planner
from voltbridge.planner.from_site import plan_request
from voltbridge.sim.context import Context
from voltbridge.sim.forecasting import perfect_forecast, sim_end_s
from voltbridge.sim.rules import battery_self_consumption

REPLAN_MINUTES = 15
ORACLE_WINDOW_DAYS = 7
ORACLE_LOOKAHEAD_DAYS = 2


def plan_for(
    ctx: Context,
    t: int,
    grid: TimeGrid,
    forecast: SiteForecast,
    planner: Planner,
    perfect_prices: bool = False,
) -> Plan:
    """Plan from the plant's measured state at step t with the prices known then (or, with
    ``perfect_prices``, the true prices, day-ahead ones before their publication included), and
    every paid grid event of the world (the oracle's foresight)."""
    soc_pct = {
        p.name: 100.0 * float(ctx.plant.soc[i]) / p.capacity_kwh for i, p in enumerate(ctx.params)
    }
    span = int(np.searchsorted(ctx.world.grid.edges_s, grid.edges_s[-1])) - t
    if perfect_prices:
        known_imp = ctx.world.price_import[t : t + span]
        known_exp = ctx.world.price_export[t : t + span]
    else:
        known_imp, known_exp = ctx.known_prices(t, span)
    edges = ctx.world.grid.edges_s[t : t + span + 1]
    req = plan_request(
        ctx.world.site,
        grid,
        forecast,
        soc_pct,
        price_import=step_means(edges, known_imp, grid),
        price_export=step_means(edges, known_exp, grid),
        events=ctx.world.events,
    )
    return planner.plan(req)


class Oracle:
    """Perfect foresight: plan a week at a time with two more days of look-ahead, at 15-minute
    steps, on what really happens (load, PV, trips, and prices, day-ahead ones before their
    publication too: the upper bound on value). Each car at home is steered onto the plan's
    state of charge at the end of the step, the home battery runs its self-consumption loop
    around them. (The cars used to follow the plan's power and give way to the load's
    five-minute wobble around the plan's quarter-hour means, as the controller's tracking does;
    with one plan a week and the plant's part-load efficiency below the plan's, nothing caught
    up, and the car left up to 2.3 kWh below its departure target in April 2025 on the
    dynamic-tariff example: a saving the controller may not make.)"""

    name = "oracle"

    def __init__(self) -> None:
        self.planner = Planner()
        self.plan: Plan | None = None
        self.plans = 0

    def setpoints(self, t: int, ctx: Context) -> list[float]:
        w = ctx.world
        now = int(w.grid.edges_s[t])
        if self.plan is None or now >= int(self.plan.grid.edges_s[0]) + ORACLE_WINDOW_DAYS * 86400:
            days = ORACLE_WINDOW_DAYS + ORACLE_LOOKAHEAD_DAYS
            end = min(now + days * 86400, sim_end_s(w))  # as optimal's: see sim_planning_grid
            grid = TimeGrid.regular(
                datetime.fromtimestamp(now, UTC), (end - now) / 3600, REPLAN_MINUTES, align=False
            )
            forecast = perfect_forecast(w, t, grid)
            self.plan = plan_for(ctx, t, grid, forecast, self.planner, perfect_prices=True)
            self.plans += 1
        edges = self.plan.grid.edges_s
        k = int(np.searchsorted(edges, now, side="right")) - 1
        out = [float(s.power_kw[k]) for s in self.plan.storages]
        left_h = float(edges[k + 1] - now) / 3600.0
        for i, (s, p) in enumerate(zip(self.plan.storages, ctx.params, strict=True)):
            if p.kind != "vehicle" or not w.vehicles[i].plugged_in[t] or not s.plugged_in[k]:
                continue
            # stored energy to gain by the step's end [kWh], as AC power over what is left of it
            gain = float(s.soc_kwh[k + 1]) - float(ctx.plant.soc[i])
            kw = gain / p.eta / left_h if gain > 0 else gain * p.eta / left_h
            out[i] = min(max(kw, -p.max_discharge_kw), p.max_charge_kw)
        battery_self_consumption(t, ctx, out)
        return out


def site_prior_load(ctx: Context) -> FloatArray:
    """The site's standard load profile on the world grid: the forecast before any history."""
    return expected_load_kw(ctx.world.site, ctx.world.grid)
