"""One call that builds the world, runs each strategy on it, ages the batteries and summarises."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from voltbridge.battery.ageing import capacity_fade
from voltbridge.battery.calibrate import LIFE_YEARS
from voltbridge.config import Site
from voltbridge.core.timegrid import TimeGrid
from voltbridge.sim import weather_sources
from voltbridge.sim.context import storage_params
from voltbridge.sim.forecasting import forecast_metrics
from voltbridge.sim.headline import headline
from voltbridge.sim.metrics import summarise
from voltbridge.sim.program_income import (
    draw_site_events,
    events_summary,
    program_figures,
    programs_sentence,
)
from voltbridge.sim.runner import make_strategy, run
from voltbridge.sim.types import Outage, SimTrace
from voltbridge.sim.world import World, build_world

LIFE_FADE_MIN_DAYS = 28
"""Shortest period whose pattern is repeated over a battery's life for the life-average fade
[days]: a few days say little about a life."""


def age_batteries(world: World, trace: SimTrace) -> None:
    """Capacity fade of every storage from its simulated state of charge (blast-lite).

    The cells are taken to follow the air temperature (a parked car's pack does, damped): an
    assumption stated in the report. Over ``LIFE_FADE_MIN_DAYS`` or more, the period is also
    repeated over the reference life: a new pack's first year is dominated by where its SoC
    sits (the models' fade slows with age), while the planner's wear prices are life averages,
    so the two are compared on the life basis (``bench/value.py``).
    """
    n = trace.grid.n
    time_s = (trace.grid.edges_s[: n + 1] - trace.grid.edges_s[0]).astype(np.float64)
    temp = np.concatenate((world.temp_air_c[:n], world.temp_air_c[n - 1 : n]))
    chem = {vw.name: vw.resolved.vehicle.chemistry for vw in world.vehicles}
    if world.site.battery is not None:
        chem["battery"] = world.site.battery.chemistry
    days = float(time_s[-1]) / 86_400.0
    years = LIFE_YEARS if days >= LIFE_FADE_MIN_DAYS else None
    for s in trace.storages:
        result = capacity_fade(time_s, s.soc_kwh / s.capacity_kwh, temp, chem[s.name], years)
        s.capacity_fade_pct = result.fade_pct
        if result.fade_pct_after_years is not None:
            s.life_fade_pct_per_year = result.fade_pct_after_years / LIFE_YEARS
        s.fade_curve_pct = result.daily_fade_pct


def weather_label(world: World) -> str:
    """Which typical year the PV saw, and how far its station is from the site."""
    w = world.weather
    if w.source == "site weather file":
        return f"site weather file {w.station}"
    return f"{w.source} typical year of {w.station}, {w.distance_km:.0f} km from the site"


def weather_summary(world: World) -> dict[str, Any]:
    """The ``weather`` object of the JSON: source, station and distance from the site [km]."""
    w = world.weather
    return {"source": w.source, "station": w.station, "distance_km": round(w.distance_km, 1)}


def simulate_site(
    site: Site,
    start: datetime,
    days: int,
    strategies: list[str],
    seed: int = 0,
    outages: list[Outage] | None = None,
    progress: Callable[[str, int], None] | None = None,
    fetch_weather: bool = False,
) -> tuple[dict[str, Any], dict[str, SimTrace], World]:
    """Simulate ``strategies`` on one world; the JSON-ready summary, the traces and the world.

    ``fetch_weather``: fetch the site's PVGIS year if none is cached (needs the network once).
    """
    fetch = weather_sources.pvgis_fetch if fetch_weather else None
    world = build_world(site, start, days, seed, outages, weather_fetch=fetch)
    params = storage_params(world)
    events = draw_site_events(site, TimeGrid(world.grid.edges_s[: world.n_sim + 1]), seed)
    world.events = tuple(events)
    traces: dict[str, SimTrace] = {}
    summary: dict[str, Any] = {}
    for name in strategies:
        strategy = make_strategy(name)
        day = world.steps_per_day

        def tick(t: int, name: str = name, day: int = day) -> None:
            if progress is not None and (t + 1) % day == 0:
                progress(name, (t + 1) // day)

        trace = run(world, strategy, tick)
        age_batteries(world, trace)
        traces[name] = trace
        summary[name] = summarise(world, trace, params)
        summary[name].update(program_figures(site, trace, events, summary[name]["net_cost"]))
    result: dict[str, Any] = {
        "site": site.name,
        "start": world.grid.start.isoformat(),
        "days": days,
        "seed": seed,
        "weather": weather_summary(world),
        "weather_label": weather_label(world),
        "outages": [
            {"start": o.start.isoformat(), "hours": round(o.hours, 3), "notice_h": o.notice_h}
            for o in world.outages
        ],
        "forecast": forecast_metrics(world),
        "program_events": events_summary(events),
        "programs_note": programs_sentence(site, events, summary),
        "strategies": summary,
    }
    return {"headline": headline(result, traces, world), **result}, traces, world
