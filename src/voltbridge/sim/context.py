"""What a strategy may know at a step: the site's parameters, the plant's state, and the past."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from voltbridge.battery.cost import WearCost, wear_cost
from voltbridge.config.vehicle_limits import car_limits
from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.forecast.prices import HISTORY_DAYS as PRICE_HISTORY_DAYS
from voltbridge.forecast.prices import price_forecast
from voltbridge.forecast.trips import trip_intervals
from voltbridge.sim.physics import Plant, StorageModel
from voltbridge.sim.world import World
from voltbridge.tariffs import TariffError, export_prices, import_prices

PRICE_FORECAST_H = 48
"""Hours forecast past the last published price: enough for a 48-hour plan made at any time."""
PUBLISHED_AT = time(13)
"""Local time at which the next day's day-ahead prices are known."""


@dataclass(frozen=True)
class StorageParams:
    """A storage as the strategies see it (the planner's constant-efficiency view).

    Attributes:
        name, kind: as in the site.
        capacity_kwh: usable capacity [kWh].
        max_charge_kw, max_discharge_kw: AC limits [kW] (discharge 0 if not allowed).
        eta: one-way efficiency at rated power [-].
        reserve_kwh: mobility reserve (car) or minimum (battery) [kWh].
        target_kwh: stored energy wanted at each departure [kWh] (battery: its maximum).
        can_export: whether its energy may be exported.
        departures_s: scheduled departures [s since the epoch, UTC], sorted (cars only).
        wear: the planner's wear prices.
        discharge_budget_kwh_per_h: the warranty's discharge allowance [kWh/h], None without
            one (cars that may discharge only).
        outage_floor_kwh: the lowest SoC in an outage [kWh]: a car's outage reserve, the
            battery's minimum (None: ``reserve_kwh``).
    """

    name: str
    kind: str
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    eta: float
    reserve_kwh: float
    target_kwh: float
    can_export: bool
    departures_s: np.ndarray
    wear: WearCost
    discharge_budget_kwh_per_h: float | None = None
    outage_floor_kwh: float | None = None


def storage_params(world: World) -> list[StorageParams]:
    """Every car, then the home battery, with the limits the site and catalog allow."""
    site, prefs = world.site, world.site.preferences
    # the cells follow the air temperature (as the simulated fade assumes): wear is priced at
    # the period's mean
    cell_c = float(np.mean(world.temp_air_c)) if len(world.temp_air_c) else 20.0
    out = []
    for vw in world.vehicles:
        lim = car_limits(site, vw.resolved)
        cap = lim.capacity_kwh
        leaves = trip_intervals(vw.rules, world.grid.start, world.grid.end, site.location.timezone)
        out.append(
            StorageParams(
                name=lim.name,
                kind="vehicle",
                capacity_kwh=cap,
                max_charge_kw=lim.max_charge_kw,
                max_discharge_kw=lim.max_discharge_kw,
                eta=lim.efficiency,
                reserve_kwh=lim.reserve_kwh,
                target_kwh=lim.target_kwh,
                can_export=lim.can_export,
                departures_s=np.array(sorted({int(a.timestamp()) for a, _, _ in leaves})),
                wear=wear_cost(
                    cap,
                    vw.resolved.vehicle.chemistry,
                    prefs.battery_care,
                    prefs.battery_cost_per_kwh,
                    cell_c,
                ),
                discharge_budget_kwh_per_h=lim.discharge_budget_kwh_per_h,
                outage_floor_kwh=lim.outage_floor_kwh,
            )
        )
    b = site.battery
    if b is not None:
        eta = math.sqrt(b.round_trip_efficiency)
        out.append(
            StorageParams(
                name="battery",
                kind="battery",
                capacity_kwh=b.usable_kwh,
                max_charge_kw=b.max_charge_kw,
                max_discharge_kw=b.max_discharge_kw,
                eta=eta,
                reserve_kwh=b.min_soc_pct / 100 * b.usable_kwh,
                target_kwh=b.max_soc_pct / 100 * b.usable_kwh,
                can_export=site.grid.export_policy == "any",
                departures_s=np.zeros(0, np.int64),
                wear=wear_cost(
                    b.usable_kwh,
                    b.chemistry,
                    prefs.battery_care,
                    prefs.battery_cost_per_kwh,
                    cell_c,
                ),
            )
        )
    return out


def plant_models(world: World, params: list[StorageParams]) -> list[StorageModel]:
    """The physical storages: cars follow the charger's efficiency curve, the battery is flat."""
    n = world.grid.n
    by_name = {vw.name: vw for vw in world.vehicles}
    out = []
    for p in params:
        vw = by_name.get(p.name)
        out.append(
            StorageModel(
                name=p.name,
                kind=p.kind,
                capacity_kwh=p.capacity_kwh,
                max_charge_kw=p.max_charge_kw,
                max_discharge_kw=p.max_discharge_kw,
                rated_eff=p.eta,
                curve=p.kind == "vehicle",
                reserve_kwh=p.reserve_kwh,
                outage_floor_kwh=p.reserve_kwh
                if p.outage_floor_kwh is None
                else p.outage_floor_kwh,
                plugged_in=vw.plugged_in if vw else np.ones(n, dtype=bool),
                driving_kwh=vw.driving_kwh if vw else np.zeros(n),
                can_export=p.can_export,
            )
        )
    return out


def initial_soc(world: World, params: list[StorageParams]) -> list[float]:
    """Starting states of charge [kWh] from the site file's ``initial_soc_pct``."""
    pct = {vw.name: vw.resolved.entry.initial_soc_pct for vw in world.vehicles}
    if world.site.battery is not None:
        pct["battery"] = world.site.battery.initial_soc_pct
    return [pct[p.name] / 100 * p.capacity_kwh for p in params]


@dataclass
class Context:
    """Read access for strategies: parameters, the plant's measured state, and the world.

    Strategies must only read world arrays at or before the current step (``past``) and prices
    through :meth:`known_prices`; the tests check that no forecast reads the future.
    """

    world: World
    params: list[StorageParams]
    plant: Plant
    price_forecasts: dict[tuple[str, int], FloatArray] = field(default_factory=dict)
    """Hourly forecasts beyond publication, by side and first unpublished step."""
    price_history_before: dict[str, FloatArray] = field(default_factory=dict)
    """Hourly prices of the ``PRICE_HISTORY_DAYS`` days before the simulation, by side."""
    _forecast_steps: dict[tuple[str, int], FloatArray] = field(
        default_factory=dict, init=False, repr=False
    )
    """Each forecast of ``price_forecasts`` per world step from its first unpublished step."""
    _published: tuple[int, int, int] = field(default=(0, 0, 0), init=False, repr=False)
    """(from, to [s, UTC], first unpublished step) of the last :meth:`published_until` answer:
    it holds from one 13:00 local to the next."""

    def known_prices(self, t: int, steps: int) -> tuple[FloatArray, FloatArray]:
        """Import and export prices [currency/kWh] for steps t..t+steps-1 as known at step t.

        Time-of-use and flat prices are known in advance. Day-ahead series are published around
        13:00 local time for the next day: beyond what is published they are forecast from the
        prices published so far (``voltbridge.forecast.prices``), once per publication.
        """
        w = self.world
        imp = w.price_import[t : t + steps]
        exp = w.price_export[t : t + steps]
        until = self.published_until(t)
        if until >= t + imp.size:
            return imp, exp
        if w.site.tariff.import_.series is not None:
            imp = self._beyond("import", w.price_import, t, until, imp.size)
        if w.site.tariff.export.series is not None:
            exp = self._beyond("export", w.price_export, t, until, exp.size)
        return imp, exp

    def _beyond(self, side: str, prices: FloatArray, t: int, until: int, size: int) -> FloatArray:
        """``prices`` from step t for ``size`` steps: the published ones up to step ``until``,
        the forecast made from them (and the month before the simulation) after."""
        ahead = self._forecast_per_step(side, prices, until, t + size - until)
        return np.concatenate((prices[t:until], ahead))

    def _forecast_per_step(
        self, side: str, prices: FloatArray, until: int, steps: int
    ) -> FloatArray:
        """The forecast beyond publication (:meth:`forecast_beyond`) on ``steps`` world steps
        from step ``until``: each step takes the forecast hour its midpoint lies in (the last
        one past the forecast's end). Made once per publication and sliced by every re-plan
        until the next one."""
        w = self.world
        cached = self._forecast_steps.get((side, until))
        if cached is not None and cached.size >= steps:
            return cached[:steps]
        forecast = self.forecast_beyond(side, prices, until)
        day = w.steps_per_day
        stop = min(until + max(steps, day * (PRICE_FORECAST_H // 24 + 1)), w.grid.n)
        edges = w.grid.edges_s[until : stop + 1]
        mid_s = (edges[:-1] + edges[1:]).astype(np.float64) / 2.0
        ahead_s = mid_s - w.grid.edges_s[until]
        hours = np.minimum((ahead_s // 3600).astype(np.int64), forecast.size - 1)
        per_step: FloatArray = forecast[hours]
        self._forecast_steps[(side, until)] = per_step
        return per_step[:steps]

    def forecast_beyond(self, side: str, prices: FloatArray, until: int) -> FloatArray:
        """The hourly ``side`` prices [currency/kWh] forecast for ``PRICE_FORECAST_H`` hours from
        step ``until``, the first unpublished one, from the prices published before it: the one
        place the values beyond publication come from. Made once per publication."""
        forecast = self.price_forecasts.get((side, until))
        if forecast is None:
            forecast = price_forecast(self._hourly_history(side, prices, until), PRICE_FORECAST_H)
            self.price_forecasts[(side, until)] = forecast
        return forecast

    def _hourly_history(self, side: str, prices: FloatArray, until: int) -> FloatArray:
        """Hourly prices [currency/kWh] published before step ``until``: the tariff's for the
        ``PRICE_HISTORY_DAYS`` days before the simulation (they were published then), the
        world's since, as hourly means ending at ``until``."""
        w = self.world
        start_s, until_s = int(w.grid.edges_s[0]), int(w.grid.edges_s[until])
        before = self.price_history_before.get(side)
        if before is None:
            past = TimeGrid(np.arange(start_s - PRICE_HISTORY_DAYS * 86400, start_s + 1, 3600))
            tariff = w.site.tariff
            try:
                before = (import_prices if side == "import" else export_prices)(tariff, past)
            except TariffError:  # the series does not reach back: the world's own prices only
                before = np.zeros(0)
            self.price_history_before[side] = before
        edges = np.arange(until_s, start_s, -3600)[::-1]
        if edges.size and edges[0] > start_s:
            edges = np.concatenate(([start_s], edges))
        if edges.size < 2:
            return before
        since = step_means(w.grid.edges_s[: until + 1], prices[:until], TimeGrid(edges))
        out: FloatArray = np.concatenate((before, since))
        return out

    def published_until(self, t: int) -> int:
        """First step whose day-ahead price is not yet published at step t.

        The answer changes only at 13:00 local time (at midnight the day counted from moves on
        as the day published for does), so it is kept from one 13:00 to the next.
        """
        w = self.world
        now_s = int(w.grid.edges_s[t])
        lo_s, hi_s, until = self._published
        if lo_s <= now_s < hi_s:
            return until
        zone = ZoneInfo(w.site.location.timezone)
        now = datetime.fromtimestamp(now_s, UTC).astimezone(zone)
        days = 2 if now.time() >= PUBLISHED_AT else 1
        end = datetime.combine(now.date() + timedelta(days=days), datetime.min.time(), zone)
        until = min(w.grid.step_at(end), w.grid.n)
        # the hours from 13:00 on the day before ``end`` to 13:00 on its day give this answer
        first = end.date() - timedelta(days=2)
        lo = datetime.combine(first, PUBLISHED_AT, zone)
        hi = datetime.combine(first + timedelta(days=1), PUBLISHED_AT, zone)
        if lo <= now < hi:
            self._published = (int(lo.timestamp()), int(hi.timestamp()), until)
        return until
