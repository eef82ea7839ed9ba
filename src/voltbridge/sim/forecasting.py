"""Forecasts for the receding-horizon planner built only from the past (and from astronomy).

PV: the clear-sky profile scaled by how measured production compared with it lately.
Load: the mean profile by time of day over the last days. Trips: the weekly schedule. Nothing
here reads a world array past the current step; ``tests/sim`` checks it by poisoning the future.
"""

from __future__ import annotations

import numpy as np

from voltbridge.control.plan_source import planning_grid
from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.forecast import Availability, SiteForecast, availability
from voltbridge.sim.world import World

__all__ = ["past_forecast", "perfect_forecast", "planning_grid", "sim_end_s", "sim_planning_grid"]

PV_HISTORY_DAYS = 1
PV_RECENT_H = 2.0
LOAD_HISTORY_DAYS = 7
PLAN_HORIZON_H = 48.0
PLAN_FINE_H = 4.0


def sim_end_s(world: World) -> int:
    """End of the simulated period [s, UTC]: the world's arrays reach further (look-ahead)."""
    return int(world.grid.edges_s[world.n_sim])


def sim_planning_grid(world: World, t: int) -> TimeGrid:
    """The controller's planning grid from step t, cut at the end of the simulated period.

    The bills compare strategies over the period only: energy a plan bought in its last hours for
    use after it would be charged to the bill while its use is never counted (on 25 Mar - 7 Apr
    2024 at the Munich example, ``optimal`` filled the car with 3.68 EUR of energy on the last day
    and lost to ``smart-charge``). A plan that ends with the period keeps its stored energy at the
    planner's terminal value, as it does at the end of any horizon.
    """
    now = int(world.grid.edges_s[t])
    left_h = (sim_end_s(world) - now) / 3600.0
    horizon_h = max(min(PLAN_HORIZON_H, left_h), float(world.dt_h[t]))
    return planning_grid(now, horizon_h, min(PLAN_FINE_H, horizon_h))


def window(world: World, t: int, grid: TimeGrid) -> slice:
    """The world steps from t that cover ``grid``."""
    end = int(np.searchsorted(world.grid.edges_s, grid.edges_s[-1], side="left"))
    return slice(t, max(end, t + 1))


def _measured_ratio(world: World, past: slice) -> float | None:
    """Measured PV energy over clear-sky PV energy in ``past``, or None if the sun was down."""
    expected = float(world.clearsky_pv_kw[past].sum())
    if expected <= 1e-6 * max(past.stop - past.start, 1):
        return None
    return min(max(float(world.pv_kw[past].sum()) / expected, 0.0), 1.2)


def pv_forecast(world: World, t: int, grid: TimeGrid) -> FloatArray:
    """Clear-sky PV on ``grid`` scaled by how measured production compared with it: the last
    ``PV_RECENT_H`` hours for the next few hours (fading with a 3-hour time constant), the last
    ``PV_HISTORY_DAYS`` days beyond. Both ratios are clipped to [0, 1.2]."""
    span = window(world, t, grid)
    edges = world.grid.edges_s[span.start : span.stop + 1]
    clear = step_means(edges, world.clearsky_pv_kw[span], grid)
    day = world.steps_per_day
    daily = _measured_ratio(world, slice(max(0, t - PV_HISTORY_DAYS * day), t))
    daily = 0.8 if daily is None else daily
    recent_steps = round(PV_RECENT_H * day / 24)
    recent = _measured_ratio(world, slice(max(0, t - recent_steps), t))
    if recent is None:
        return clear * daily
    ahead_h = (grid.mid_s - grid.edges_s[0]) / 3600.0
    weight = np.exp(-ahead_h / 3.0)
    out: FloatArray = clear * (weight * recent + (1.0 - weight) * daily)
    return out


def load_forecast(world: World, t: int, grid: TimeGrid, prior_kw: FloatArray) -> FloatArray:
    """Mean load by time of day over the last days, on ``grid``; ``prior_kw`` (per world step,
    the site's standard profile) before a full day of history exists."""
    day = world.steps_per_day
    span = window(world, t, grid)
    k = span.stop - span.start
    days = min(LOAD_HISTORY_DAYS, t // day)
    if days == 0:
        values = prior_kw[span]
    else:
        history = world.load_kw[t - days * day : t].reshape(days, day).mean(axis=0)
        values = history[np.arange(k) % day]  # history[0] is the same time of day as step t
    edges = world.grid.edges_s[span.start : span.stop + 1]
    return step_means(edges, values, grid)


def schedule_forecast(world: World, t: int, grid: TimeGrid) -> dict[str, Availability]:
    """Each car's availability from its weekly schedule, corrected by whether it is home now."""
    tz = world.site.location.timezone
    out = {}
    for vw in world.vehicles:
        a = availability(grid, vw.rules, tz)
        plugged = a.plugged_in.copy()
        plugged[0] = bool(vw.plugged_in[t])  # measured now
        out[vw.name] = Availability(plugged, a.driving_kwh, a.departures)
    return out


def past_forecast(world: World, t: int, grid: TimeGrid, prior_kw: FloatArray) -> SiteForecast:
    """The forecast a controller at step t could make."""
    return SiteForecast(
        load_kw=load_forecast(world, t, grid, prior_kw),
        pv_kw=pv_forecast(world, t, grid),
        vehicles=schedule_forecast(world, t, grid),
    )


def perfect_forecast(world: World, t: int, grid: TimeGrid) -> SiteForecast:
    """What will really happen on ``grid`` (the oracle's foresight)."""
    span = window(world, t, grid)
    edges = world.grid.edges_s[span.start : span.stop + 1]
    vehicles = {}
    for vw in world.vehicles:
        home = step_means(edges, vw.plugged_in[span].astype(np.float64), grid) > 1 - 1e-9
        drive_kw = vw.driving_kwh[span] / world.dt_h[span]
        driving = step_means(edges, drive_kw, grid) * grid.dt_h
        leaves = tuple(trip.depart for trip in vw.trips if grid.start < trip.depart <= grid.end)
        vehicles[vw.name] = Availability(home, driving, leaves)
    return SiteForecast(
        load_kw=step_means(edges, world.load_kw[span], grid),
        pv_kw=step_means(edges, world.pv_kw[span], grid),
        vehicles=vehicles,
    )
