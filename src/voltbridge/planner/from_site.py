"""From a validated site, its forecast and its tariff to a PlanRequest: every limit as arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from voltbridge.battery.cost import WearCost, wear_cost
from voltbridge.config import ResolvedVehicle, Site, resolve_vehicles
from voltbridge.config.vehicle_limits import CarLimits, car_limits
from voltbridge.core.timegrid import FloatArray, TimeGrid, ensure_utc
from voltbridge.forecast import Availability, SiteForecast
from voltbridge.planner.request import (
    BudgetWindow,
    DemandCharge,
    Departure,
    PlanRequest,
    StorageSpec,
)
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent
from voltbridge.programs.plan_prices import event_price_adders
from voltbridge.programs.storm import DEFAULT_LEAD_H, storm_requirement_kwh
from voltbridge.tariffs import (
    Tariff,
    coverage_warnings,
    demand_windows,
    export_prices,
    import_prices,
)
from voltbridge.tariffs.series import load_series


def edge_mask(step_mask: np.ndarray) -> np.ndarray:
    """A per-step flag carried to edges: edge k takes step k-1's flag, edge 0 step 0's."""
    return np.concatenate((step_mask[:1], step_mask))


def edge_indices(grid: TimeGrid, moments: Sequence[datetime]) -> list[int]:
    """``grid.edge_index`` of each of ``moments`` (aware), in one search."""
    if not moments:
        return []
    at_s = np.array([ensure_utc(m).timestamp() for m in moments])
    found = np.searchsorted(grid.edges_s, at_s, side="right") - 1
    return [min(max(int(k), 0), grid.n) for k in found]


def discharge_modes(site: Site, rv: ResolvedVehicle) -> tuple[bool, bool]:
    """(may discharge into the house or the grid, may export to the grid) for one car and its
    charger, as :func:`voltbridge.config.vehicle_limits.car_limits` resolves them."""
    lim = car_limits(site, rv)
    return lim.can_discharge, lim.can_export


@dataclass(frozen=True)
class SiteConstants:
    """What a plan request reads from a site that no re-plan changes: the resolved cars with
    their limits and wear prices, the battery's wear prices, the tariff in the site's zone.

    Resolving them costs more than the rest of a request (the catalog's compatibility check,
    the wear calibration, a tariff copy), so a caller that re-plans one site every 15 minutes
    makes them once with :func:`site_constants` and hands them to :func:`plan_request`.

    Attributes:
        site: the site they were resolved from (compared by identity on use).
        cars: per car in site-file order: the resolved vehicle, its limits, its wear prices.
        battery_wear: the home battery's wear prices, None without one.
        tariff: the site's tariff with the site's timezone where it names none.
        covered_s: (from, to) [s, UTC]: a plan inside it draws no ``coverage_warnings`` (every
            price series with a fallback or repeating covers it, as read when these were made).
    """

    site: Site
    cars: tuple[tuple[ResolvedVehicle, CarLimits, WearCost], ...]
    battery_wear: WearCost | None
    tariff: Tariff
    covered_s: tuple[float, float] = (-math.inf, math.inf)

    def coverage_warnings(self, grid: TimeGrid) -> list[str]:
        """``tariffs.coverage_warnings`` of :attr:`tariff` on ``grid``, found empty without
        reading the series when the grid lies in :attr:`covered_s`."""
        lo, hi = self.covered_s
        if lo <= grid.edges_s[0] and grid.edges_s[-1] <= hi:
            return []
        return coverage_warnings(self.tariff, grid)


def site_constants(site: Site) -> SiteConstants:
    """Resolve once what :class:`SiteConstants` holds for ``site``."""
    prefs, b = site.preferences, site.battery
    cars = tuple(
        (
            rv,
            car_limits(site, rv),
            wear_cost(
                rv.usable_kwh,
                rv.vehicle.chemistry,
                prefs.battery_care,
                prefs.battery_cost_per_kwh,
            ),
        )
        for rv in resolve_vehicles(site)
    )
    battery_wear = (
        None
        if b is None
        else wear_cost(b.usable_kwh, b.chemistry, prefs.battery_care, prefs.battery_cost_per_kwh)
    )
    tariff = site.tariff.with_timezone(site.location.timezone)
    lo, hi = -math.inf, math.inf
    for schedule in (tariff.import_, tariff.export):
        spec = schedule.series
        if spec is not None and (spec.fallback_rate is not None or spec.repeat):
            data = load_series(spec.file)  # as coverage_warnings reads it
            lo, hi = max(lo, float(data.starts_s[0])), min(hi, float(data.end_s))
    return SiteConstants(site, cars, battery_wear, tariff, (lo, hi))


def day_windows(
    grid: TimeGrid, timezone: str, daily_kwh: float, left_today_kwh: float | None
) -> tuple[BudgetWindow, ...]:
    """One discharge allowance per local day the grid touches, as the controller counts them
    (``control/budget.py``): ``left_today_kwh`` for the day the grid starts in (the whole
    ``daily_kwh`` when unknown, as at the day's start), ``daily_kwh`` for each later day. A step
    counts to the day it starts in."""
    zone = ZoneInfo(timezone)
    starts = grid.starts_s
    day = datetime.fromtimestamp(int(starts[0]), UTC).astimezone(zone).date()
    out: list[BudgetWindow] = []
    first = 0
    while first < grid.n:
        midnight = datetime.combine(day, datetime.min.time(), zone)
        nxt = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
        stop = max(int(np.searchsorted(starts, int(nxt.timestamp()), side="left")), first + 1)
        allowance = daily_kwh if out or left_today_kwh is None else left_today_kwh
        out.append(BudgetWindow(first, stop, min(max(allowance, 0.0), daily_kwh), midnight))
        first, day = stop, day + timedelta(days=1)
    return tuple(out)


def vehicle_storage(
    site: Site,
    rv: ResolvedVehicle,
    avail: Availability,
    grid: TimeGrid,
    soc_pct: float,
    resolved: tuple[CarLimits, WearCost] | None = None,
    budget_left_kwh: float | None = None,
) -> StorageSpec:
    """A car as a storage: limits only while plugged in, reserve only while at home; every
    limit as :func:`car_limits` resolves it (the controller and simulator read the same).
    ``resolved``: the car's limits and wear prices when the caller holds them already
    (:class:`SiteConstants`). A warranty budget becomes one allowance per local day
    (:func:`day_windows`), today's being ``budget_left_kwh`` [kWh stored] when the controller
    has counted it."""
    prefs, entry = site.preferences, rv.entry
    if resolved is None:
        lim = car_limits(site, rv)
        wear = wear_cost(
            rv.usable_kwh, rv.vehicle.chemistry, prefs.battery_care, prefs.battery_cost_per_kwh
        )
    else:
        lim, wear = resolved
    cap = lim.capacity_kwh
    at_home = edge_mask(avail.plugged_in)
    target_kwh = lim.target_kwh
    departures = tuple(
        Departure(edge=edge, target_kwh=target_kwh, at=at)
        for edge, at in zip(edge_indices(grid, avail.departures), avail.departures, strict=True)
    )
    plugged = avail.plugged_in
    return StorageSpec(
        name=entry.name,
        kind="vehicle",
        capacity_kwh=cap,
        soc0_kwh=min(max(soc_pct, 0.0), 100.0) / 100.0 * cap,
        eta_charge=lim.efficiency,
        eta_discharge=lim.efficiency,
        max_charge_kw=np.where(plugged, lim.max_charge_kw, 0.0),
        max_discharge_kw=np.where(plugged, lim.max_discharge_kw, 0.0),
        reserve_kwh=np.where(at_home, lim.reserve_kwh, 0.0),
        max_soc_kwh=cap,
        driving_kwh=avail.driving_kwh,
        departures=departures,
        can_export=lim.can_export,
        wear=wear,
        budget_windows=()
        if lim.discharge_budget_kwh_per_h is None
        else day_windows(
            grid, site.location.timezone, 24.0 * lim.discharge_budget_kwh_per_h, budget_left_kwh
        ),
        backup_counts=(at_home & lim.can_discharge).astype(np.float64),
    )


def battery_storage(
    site: Site, grid: TimeGrid, soc_pct: float | None, wear: WearCost | None = None
) -> StorageSpec | None:
    """The home battery as a storage, or None without one; ``wear``: its wear prices when the
    caller holds them already (:class:`SiteConstants`)."""
    b = site.battery
    if b is None:
        return None
    if wear is None:
        wear = wear_cost(
            b.usable_kwh,
            b.chemistry,
            site.preferences.battery_care,
            site.preferences.battery_cost_per_kwh,
        )
    eta = math.sqrt(b.round_trip_efficiency)
    n = grid.n
    pct = b.initial_soc_pct if soc_pct is None else soc_pct
    return StorageSpec(
        name="battery",
        kind="battery",
        capacity_kwh=b.usable_kwh,
        soc0_kwh=min(max(pct, 0.0), 100.0) / 100.0 * b.usable_kwh,
        eta_charge=eta,
        eta_discharge=eta,
        max_charge_kw=np.full(n, b.max_charge_kw),
        max_discharge_kw=np.full(n, b.max_discharge_kw),
        reserve_kwh=np.full(n + 1, b.min_soc_pct / 100.0 * b.usable_kwh),
        max_soc_kwh=b.max_soc_pct / 100.0 * b.usable_kwh,
        driving_kwh=np.zeros(n),
        can_export=site.grid.export_policy == "any",
        wear=wear,
    )


def backup_requirement(
    site: Site,
    grid: TimeGrid,
    storages: list[StorageSpec],
    storm_kwh: FloatArray | None = None,
) -> FloatArray | None:
    """Stored energy to keep for the essential circuits at each edge [kWh], or None.

    ``backup_reserve_h * essential_kw / eta_d`` while a car that can discharge is plugged in;
    with no car at home, only what the home battery can hold above its minimum. ``storm_kwh``:
    storm watch's requirement (:func:`storm_target_kwh` over the announced windows); the larger
    of the two applies at each edge.
    """
    hours, essential = site.preferences.backup_reserve_h, site.essential_kw
    normal: FloatArray | None = None
    if storages and hours > 0 and essential > 0:
        eta = min(s.eta_discharge for s in storages)
        need = hours * essential / eta
        car_home = np.zeros(grid.n + 1, dtype=bool)
        battery_room = 0.0
        for s in storages:
            if s.kind == "vehicle" and s.backup_counts is not None:
                car_home |= s.backup_counts > 0
            elif s.kind == "battery":
                battery_room = s.max_soc_kwh - float(s.reserve_kwh.max())
        normal = np.where(car_home, need, min(need, battery_room))
    if storm_kwh is None:
        return normal
    return storm_kwh if normal is None else np.maximum(normal, storm_kwh)


def storm_target_kwh(
    grid: TimeGrid, storages: Sequence[StorageSpec], car_targets_kwh: Mapping[str, float]
) -> FloatArray:
    """What storm watch fills at each edge [kWh above the reserves]: each car that can power
    the house, while plugged in, up to its departure target, and the home battery up to its
    maximum SoC; never above a storage's maximum.

    The departure target, not the car's full capacity: it is the SoC the household (or the
    battery-care setting, or the maker's warranty) allows the car to sit at, and what an
    uncontrolled charger fills to on arrival, so storm watch enters an outage no emptier than a
    house that does nothing clever, without holding a pack at 100 % for days.
    """
    out = np.zeros(grid.n + 1)
    for s in storages:
        if s.kind == "vehicle":
            if s.backup_counts is None:
                continue
            top = min(car_targets_kwh.get(s.name, s.max_soc_kwh), s.max_soc_kwh)
            out += s.backup_counts * np.maximum(top - s.reserve_kwh, 0.0)
        else:
            out += np.maximum(s.max_soc_kwh - s.reserve_kwh, 0.0)
    return out


def plan_request(
    site: Site,
    grid: TimeGrid,
    forecast: SiteForecast,
    soc_pct: Mapping[str, float] | None = None,
    price_import: FloatArray | None = None,
    price_export: FloatArray | None = None,
    budget_left_kwh: Mapping[str, float | None] | None = None,
    constants: SiteConstants | None = None,
    events: Sequence[ProgramEvent] = (),
    announced: Sequence[AnnouncedOutage] = (),
    storm_lead_h: float = DEFAULT_LEAD_H,
) -> PlanRequest:
    """Everything the planner needs for ``site`` on ``grid``.

    ``soc_pct`` gives measured states of charge by storage name [%] (``"battery"`` for the home
    battery); missing ones use the site file's ``initial_soc_pct``. Prices default to the
    site's tariff. ``constants``: :func:`site_constants` of this very site object, made once
    by a caller that re-plans it often (others are resolved here). ``budget_left_kwh`` is what
    each car may still discharge today under its warranty budget [kWh stored], as the
    controller counted it (missing: a whole day's). ``events``: the paid grid events the
    household takes part in; each adds its payment to the prices in its window
    (:func:`voltbridge.programs.plan_prices.event_price_adders`), so the plan delivers what pays
    within its reserves. ``announced``: outages announced ahead; storm watch fills the storages
    ``storm_lead_h`` [h] before each starts and holds them to its end
    (:func:`voltbridge.programs.storm.storm_requirement_kwh`).
    """
    soc_pct = dict(soc_pct or {})
    left = dict(budget_left_kwh or {})
    if constants is None or constants.site is not site:
        constants = site_constants(site)
    storages = [
        vehicle_storage(
            site,
            rv,
            forecast.vehicles[rv.entry.name],
            grid,
            soc_pct.get(rv.entry.name, rv.entry.initial_soc_pct),
            (lim, wear),
            left.get(rv.entry.name),
        )
        for rv, lim, wear in constants.cars
    ]
    battery = battery_storage(site, grid, soc_pct.get("battery"), constants.battery_wear)
    if battery is not None:
        storages.append(battery)
    storm = None
    if announced:
        targets = {rv.entry.name: lim.target_kwh for rv, lim, _ in constants.cars}
        storm = storm_requirement_kwh(
            announced, grid, storm_target_kwh(grid, storages, targets), storm_lead_h
        )
    backup = backup_requirement(site, grid, storages, storm)
    tariff = constants.tariff
    if price_import is None:
        price_import = import_prices(tariff, grid)
    if price_export is None:
        price_export = export_prices(tariff, grid)
    if events:
        import_adder, export_adder = event_price_adders(grid, events)
        price_import = price_import + import_adder
        price_export = price_export + export_adder
    return PlanRequest(
        grid=grid,
        load_kw=forecast.load_kw,
        pv_kw=forecast.pv_kw,
        price_import=price_import,
        price_export=price_export,
        import_limit_kw=site.grid.import_cap_kw,
        export_limit_kw=site.grid.export_cap_kw,
        pv_export=site.grid.export_policy != "none",
        storages=tuple(storages),
        backup_kwh=backup,
        demand_charges=tuple(
            DemandCharge(mask=w.mask, rate_per_kw=w.rate_per_kw, label=w.label)
            for w in demand_windows(tariff, grid)
        ),
        notes=tuple(n for rv, _, _ in constants.cars for n in rv.notes)
        + tuple(constants.coverage_warnings(grid)),
    )
