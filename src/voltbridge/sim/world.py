"""The simulated world of one site over a period: weather, load, trips, outages and prices.

Built once per seed and shared by every strategy, so that strategies differ only in their
decisions. All arrays are on the simulation grid (steps of at most 5 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from voltbridge.config import ResolvedVehicle, Site, resolve_vehicles
from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.forecast import clearsky_pv_kw, week_profile_kw
from voltbridge.forecast.household import household_load_kw
from voltbridge.forecast.measured import measured_load_kw
from voltbridge.forecast.site import pv_array_args, trip_rules
from voltbridge.forecast.trips import TripRule
from voltbridge.programs.events import ProgramEvent
from voltbridge.sim.outages import draw_notices, draw_outages, outage_mask
from voltbridge.sim.trips import realise_trips, trip_arrays
from voltbridge.sim.types import Outage, RealisedTrip
from voltbridge.sim.weather import (
    TmyFile,
    load_weather,
    monthly_clearsky_index,
    pv_power_kw,
    weather_on_grid,
)
from voltbridge.sim.weather_sources import Fetch, site_weather
from voltbridge.tariffs import export_prices, import_prices

MAX_STEP_MINUTES = 5
LOOKAHEAD_H = 48
"""The world extends this far past the period so that plans near its end see a full horizon."""


@dataclass
class VehicleWorld:
    """One car in the world: its resolved specification, schedule and the trips it made."""

    resolved: ResolvedVehicle
    rules: list[TripRule]
    trips: list[RealisedTrip]
    plugged_in: np.ndarray
    driving_kwh: FloatArray

    @property
    def name(self) -> str:
        return self.resolved.entry.name


@dataclass
class World:
    """Everything that happens to the site, independent of any strategy.

    Attributes:
        site: the validated site.
        grid: the simulation grid over the period and ``LOOKAHEAD_H`` beyond (``n_sim`` steps
            are simulated; the rest is there for plans made near the end).
        n_sim: number of simulated steps.
        price_import, price_export: [currency/kWh] per step.
        pv_kw: PV power available with the TMY weather [kW].
        clearsky_pv_kw: PV power under a clear sky [kW] (known in advance: astronomy).
        temp_air_c: air temperature [°C].
        load_kw: household load [kW]: the measured year or the typical week the site gives, else
            a varying household (``forecast/household.py``) drawn with ``seed`` around the
            site's annual consumption, responding to the typical year's temperatures.
        essential_kw: the part of the load on essential circuits [kW] (their typical draw,
            never more than the whole load).
        grid_up: False in outage steps.
        outages: the outages in the period.
        vehicles: the cars.
        weather: the TMY file used.
        seed: the random seed of trips, drawn outages and the household's load.
        pv_clear_index: the typical year's clear-sky index of each step's month (the PV
            forecast's baseline before production has been measured); None: no weather.
        load_forecasts: the learned daily load forecasts by world step, made from the past only
            (``sim/forecasting.py``) and shared by every strategy and the error metrics.
        pv_indices: the learned clear-sky index per hour of the day by world step, made from
            the past only and shared in the same way.
        events: the paid grid events drawn from the site's programs (``programs/draw.py``);
            ``optimal`` learns of each at its ``received_at``, ``oracle`` knows them all.
    """

    site: Site
    grid: TimeGrid
    n_sim: int
    price_import: FloatArray
    price_export: FloatArray
    pv_kw: FloatArray
    clearsky_pv_kw: FloatArray
    temp_air_c: FloatArray
    load_kw: FloatArray
    essential_kw: FloatArray
    grid_up: np.ndarray
    outages: list[Outage]
    vehicles: list[VehicleWorld]
    weather: TmyFile
    seed: int
    pv_clear_index: FloatArray | None = None
    load_forecasts: dict[int, FloatArray] = field(default_factory=dict)
    pv_indices: dict[int, FloatArray] = field(default_factory=dict)
    events: tuple[ProgramEvent, ...] = ()

    @property
    def dt_h(self) -> FloatArray:
        return self.grid.dt_h

    @property
    def steps_per_day(self) -> int:
        return round(24 / float(self.grid.dt_h[0]))


def build_world(
    site: Site,
    start: datetime,
    days: int,
    seed: int = 0,
    outages: list[Outage] | None = None,
    step_minutes: int = MAX_STEP_MINUTES,
    weather_fetch: Fetch | None = None,
) -> World:
    """The world of ``site`` for ``days`` from ``start``.

    ``outages`` given explicitly replace the ones drawn from the site's outage risk. The weather
    is the site's own typical year (see :func:`voltbridge.sim.weather_sources.site_weather`);
    ``weather_fetch`` lets it fetch a missing PVGIS year (None: cache and shipped years only).
    """
    if not 1 <= step_minutes <= MAX_STEP_MINUTES:
        raise ValueError(f"the simulation step must be 1-{MAX_STEP_MINUTES} minutes")
    tz = site.location.timezone
    grid = TimeGrid.regular(start, days * 24 + LOOKAHEAD_H, step_minutes, align=False)
    n_sim = round(days * 24 * 60 / step_minutes)
    # independent streams for the outages and each car: how many outages or trips one draws
    # (which depends on the period's length) never changes another's
    # (the notices' stream is spawned last, so the others are those of before it existed)
    outage_rng, *car_rngs, notice_rng = np.random.default_rng(seed).spawn(2 + len(site.vehicles))
    loc = site.location
    tmy = site_weather(loc.latitude, loc.longitude, loc.weather_file, fetch=weather_fetch)
    typical = load_weather(tmy.path)
    weather = weather_on_grid(typical, grid, tz)
    step_month = pd.to_datetime(grid.mid_s, unit="s", utc=True).tz_convert(tz).month
    pv_clear_index = monthly_clearsky_index(typical)[np.asarray(step_month) - 1]
    if site.pv is not None:
        array = pv_array_args(site)
        pv_kw = pv_power_kw(weather, grid, *array)
        clear = clearsky_pv_kw(grid, *array)
    else:
        pv_kw = clear = np.zeros(grid.n)
    if site.load.measured is not None:
        load = measured_load_kw(grid, site.load.measured)
    elif site.load.profile is not None:
        load = week_profile_kw(grid, site.load.profile, tz)
    else:
        assert site.load.annual_kwh is not None
        daily_temp_c = weather.weather.temp_air.reshape(365, 24).mean(axis=1)
        load = household_load_kw(grid, site.load.annual_kwh, tz, seed, daily_temp_c)
    end = grid.end
    if outages is None:
        risk = site.outages
        outages = (
            draw_notices(
                draw_outages(
                    grid.start,
                    start + timedelta(days=days),
                    risk.per_year,
                    risk.mean_hours,
                    outage_rng,
                ),
                notice_rng,
            )
            if risk.per_year > 0
            else []
        )
    rules = trip_rules(site)
    vehicles = []
    for rv, car_rng in zip(resolve_vehicles(site), car_rngs, strict=True):
        trips = realise_trips(
            rules[rv.entry.name],
            grid.start,
            end,
            tz,
            car_rng,
            rv.consumption_kwh_per_km,
            rv.entry.name,
        )
        plugged, driving = trip_arrays(trips, grid)
        vehicles.append(VehicleWorld(rv, rules[rv.entry.name], trips, plugged, driving))
    tariff = site.tariff.with_timezone(tz)
    return World(
        site=site,
        grid=grid,
        n_sim=n_sim,
        price_import=import_prices(tariff, grid),
        price_export=export_prices(tariff, grid),
        pv_kw=pv_kw,
        clearsky_pv_kw=clear,
        temp_air_c=np.asarray(weather.temp_air, dtype=np.float64),
        load_kw=load,
        essential_kw=np.minimum(load, site.essential_kw),
        grid_up=~outage_mask(outages, grid),
        outages=outages,
        vehicles=vehicles,
        weather=tmy,
        seed=seed,
        pv_clear_index=pv_clear_index,
    )
