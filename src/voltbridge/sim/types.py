"""Value types of the simulator: realised trips and outages, and one strategy's simulated year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid


@dataclass(frozen=True)
class RealisedTrip:
    """One trip as it happened in the simulated world (times in UTC).

    Attributes:
        vehicle: the vehicle's name.
        depart: when the car left home.
        return_: when it came back.
        km: distance driven [km].
        energy_kwh: energy the drive used from the battery [kWh].
    """

    vehicle: str
    depart: datetime
    return_: datetime
    km: float
    energy_kwh: float


@dataclass(frozen=True)
class Outage:
    """A grid outage: the grid is absent on [start, end) (UTC).

    ``notice_h``: how long before ``start`` it was announced [h] (the announcement gives the
    true window); None for an outage that comes unannounced.
    """

    start: datetime
    end: datetime
    notice_h: float | None = None

    @property
    def announced_at(self) -> datetime | None:
        """When the outage was announced (UTC), or None when it was not."""
        if self.notice_h is None:
            return None
        return self.start - timedelta(hours=self.notice_h)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


@dataclass
class StorageTrace:
    """What one car or the home battery did, step by step.

    Attributes:
        name: vehicle name, or ``"battery"``.
        kind: ``"vehicle"`` or ``"battery"``.
        capacity_kwh: usable capacity at the start [kWh].
        power_kw: AC power per step [kW], positive charging at home, negative discharging.
        soc_kwh: stored energy at each step edge [kWh], length n + 1.
        plugged_in: at home and connected, per step.
        driving_kwh: energy driven per step [kWh].
        away_charging_kwh: energy charged away from home per step [kWh] (stored, DC side).
        losses_kwh: conversion losses per step [kWh] (AC energy in minus stored, stored out minus
            AC delivered).
        reserve_kwh: mobility reserve (car) or minimum (battery) at each step [kWh], for charts.
        capacity_fade_pct: capacity lost over the period [% of the start capacity].
        life_fade_pct_per_year: capacity lost a year on average over the reference life
            (``battery.calibrate.LIFE_YEARS``) if the period's pattern repeated [% of the start
            capacity a year], on the basis the planner's wear prices are calibrated on; None
            for periods shorter than ``sim.simulate.LIFE_FADE_MIN_DAYS``.
    """

    name: str
    kind: str
    capacity_kwh: float
    power_kw: FloatArray
    soc_kwh: FloatArray
    plugged_in: np.ndarray
    driving_kwh: FloatArray
    away_charging_kwh: FloatArray
    losses_kwh: FloatArray
    reserve_kwh: FloatArray
    capacity_fade_pct: float = 0.0
    life_fade_pct_per_year: float | None = None
    fade_curve_pct: FloatArray = field(default_factory=lambda: np.zeros(0))
    """Capacity fade [%] at the end of each simulated day (for the ageing chart)."""


@dataclass
class SimTrace:
    """One strategy's run over the period, on the simulation's time grid.

    Attributes:
        strategy: the strategy's name.
        grid: the simulation time grid (steps of at most 5 minutes).
        price_import: [currency/kWh] per step.
        price_export: [currency/kWh] per step.
        pv_kw: PV power available [kW].
        pv_used_kw: PV power used after curtailment [kW].
        load_kw: household load served [kW].
        unserved_kw: household load not served (outages only) [kW].
        grid_kw: grid power [kW], positive import, negative export.
        grid_up: whether the grid was present in each step.
        storages: one trace per car and home battery.
        on_grid: whether the house was joined to the grid (False in outages and, with the
            controller, during the enter-service wait); defaults to ``grid_up``.
        shed_kw: demand removed by shedding circuits [kW].
        essential_kw: the essential circuits' part of the demand [kW].
        demand_kw: the household's demand before shedding [kW].
    """

    strategy: str
    grid: TimeGrid
    price_import: FloatArray
    price_export: FloatArray
    pv_kw: FloatArray
    pv_used_kw: FloatArray
    load_kw: FloatArray
    unserved_kw: FloatArray
    grid_kw: FloatArray
    grid_up: np.ndarray
    storages: list[StorageTrace]
    on_grid: np.ndarray | None = None
    shed_kw: FloatArray | None = None
    essential_kw: FloatArray | None = None
    demand_kw: FloatArray | None = None
