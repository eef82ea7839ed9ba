"""What a household wants to know from a simulated period: money, energy, battery and backup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.sim.context import StorageParams
from voltbridge.sim.types import SimTrace
from voltbridge.sim.world import World
from voltbridge.tariffs import bill


@dataclass(frozen=True)
class EnergyTotals:
    """Energy over the period [kWh]; ``balance_error_kwh`` is what conservation misses by."""

    import_kwh: float
    export_kwh: float
    pv_kwh: float
    curtailed_kwh: float
    load_kwh: float
    unserved_kwh: float
    losses_kwh: float
    stored_delta_kwh: float
    driving_kwh: float
    away_charging_kwh: float
    vehicle_discharged_kwh: float
    vehicle_to_grid_kwh: float

    @property
    def balance_error_kwh(self) -> float:
        """import + pv + away - (load + losses + export + stored_delta + driving)."""
        return (self.import_kwh + self.pv_kwh + self.away_charging_kwh) - (
            self.load_kwh
            + self.losses_kwh
            + self.export_kwh
            + self.stored_delta_kwh
            + self.driving_kwh
        )


def energy_totals(trace: SimTrace) -> EnergyTotals:
    """Totals from the trace's step values, each summed independently."""
    dt = trace.grid.dt_h
    vehicles = [s for s in trace.storages if s.kind == "vehicle"]
    discharged = sum(float(np.sum(np.maximum(-s.power_kw, 0) * dt)) for s in vehicles)
    # The cars' share of export: export beyond what PV surplus explains, split over storages.
    export = np.maximum(-trace.grid_kw, 0)
    surplus = np.maximum(trace.pv_used_kw - trace.load_kw, 0)
    from_storage = np.maximum(export - surplus, 0)
    car_out = sum(np.maximum(-s.power_kw, 0) for s in vehicles)
    all_out = sum(np.maximum(-s.power_kw, 0) for s in trace.storages)
    share = np.divide(car_out, all_out, out=np.zeros_like(export), where=all_out > 1e-12)
    return EnergyTotals(
        import_kwh=float(np.sum(np.maximum(trace.grid_kw, 0) * dt)),
        export_kwh=float(np.sum(export * dt)),
        pv_kwh=float(np.sum(trace.pv_used_kw * dt)),
        curtailed_kwh=float(np.sum((trace.pv_kw - trace.pv_used_kw) * dt)),
        load_kwh=float(np.sum(trace.load_kw * dt)),
        unserved_kwh=float(np.sum(trace.unserved_kw * dt)),
        losses_kwh=sum(float(s.losses_kwh.sum()) for s in trace.storages),
        stored_delta_kwh=sum(float(s.soc_kwh[-1] - s.soc_kwh[0]) for s in trace.storages),
        driving_kwh=sum(float(s.driving_kwh.sum()) for s in trace.storages),
        away_charging_kwh=sum(float(s.away_charging_kwh.sum()) for s in trace.storages),
        vehicle_discharged_kwh=discharged,
        vehicle_to_grid_kwh=float(np.sum(from_storage * share * dt)),
    )


def ageing_cost(trace: SimTrace, params: list[StorageParams]) -> float:
    """The planner's wear prices, calibrated on the cell models (``battery/calibrate.py``),
    applied to what the strategy did [currency], scaled by the household's battery care as
    the planner weighs it."""
    dt = trace.grid.dt_h
    total = 0.0
    for s, p in zip(trace.storages, params, strict=True):
        out_dc = np.maximum(-s.power_kw, 0) / p.eta
        total += p.wear.throughput_per_kwh * float(np.sum(out_dc * dt))
        above = np.maximum(s.soc_kwh[1:] - p.wear.calendar_threshold_kwh, 0)
        total += p.wear.calendar_per_kwh_h * float(np.sum(above * dt))
    return total


def stored_value(world: World, trace: SimTrace) -> tuple[float, float]:
    """(value [currency], its price [currency/kWh]) of the energy left stored at the end of the
    period beyond what was stored at its start.

    A finite period cuts every strategy's story short: energy bought or kept from PV in its last
    hours is on the bill while its later use is not. It is valued as the planner values energy
    left at a horizon's end (``planner.model.terminal_value``): the cheapest import price of the
    last day, a kWh kept saving at least that later. Every strategy starts from the same state,
    so this puts them on one footing.
    """
    n = trace.grid.n
    day = max(1, round(24.0 / float(np.mean(trace.grid.dt_h))))
    price = max(0.0, float(np.min(world.price_import[max(0, n - day) : n])))
    delta = sum(float(s.soc_kwh[-1] - s.soc_kwh[0]) for s in trace.storages)
    return delta * price, price


def backup_hours(trace: SimTrace, params: list[StorageParams], essential_kw: float) -> FloatArray:
    """Hours the essential circuits (at their typical draw ``essential_kw`` [kW]) could run at
    each step from the storages at home, counting only energy above each one's reserve (no PV
    credited) [h]."""
    if essential_kw <= 0:
        return np.zeros(trace.grid.n)
    energy = np.zeros(trace.grid.n)
    for s, p in zip(trace.storages, params, strict=True):
        above = np.maximum(s.soc_kwh[1:] - p.reserve_kwh, 0) * p.eta
        energy += np.where(s.plugged_in, above, 0.0)
    return energy / essential_kw


def self_use_pct(trace: SimTrace) -> float:
    """Share of the PV used on site [%], from the flows of each step.

    PV serves the house first; export counts as PV only up to the PV left after the house at
    that step, the rest of it came from the storages. (Counting all export as PV, the figure
    was 0 % whenever a car exported more than the PV over the period.)
    """
    dt = trace.grid.dt_h
    pv = float(np.sum(trace.pv_used_kw * dt))
    if pv <= 0:
        return 0.0
    export = np.maximum(-trace.grid_kw, 0.0)
    pv_exported = np.minimum(export, np.maximum(trace.pv_used_kw - trace.load_kw, 0.0))
    return 100.0 * (pv - float(np.sum(pv_exported * dt))) / pv


def monthly_bills(world: World, trace: SimTrace) -> dict[str, float]:
    """Grid bill per calendar month (local time) [currency]."""
    tariff = world.site.tariff.with_timezone(world.site.location.timezone)
    months: dict[str, float] = {}
    edges = trace.grid.edges_s
    local = pd.to_datetime(edges[:-1], unit="s", utc=True).tz_convert(world.site.location.timezone)
    stamps = np.asarray(local.tz_localize(None), dtype="datetime64[M]")
    for month in np.unique(stamps):
        idx = np.flatnonzero(stamps == month)
        grid = TimeGrid(edges[idx[0] : idx[-1] + 2])
        months[str(month)] = bill(tariff, grid, trace.grid_kw[idx[0] : idx[-1] + 1]).total
    return months


def essential_unserved_kw(trace: SimTrace) -> tuple[FloatArray, FloatArray]:
    """Per step: (essential load not served, including essential circuits the controller shed;
    all demand not served, including every shed circuit) [kW].

    Load left unserved with the circuits still on is split between essential and other circuits
    in proportion to the demand still connected (a house without shedding goes dark as a whole).
    """
    dt = trace.grid.dt_h
    shed = trace.shed_kw if trace.shed_kw is not None else np.zeros_like(dt)
    demand = trace.demand_kw if trace.demand_kw is not None else trace.load_kw + trace.unserved_kw
    essential = trace.essential_kw if trace.essential_kw is not None else np.zeros_like(dt)
    connected = np.maximum(demand - shed, 0.0)
    ess_connected = np.minimum(essential, connected)
    share = np.divide(ess_connected, connected, out=np.zeros_like(dt), where=connected > 1e-12)
    ess_shed = np.maximum(essential - ess_connected, 0.0)
    return trace.unserved_kw * share + ess_shed, trace.unserved_kw + shed


def outage_figures(trace: SimTrace, outages: int) -> dict[str, float]:
    """What the household got during outages [kWh, h]: the house off the grid (the outage and,
    with the controller, its enter-service wait), essential load served and unserved (shed
    essential circuits included), all load unserved (shed circuits included), load shed by
    opening circuits, and anything exported while off the grid (must be 0)."""
    dt = trace.grid.dt_h
    off = ~(trace.on_grid if trace.on_grid is not None else trace.grid_up).astype(bool)
    off |= ~trace.grid_up.astype(bool)
    shed = trace.shed_kw if trace.shed_kw is not None else np.zeros_like(dt)
    essential = trace.essential_kw if trace.essential_kw is not None else np.zeros_like(dt)
    ess_unserved, all_unserved = essential_unserved_kw(trace)
    return {
        "count": outages,
        "islanded_hours": float(dt[off].sum()),
        "essential_served_kwh": float(((essential - ess_unserved) * dt)[off].sum()),
        "essential_unserved_kwh": float((ess_unserved * dt)[off].sum()),
        "unserved_kwh": float((all_unserved * dt)[off].sum()),
        "shed_kwh": float((shed * dt)[off].sum()),
        "exported_during_outage_kwh": float((np.maximum(-trace.grid_kw, 0.0) * dt)[off].sum()),
    }


BACKUP_BASIS = "stored energy above the reserves of the storages at home; PV not counted"
"""What ``backup_hours_*`` count, written into the JSON beside them."""


def summarise(world: World, trace: SimTrace, params: list[StorageParams]) -> dict[str, Any]:
    """The per-strategy figures of `voltbridge simulate --json`."""
    e = energy_totals(trace)
    tariff = world.site.tariff.with_timezone(world.site.location.timezone)
    grid_bill = bill(tariff, trace.grid, trace.grid_kw)
    away_cost = e.away_charging_kwh * world.site.preferences.public_charging_per_kwh
    vehicles = [(s, p) for s, p in zip(trace.storages, params, strict=True) if s.kind == "vehicle"]
    efc = sum(
        float(np.sum(np.maximum(-s.power_kw, 0) * trace.grid.dt_h)) / p.eta / p.capacity_kwh
        for s, p in vehicles
    )
    fades = [s.capacity_fade_pct for s, _ in vehicles]
    hours = backup_hours(trace, params, world.site.essential_kw)
    self_consumption = self_use_pct(trace)
    ess_unserved, all_unserved = essential_unserved_kw(trace)
    shed = trace.shed_kw if trace.shed_kw is not None else np.zeros(trace.grid.n)
    shed_kwh = float(np.sum(shed * trace.grid.dt_h))
    left_value, left_price = stored_value(world, trace)
    wear = ageing_cost(trace, params)
    return {
        "net_cost": grid_bill.total + away_cost + wear - left_value,
        "stored_value": left_value,
        "stored_value_price": left_price,
        "bill": grid_bill.total + away_cost,
        "grid_bill": grid_bill.total,
        "away_charging_cost": away_cost,
        "ageing_cost": wear,
        "import_kwh": e.import_kwh,
        "export_kwh": e.export_kwh,
        "pv_kwh": e.pv_kwh,
        "curtailed_kwh": e.curtailed_kwh,
        "load_kwh": e.load_kwh,
        "unserved_kwh": float(np.sum(all_unserved * trace.grid.dt_h)),
        "unserved_essential_kwh": float(np.sum(ess_unserved * trace.grid.dt_h)),
        "shed_kwh": shed_kwh,
        "losses_kwh": e.losses_kwh,
        "stored_delta_kwh": e.stored_delta_kwh,
        "driving_kwh": e.driving_kwh,
        "away_charging_kwh": e.away_charging_kwh,
        "vehicle_discharged_kwh": e.vehicle_discharged_kwh,
        "vehicle_to_house_kwh": e.vehicle_discharged_kwh - e.vehicle_to_grid_kwh,
        "vehicle_to_grid_kwh": e.vehicle_to_grid_kwh,
        "unmet_driving_kwh": e.away_charging_kwh,
        "equivalent_full_cycles": efc,
        "capacity_fade_pct": max(fades) if fades else 0.0,
        "self_consumption_pct": self_consumption,
        "backup_hours_median": float(np.median(hours)) if hours.size else 0.0,
        "backup_hours_p5": float(np.percentile(hours, 5)) if hours.size else 0.0,
        "backup_hours_basis": BACKUP_BASIS,
        "balance_error_kwh": e.balance_error_kwh,
        "monthly_bill": monthly_bills(world, trace),
        **({"outages": outage_figures(trace, len(world.outages))} if world.outages else {}),
    }
