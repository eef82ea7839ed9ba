"""Where the controller's plans come from: the planner on a forecast, with the household's settings.

The controller asks a ``PlanSource`` for a new plan every 15 minutes and on events. At home that
is ``SitePlanSource`` (PV and load learned from the recorded history, or clear-sky PV and the
site's profile before there is one, the trip schedule, the tariff); the simulator gives its own, built from the simulated past.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import numpy as np

from voltbridge.config import Site
from voltbridge.control.settings import Settings
from voltbridge.core.timegrid import FloatArray, TimeGrid, ensure_utc
from voltbridge.core.types import Plan
from voltbridge.forecast import Availability, SiteForecast, forecast_site
from voltbridge.forecast.home_load import History, LearnedHomeLoad
from voltbridge.forecast.home_pv import LearnedHomePv
from voltbridge.planner import Planner
from voltbridge.planner.from_site import plan_request
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent


@dataclass(frozen=True)
class PlanState:
    """What is measured when a plan is asked for.

    Attributes:
        now: the plan's start (aware).
        soc_pct: state of charge per storage name [%]; a car not at home may be missing.
        plugged_in: per vehicle name, whether it is connected now.
        settings: the household's settings now.
        budget_left_kwh: per vehicle name, what it may still discharge today under its
            warranty budget [kWh stored] as the controller counted it (None: no budget; a car
            missing: not counted, a whole day's allowance is assumed).
        events: the paid grid events the household takes part in (``EventBook.for_plan``).
        announced: the announced outages not over yet (storm watch fills up for them).
    """

    now: datetime
    soc_pct: Mapping[str, float]
    plugged_in: Mapping[str, bool]
    settings: Settings
    budget_left_kwh: Mapping[str, float | None] = field(default_factory=dict)
    events: tuple[ProgramEvent, ...] = ()
    announced: tuple[AnnouncedOutage, ...] = ()


class PlanSource(Protocol):
    """Makes a plan for the present state."""

    def make_plan(self, state: PlanState) -> Plan: ...


def planning_grid(start_s: int, horizon_h: float = 48.0, fine_h: float = 4.0) -> TimeGrid:
    """15-minute steps for the first ``fine_h`` hours, hourly after: near-term detail where
    decisions are applied, and a cheap look-ahead (about 60 steps instead of 192 for 48 h).

    The steps lie on the clock's quarter hours, whenever the plan is made: a plan made at
    07:20:53 starts with a shortened step to 07:30 and goes on 07:45, 08:00, ..., so that a
    departure at 07:45, a tariff's change at 16:00 or an event's window fall on step edges
    (steps that start at odd times smear them over two steps and show them at odd times). A
    first step shorter than ``MIN_FIRST_STEP_S`` is merged into the next. The grid reaches
    ``horizon_h`` from the quarter hour at or before ``start_s`` (up to 15 minutes short of
    ``horizon_h`` from ``start_s`` itself); a ``start_s`` on a quarter hour gives the grid as
    before (the simulator plans on quarter hours)."""
    base = start_s - start_s % QUARTER_S
    fine_s, horizon_s = int(fine_h * 3600), int(horizon_h * 3600)
    fine = np.arange(base, base + fine_s, QUARTER_S, dtype=np.int64)
    coarse = np.arange(base + fine_s, base + horizon_s + 1, 3600, dtype=np.int64)
    edges = np.concatenate((fine, coarse))
    if base < start_s:
        later = edges[edges >= start_s + MIN_FIRST_STEP_S]
        if later.size == 0:  # a horizon shorter than the first step: one step to its end
            later = np.array([max(base + horizon_s, start_s + MIN_FIRST_STEP_S)], dtype=np.int64)
        edges = np.concatenate((np.array([start_s], dtype=np.int64), later))
    return TimeGrid(edges)


QUARTER_S = 900
"""Plan steps lie on the clock's quarter hours [s]."""

MIN_FIRST_STEP_S = 60
"""A first step (up to the next quarter hour) shorter than this is merged into the next [s]."""


def site_with_settings(site: Site, settings: Settings) -> Site:
    """``site`` with the household's settings in place of the site file's preferences; the very
    same object when they change nothing (vehicles are resolved once per site object)."""
    prefs0 = site.preferences
    if (
        settings.v2g_allowed == prefs0.v2g_allowed
        and settings.backup_reserve_h == prefs0.backup_reserve_h
        and not any(
            c.target_soc_pct is not None or c.mobility_reserve_pct is not None
            for c in settings.vehicles.values()
        )
    ):
        return site
    prefs = site.preferences.model_copy(
        update={"v2g_allowed": settings.v2g_allowed, "backup_reserve_h": settings.backup_reserve_h}
    )
    vehicles = []
    for v in site.vehicles:
        car = settings.vehicles.get(v.name)
        update: dict[str, float] = {}
        if car is not None and car.target_soc_pct is not None:
            update["departure_soc_pct"] = car.target_soc_pct
        if car is not None and car.mobility_reserve_pct is not None:
            update["mobility_reserve_pct"] = car.mobility_reserve_pct
        vehicles.append(v.model_copy(update=update) if update else v)
    return site.model_copy(update={"preferences": prefs, "vehicles": vehicles})


def measured_forecast(
    forecast: SiteForecast, grid: TimeGrid, plugged_in: Mapping[str, bool], settings: Settings
) -> SiteForecast:
    """The forecast corrected by what is measured and set now: each car's first step follows
    whether it is plugged in, and a departure the household set replaces the schedule's next one
    when that lies within ``MOVED_DEPARTURE_H`` of it (otherwise it is an extra departure)."""
    vehicles: dict[str, Availability] = {}
    for name, a in forecast.vehicles.items():
        plugged = a.plugged_in.copy()
        departures = a.departures
        if name in plugged_in:
            plugged[0] = bool(plugged_in[name])
        car = settings.vehicles.get(name)
        dep = None if car is None or car.departure is None else ensure_utc(car.departure)
        if dep is not None and grid.start < dep <= grid.end:
            moved = [
                d for d in departures if abs((d - dep).total_seconds()) <= MOVED_DEPARTURE_H * 3600
            ]
            departures = tuple(sorted({dep, *(d for d in departures if d not in moved[:1])}))
        vehicles[name] = Availability(plugged, a.driving_kwh, departures)
    return replace(forecast, vehicles=vehicles)


MOVED_DEPARTURE_H = 12.0
"""A departure the household sets within this many hours of a scheduled one replaces it [h]."""


class SitePlanSource:
    """Plans from the site file's forecasts and tariff, over 48 h (15-minute steps for 4 h).

    ``price_import``/``price_export`` may supply prices per planning step [currency/kWh] from a
    live feed; by default the tariff's are used. With ``load_history`` (``Store.history``) the
    load and the PV are learned from the recorded history (``forecast/home_load.py``,
    ``forecast/home_pv.py``, which also reads a configured weather provider); what either forecast
    could not use (a broken store, a failed provider) is added to the plan's warnings.
    """

    def __init__(
        self, site: Site, planner: Planner | None = None, load_history: History | None = None
    ) -> None:
        self.site = site
        self.planner = planner or Planner()
        self.learned_load = None if load_history is None else LearnedHomeLoad(site, load_history)
        self.learned_pv = (
            None if load_history is None or site.pv is None else LearnedHomePv(site, load_history)
        )

    def make_plan(
        self,
        state: PlanState,
        price_import: FloatArray | None = None,
        price_export: FloatArray | None = None,
    ) -> Plan:
        grid = planning_grid(int(ensure_utc(state.now).timestamp()))
        site = site_with_settings(self.site, state.settings)
        base = forecast_site(site, grid)
        if self.learned_load is not None:
            base = replace(base, load_kw=self.learned_load.load_kw(grid))
        if self.learned_pv is not None:
            base = replace(base, pv_kw=self.learned_pv.pv_kw(grid))
        forecast = measured_forecast(base, grid, state.plugged_in, state.settings)
        req = plan_request(
            site,
            grid,
            forecast,
            state.soc_pct,
            price_import,
            price_export,
            state.budget_left_kwh,
            events=state.events,
            announced=state.announced,
        )
        plan = self.planner.plan(req)
        said = tuple(
            w for f in (self.learned_load, self.learned_pv) if f is not None for w in f.warnings
        )
        if said:
            plan = replace(plan, warnings=plan.warnings + said)
        return plan
