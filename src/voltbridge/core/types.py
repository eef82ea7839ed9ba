"""Value types shared across rooms: the plan, measurements, commands and the grid state.

Signs follow ARCHITECTURE.md: power is positive into a device from the home's AC bus (a charging
car is positive, a discharging one negative), grid power is positive for import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid


class GridState(StrEnum):
    """State of the home's grid connection."""

    ON_GRID = "on_grid"
    ISLANDED = "islanded"
    RESTORING = "restoring"
    UNKNOWN = "unknown"
    """Shown only: no fresh grid data, so whether the grid is there cannot be told (the
    controller then refuses every storage command; it never decides on this state)."""


@dataclass(frozen=True)
class StoragePlan:
    """What the plan does with one storage (a car or the home battery).

    Attributes:
        name: the vehicle's name from the site file, or ``"battery"``.
        kind: ``"vehicle"`` or ``"battery"``.
        power_kw: AC power per step [kW], positive charging, negative discharging.
        soc_kwh: stored energy at each step edge [kWh], length ``n + 1``.
        plugged_in: whether the car is connected in each step (always true for a battery).
        driving_kwh: energy used driving in each step [kWh].
        capacity_kwh: usable capacity [kWh].
        reserve_kwh: the soft lower bound at each edge [kWh] (mobility, backup, discharge floor).
    """

    name: str
    kind: str
    power_kw: FloatArray
    soc_kwh: FloatArray
    plugged_in: np.ndarray
    driving_kwh: FloatArray
    capacity_kwh: float
    reserve_kwh: FloatArray


@dataclass(frozen=True)
class PlanCost:
    """Objective terms [currency]; ``total`` is what the planner minimised, terminal value excluded."""

    total: float
    import_cost: float
    export_revenue: float
    degradation: float
    demand_charge: float
    penalties: float
    terminal_value: float

    @property
    def bill(self) -> float:
        """The money the plan expects to pay over its horizon [currency]: imports less export
        revenue plus demand charges. Never the penalties (prices of targets the plan cannot
        meet, which nobody pays) nor the wear (a cost of the batteries, not a bill)."""
        return self.import_cost - self.export_revenue + self.demand_charge


@dataclass(frozen=True)
class Plan:
    """A schedule for every storage on a time grid, with the forecast it was made for.

    Attributes:
        grid: the time grid.
        price_import: import price per step [currency/kWh].
        price_export: export price per step [currency/kWh].
        load_kw: household load forecast [kW].
        pv_kw: PV available [kW].
        pv_used_kw: PV used after curtailment [kW].
        grid_kw: grid power [kW], positive import, negative export.
        unserved_kw: load the plan could not supply [kW] (zero unless the site is short of power).
        storages: one entry per car and home battery.
        cost: the objective's terms.
        warnings: what the plan could not honour, in words a household understands.
        solve_ms: build and solve time [ms].
        slack: named slack totals [kWh], e.g. ``"departure:ev9"``.
    """

    grid: TimeGrid
    price_import: FloatArray
    price_export: FloatArray
    load_kw: FloatArray
    pv_kw: FloatArray
    pv_used_kw: FloatArray
    grid_kw: FloatArray
    unserved_kw: FloatArray
    storages: tuple[StoragePlan, ...]
    cost: PlanCost
    warnings: tuple[str, ...] = ()
    solve_ms: float = 0.0
    slack: dict[str, float] = field(default_factory=dict)
    created: datetime | None = None

    def storage(self, name: str) -> StoragePlan:
        for s in self.storages:
            if s.name == name:
                return s
        raise KeyError(f"no storage named {name!r} in this plan")


@dataclass(frozen=True)
class Measurement:
    """One reading from a device; ``power_kw`` follows the sign convention above."""

    device: str
    at: datetime
    power_kw: float | None = None
    energy_kwh: float | None = None
    soc_kwh: float | None = None
    voltage_v: float | None = None
    frequency_hz: float | None = None


@dataclass(frozen=True)
class Command:
    """A power setpoint for one device [kW], positive charging, negative discharging."""

    device: str
    at: datetime
    power_kw: float
    reason: str = ""
