"""Forecasts for the receding-horizon planner built only from the past (and from astronomy).

PV: the clear-sky profile times a clear-sky index learned once a day from the recorded PV
(``voltbridge.forecast.pv_learned``), corrected for the next hours by the last hours' production.
Load: learned from the recorded history once a day (``voltbridge.forecast.learned``); the
re-plans of that day read the day's forecast from where they are. Trips: the weekly schedule.
Nothing here reads a world array past the current step; ``tests/sim`` checks it by poisoning the
future.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from voltbridge.control.plan_source import planning_grid
from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.forecast import Availability, SiteForecast, availability
from voltbridge.forecast.learned import (
    BASELINE_NAME,
    MODEL_NAME,
    forecast_error,
    learned_load_forecast_kw,
    seasonal_naive_kw,
)
from voltbridge.forecast.pv_learned import (
    AHEAD_SHARE,
    LONG_DAYS,
    learned_clearsky_index,
    persistence_pv_kw,
    with_recent,
)
from voltbridge.forecast.pv_learned import BASELINE_NAME as PV_BASELINE_NAME
from voltbridge.forecast.pv_learned import METHOD_NAME as PV_METHOD_NAME
from voltbridge.sim.world import World

__all__ = [
    "forecast_metrics",
    "past_forecast",
    "perfect_forecast",
    "planning_grid",
    "sim_end_s",
    "sim_planning_grid",
]

PV_LONG_DAYS = LONG_DAYS
"""Days of PV history handed to the learned PV index."""
PV_RECENT_H = 2.0
LOAD_FORECAST_H = 96
"""Hours each daily load forecast covers: the rest of its day plus a 48-hour plan and spare."""
HISTORY_STEPS_DAYS = 28
"""Days of history handed to the learned model (it uses what it needs of them)."""

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


def daily_pv_index(world: World, r: int) -> FloatArray:
    """The clear-sky index for each hour of the day from world step ``r`` (a whole number of
    days from the start), learned from the PV measured before ``r`` (``forecast/pv_learned.py``);
    made once and kept in ``world.pv_indices`` so every re-plan of the day reads the same one."""
    cached = world.pv_indices.get(r)
    if cached is not None:
        return cached
    day = world.steps_per_day
    past = slice(max(0, r - PV_LONG_DAYS * day), r)
    typical = None if world.pv_clear_index is None else float(world.pv_clear_index[r])
    out = learned_clearsky_index(
        _hourly_kw(world.pv_kw[past], day // 24),
        _hourly_kw(world.clearsky_pv_kw[past], day // 24),
        typical,
    )
    world.pv_indices[r] = out
    return out


def pv_index_today(world: World, r: int, stop: int) -> FloatArray:
    """The clear-sky index [-] of world steps r..stop-1 of the day from step ``r`` (a whole
    number of days from the start; ``stop`` at most a day later): the day's learned index for
    each step's hour of the day (:func:`daily_pv_index`)."""
    per_hour = world.steps_per_day // 24
    hour_of_day = (np.arange(r, stop) - r) // per_hour % 24
    out: FloatArray = daily_pv_index(world, r)[hour_of_day]
    return out


def pv_index_beyond_today(world: World, r: int, start: int, stop: int) -> FloatArray:
    """The clear-sky index [-] of world steps start..stop-1 after the day from step ``r`` (a
    re-plan's horizon reaches into the next two days), as known at the start of that day:
    today's learned index again, by hour of the day, times ``AHEAD_SHARE`` (the plan counts on
    part of it: see ``forecast/pv_learned.py``). The one place a forecast of the coming days
    (from weather, or by day) would go."""
    per_hour = world.steps_per_day // 24
    hour_of_day = (np.arange(start, stop) - r) // per_hour % 24
    out: FloatArray = AHEAD_SHARE * daily_pv_index(world, r)[hour_of_day]
    return out


def pv_index_steps(world: World, r: int, stop: int) -> FloatArray:
    """The clear-sky index [-] of world steps r..stop-1 as known at the start of the day from
    step ``r``: :func:`pv_index_today` for the day, :func:`pv_index_beyond_today` after it."""
    today = min(stop, r + world.steps_per_day)
    if today >= stop:
        return pv_index_today(world, r, stop)
    out: FloatArray = np.concatenate(
        (pv_index_today(world, r, today), pv_index_beyond_today(world, r, today, stop))
    )
    return out


def step_mids_s(world: World, span: slice) -> FloatArray:
    """Midpoints of the world steps in ``span`` [s, UTC] (``world.grid.mid_s[span]`` without
    computing the whole period's)."""
    edges = world.grid.edges_s[span.start : span.stop + 1]
    out: FloatArray = (edges[:-1] + edges[1:]).astype(np.float64) / 2.0
    return out


def recent_pv_ratio(world: World, t: int) -> float | None:
    """Measured PV over clear-sky PV in the ``PV_RECENT_H`` hours before step t, None if the sun
    was down."""
    recent_steps = round(PV_RECENT_H * world.steps_per_day / 24)
    return _measured_ratio(world, slice(max(0, t - recent_steps), t))


def pv_steps(
    world: World, t: int, span: slice, index: FloatArray, mids_s: FloatArray | None = None
) -> FloatArray:
    """The PV forecast [kW] per world step of ``span`` (from step t): the clear sky times the
    clear-sky ``index`` of those steps [-], pulled toward the last hours' measured index for
    the next few hours (``with_recent``). ``mids_s``: :func:`step_mids_s` of ``span`` when the
    caller holds them."""
    if mids_s is None:
        mids_s = step_mids_s(world, span)
    ahead_h = (mids_s - world.grid.edges_s[t]) / 3600.0
    index = with_recent(index, recent_pv_ratio(world, t), ahead_h)
    out: FloatArray = world.clearsky_pv_kw[span] * index
    return out


def pv_forecast(world: World, t: int, grid: TimeGrid) -> FloatArray:
    """Clear-sky PV on ``grid`` times the day's learned clear-sky index per hour of the day
    (:func:`pv_index_steps`), corrected for the next few hours by how measured production
    compared with the clear sky in the last ``PV_RECENT_H`` hours (fading with a 3-hour time
    constant, clipped to [0, 1.2]). Before any day has been measured the index is the site's
    typical clear-sky index for the month."""
    span = window(world, t, grid)
    day = world.steps_per_day
    r = t // day * day
    index = pv_index_steps(world, r, span.stop)[t - r :]
    edges = world.grid.edges_s[span.start : span.stop + 1]
    return step_means(edges, pv_steps(world, t, span, index), grid)


def _hourly_kw(load_kw: FloatArray, steps_per_hour: int) -> FloatArray:
    out: FloatArray = load_kw.reshape(-1, steps_per_hour).mean(axis=1)
    return out


def daily_load_forecast(world: World, r: int) -> FloatArray:
    """The hourly load forecast [kW] for ``LOAD_FORECAST_H`` hours from world step ``r`` (a whole
    number of days from the start), learned from the load before ``r``; made once and kept in
    ``world.load_forecasts`` so every strategy and the error metrics share it."""
    cached = world.load_forecasts.get(r)
    if cached is not None:
        return cached
    day = world.steps_per_day
    history = world.load_kw[max(0, r - HISTORY_STEPS_DAYS * day) : r]
    history = history[history.size % day :]
    hourly = _hourly_kw(history, day // 24)
    out = learned_load_forecast_kw(hourly, LOAD_FORECAST_H)
    world.load_forecasts[r] = out
    return out


def load_steps(world: World, r: int, stop: int, prior_kw: FloatArray) -> FloatArray:
    """The load forecast [kW] of world steps r..stop-1 as known at the start of the day from
    step ``r`` (a whole number of days from the start): the day's learned hourly forecast
    (:func:`daily_load_forecast`), or ``prior_kw`` (per world step) before a full day of
    history exists."""
    if r == 0:
        return prior_kw[r:stop]
    path = daily_load_forecast(world, r)
    hours = (np.arange(r, stop) - r) // (world.steps_per_day // 24)
    out: FloatArray = path[np.minimum(hours, path.size - 1)]
    return out


def load_forecast(world: World, t: int, grid: TimeGrid, prior_kw: FloatArray) -> FloatArray:
    """The load on ``grid`` [kW]: the day's learned forecast, or ``prior_kw`` (per world step, the
    site's standard profile) before a full day of history exists (:func:`load_steps`)."""
    day = world.steps_per_day
    span = window(world, t, grid)
    r = t // day * day
    values = load_steps(world, r, span.stop, prior_kw)[t - r :]
    edges = world.grid.edges_s[span.start : span.stop + 1]
    return step_means(edges, values, grid)


def _rounded(x: float) -> float | None:
    return None if not np.isfinite(x) else round(x, 4)


def forecast_metrics(world: World) -> dict[str, Any]:
    """Error of the day-ahead forecasts over the simulated period, hour by hour.

    Load: each day's learned forecast (made at the day's start from the past) and the
    seasonal-naive baseline (the day before, repeated) against the hourly load that happened.
    PV: the forecast the planner gets at the day's start (``pv_forecast``) and yesterday's PV,
    against the hourly PV available (zero without PV). Days without a full day of history before
    them are not scored; None where no day could be scored. ``series`` holds the hourly values
    scored (forecast, baseline, actual [kW], rounded to 0.1 W) from ``series["start"]`` on, so
    that a reader can check the errors.
    """
    day = world.steps_per_day
    per_hour = day // 24
    learned, naive, actual = [], [], []
    pv_fc, pv_naive, pv_actual = [], [], []
    for r in range(day, world.n_sim - day + 1, day):
        learned.append(daily_load_forecast(world, r)[:24])
        naive.append(seasonal_naive_kw(_hourly_kw(world.load_kw[r - day : r], per_hour), 24))
        actual.append(_hourly_kw(world.load_kw[r : r + day], per_hour))
        hours = TimeGrid(world.grid.edges_s[r : r + day + 1 : per_hour])
        pv_fc.append(pv_forecast(world, r, hours))
        pv_naive.append(persistence_pv_kw(_hourly_kw(world.pv_kw[r - day : r], per_hour)))
        pv_actual.append(_hourly_kw(world.pv_kw[r : r + day], per_hour))
    empty = forecast_error(np.zeros(0), np.zeros(0))
    model = base = pv_model = pv_base = empty
    if actual:
        truth, pv_truth = np.concatenate(actual), np.concatenate(pv_actual)
        model = forecast_error(np.concatenate(learned), truth)
        base = forecast_error(np.concatenate(naive), truth)
        pv_model = forecast_error(np.concatenate(pv_fc), pv_truth)
        pv_base = forecast_error(np.concatenate(pv_naive), pv_truth)

    def values(parts: list[FloatArray]) -> list[float]:
        return [round(float(x), 4) for x in np.concatenate(parts)] if parts else []

    series = {
        "start": (
            datetime.fromtimestamp(int(world.grid.edges_s[day]), UTC).isoformat()
            if actual
            else None
        ),
        "step_h": 1,
        "load_kw": {
            "forecast": values(learned),
            "baseline": values(naive),
            "actual": values(actual),
        },
        "pv_kw": {
            "forecast": values(pv_fc),
            "baseline": values(pv_naive),
            "actual": values(pv_actual),
        },
    }
    return {
        "load_mae_kw": _rounded(model.mae_kw),
        "load_bias_kw": _rounded(model.bias_kw),
        "baseline_load_mae_kw": _rounded(base.mae_kw),
        "baseline_load_bias_kw": _rounded(base.bias_kw),
        "load_model": MODEL_NAME,
        "baseline": BASELINE_NAME,
        "horizon_h": 24,
        "days_scored": model.n // 24,
        "pv_mae_kw": _rounded(pv_model.mae_kw),
        "pv_bias_kw": _rounded(pv_model.bias_kw),
        "baseline_pv_mae_kw": _rounded(pv_base.mae_kw),
        "baseline_pv_bias_kw": _rounded(pv_base.bias_kw),
        "pv_model": PV_METHOD_NAME,
        "pv_baseline": PV_BASELINE_NAME,
        "series": series,
    }


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
