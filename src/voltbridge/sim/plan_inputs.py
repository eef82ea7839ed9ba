"""A re-plan's inputs in the simulator, from series made once per day and sliced per re-plan.

``optimal`` re-plans every 15 minutes on a 48-hour grid; consecutive re-plans see nearly the
same forecasts and prices, shifted by one step. What changes only once a day is made once a day
per world step: the load forecast (``forecasting.load_steps``), the PV clear-sky index
(``forecasting.pv_index_steps``); prices beyond publication once per publication
(``Context.known_prices``); the cars' trips once for the whole period; the site's car limits,
wear prices and tariff once per site (``planner.from_site.SiteConstants``). A re-plan slices them
from its step, applies what it measures now (the last hours' PV, whether a car is plugged in,
the household's settings) and takes the means over its plan steps in one pass.

The request is the very one the from-scratch path builds (``past_forecast``, ``known_prices``,
``step_means``, ``plan_request``), to the last bit: the same values go through the same
arithmetic in the same order. ``tests/sim/test_plan_inputs.py`` checks it at many re-plan times.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime

import numpy as np

from voltbridge.config import Site
from voltbridge.control.plan_source import PlanState, measured_forecast, site_with_settings
from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.forecast import Availability, SiteForecast
from voltbridge.forecast.trips import trip_intervals
from voltbridge.planner.from_site import SiteConstants, plan_request, site_constants
from voltbridge.planner.request import PlanRequest
from voltbridge.sim.context import Context
from voltbridge.sim.forecasting import (
    PLAN_HORIZON_H,
    load_steps,
    pv_index_steps,
    pv_steps,
    sim_planning_grid,
    step_mids_s,
    window,
)

TRIP_REACH_S = 2 * 86400
"""Longer than any trip [s]: a return is at most a day (and a DST hour) after its departure."""


def stacked_step_means(
    sample_edges_s: np.ndarray, values: FloatArray, grid: TimeGrid
) -> FloatArray:
    """``core.timegrid.step_means`` of each row of ``values`` (series on the same samples) on
    ``grid``, in one pass: the same arithmetic row by row (the cumulative integral's running sum
    runs along each row in order), so the same numbers to the bit as one call per row.

    Where the grid's edges are sample edges (a plan grid on the world's steps) the integral is
    read at them (``np.interp`` returns a breakpoint's value as is); elsewhere it is
    interpolated row by row."""
    bp, edges = sample_edges_s, grid.edges_s
    if bp[0] > edges[0] or bp[-1] < edges[-1]:
        raise ValueError("samples do not cover the time grid")
    rows, n = values.shape
    cumulative = np.zeros((rows, n + 1))
    np.cumsum(values * (bp[1:] - bp[:-1]), axis=1, out=cumulative[:, 1:])
    at = np.searchsorted(bp, edges)
    steps_s = edges[1:] - edges[:-1]
    if (bp[np.minimum(at, n)] == edges).all():
        at_edges = cumulative[:, at]
        mean = (at_edges[:, 1:] - at_edges[:, :-1]) / steps_s
        # a plan step of one sample takes that sample's value as is, free of rounding
        return np.where(at[1:] - at[:-1] == 1, values[:, at[:-1]], mean)
    at_edges = np.stack([np.interp(edges, bp, c) for c in cumulative])
    mean = (at_edges[:, 1:] - at_edges[:, :-1]) / steps_s
    first = np.searchsorted(bp, edges[:-1], side="right") - 1
    last = np.searchsorted(bp, edges[1:], side="left") - 1
    whole = np.clip(first, 0, n - 1)
    out: FloatArray = np.where(first == last, values[:, whole], mean)
    return out


class SimPlanInputs:
    """Builds the :class:`PlanRequest` of a re-plan at any step of one simulated site.

    Per day (from step ``r``, a whole number of days from the start) it keeps the load forecast,
    the PV clear-sky index and the steps' midpoints per world step from ``r`` to the end of the
    day's last horizon; for the period, each car's trips as (departure [s], return [s], energy
    [kWh], departure).
    Re-plans of a day may come in any order; a new day replaces the last one's series.
    """

    def __init__(self, ctx: Context, prior_kw: FloatArray) -> None:
        self.ctx, self.prior = ctx, prior_kw
        w = ctx.world
        self._day_start = -1
        self._load_kw: FloatArray = np.zeros(0)
        self._pv_index: FloatArray = np.zeros(0)
        self._mids_s: FloatArray = np.zeros(0)
        self._constants: SiteConstants | None = None
        tz = w.site.location.timezone
        self._trips: dict[str, list[tuple[float, float, float, datetime]]] = {}
        self._leaves_s: dict[str, list[float]] = {}
        for vw in w.vehicles:
            trips = [
                (leave.timestamp(), back.timestamp(), energy, leave)
                for leave, back, energy in trip_intervals(vw.rules, w.grid.start, w.grid.end, tz)
            ]
            self._trips[vw.name] = trips
            self._leaves_s[vw.name] = [a for a, _, _, _ in trips]

    def _day_series(self, t: int, stop: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The day's load [kW], clear-sky index [-] and step midpoints [s, UTC] per world step
        from step t to ``stop``."""
        w = self.ctx.world
        day = w.steps_per_day
        r = t // day * day
        if r != self._day_start or stop - r > self._load_kw.size:
            reach = r + day + round(PLAN_HORIZON_H * day / 24) + 1
            end = min(max(reach, stop), w.grid.n)
            self._load_kw = load_steps(w, r, end, self.prior)
            self._pv_index = pv_index_steps(w, r, end)
            self._mids_s = step_mids_s(w, slice(r, end))
            self._day_start = r
        at = slice(t - r, stop - r)
        return self._load_kw[at], self._pv_index[at], self._mids_s[at]

    def availability(self, name: str, plugged_now: bool, grid: TimeGrid) -> Availability:
        """The car's schedule on ``grid`` (``forecast.trips.availability`` from the period's
        trips), its first step set by whether it is plugged in now."""
        edges = grid.edges_s.astype(np.float64)
        starts, ends = edges[:-1], edges[1:]
        start_s, end_s = float(grid.edges_s[0]), float(grid.edges_s[-1])
        plugged = np.ones(grid.n, dtype=bool)
        driving = np.zeros(grid.n)
        departures = []
        leaves, trips = self._leaves_s[name], self._trips[name]
        for i in range(bisect_left(leaves, start_s - TRIP_REACH_S), bisect_right(leaves, end_s)):
            a, b, energy, leave = trips[i]
            if b <= start_s:
                continue
            # (np.maximum for np.clip's lower bound: the same numbers, a tenth of the overhead)
            overlap = np.maximum(np.minimum(ends, b) - np.maximum(starts, a), 0.0)
            plugged &= overlap <= 0
            driving += energy * overlap / (b - a)
            if start_s < a <= end_s:
                departures.append(leave)
        plugged[0] = plugged_now
        return Availability(plugged_in=plugged, driving_kwh=driving, departures=tuple(departures))

    def _site_constants(self, site: Site) -> SiteConstants:
        if self._constants is None or self._constants.site is not site:
            self._constants = site_constants(site)
        return self._constants

    def request(self, t: int, state: PlanState) -> PlanRequest:
        """The request of a re-plan at world step t in ``state``: the planning grid from t
        (``sim_planning_grid``), past-only forecasts and the prices known at t."""
        ctx = self.ctx
        w = ctx.world
        grid = sim_planning_grid(w, t)
        span = window(w, t, grid)
        load, index, mids_s = self._day_series(t, span.stop)
        imp, exp = ctx.known_prices(t, span.stop - t)
        pv = pv_steps(w, t, span, index, mids_s)
        means = stacked_step_means(
            w.grid.edges_s[t : span.stop + 1], np.stack((load, pv, imp, exp)), grid
        )
        vehicles = {
            vw.name: self.availability(vw.name, bool(vw.plugged_in[t]), grid) for vw in w.vehicles
        }
        forecast = measured_forecast(
            SiteForecast(load_kw=means[0], pv_kw=means[1], vehicles=vehicles),
            grid,
            state.plugged_in,
            state.settings,
        )
        site = site_with_settings(w.site, state.settings)
        return plan_request(
            site,
            grid,
            forecast,
            state.soc_pct,
            price_import=means[2],
            price_export=means[3],
            budget_left_kwh=state.budget_left_kwh,
            constants=self._site_constants(site),
            events=state.events,
            announced=state.announced,
        )
