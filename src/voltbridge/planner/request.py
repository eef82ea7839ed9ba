"""What the planner is asked: the forecast, prices, limits and every storage, as arrays on one grid."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from voltbridge.battery.cost import WearCost
from voltbridge.core.timegrid import FloatArray, TimeGrid


@dataclass(frozen=True)
class Departure:
    """A trip start within the horizon.

    Attributes:
        edge: index of the grid edge at (or just before) the departure.
        target_kwh: stored energy wanted at that edge [kWh].
        at: the departure time (UTC), for messages.
    """

    edge: int
    target_kwh: float
    at: datetime


@dataclass(frozen=True)
class BudgetWindow:
    """A discharge allowance over a span of steps: one local day of a car's warranty budget.

    The controller holds a car to what is left of its budget each local day
    (``control/budget.py``); a plan that spends two days' allowance in one evening is trimmed
    at home, and the house imports what the plan meant the car to give. One window a day lets
    the plan spend each day's allowance where it is worth most.

    Attributes:
        first: first step of the window.
        stop: one past its last step.
        stored_kwh: stored energy the storage may give in the window [kWh] (it delivers
            ``stored_kwh * eta_discharge`` as AC).
        at: the window's start (UTC), for messages.
    """

    first: int
    stop: int
    stored_kwh: float
    at: datetime


@dataclass(frozen=True)
class StorageSpec:
    """One car or the home battery, with every limit resolved to arrays on the grid.

    Attributes:
        name: the vehicle's name from the site file, or ``"battery"``.
        kind: ``"vehicle"`` or ``"battery"``.
        capacity_kwh: usable capacity [kWh] (hard upper bound of the state of charge).
        soc0_kwh: stored energy at the start of the horizon [kWh].
        eta_charge: AC-to-stored efficiency [-].
        eta_discharge: stored-to-AC efficiency [-].
        max_charge_kw: AC charge limit per step [kW]; 0 while unplugged.
        max_discharge_kw: AC discharge limit per step [kW]; 0 while unplugged or not allowed.
        reserve_kwh: soft lower bound at each edge [kWh], length n + 1 (mobility reserve,
            discharge floor, battery minimum); below it the planner charges back first.
        max_soc_kwh: hard upper bound of the state of charge [kWh].
        driving_kwh: energy used driving per step [kWh].
        departures: trip starts with their targets.
        can_export: whether energy from this storage may be exported (V2G for a car).
        wear: linear wear prices.
        discharge_budget_kwh: AC energy this storage may discharge over the horizon [kWh]
            (a warranty budget share), or None for no budget.
        budget_windows: discharge allowances per span of steps (per local day), each on top of
            ``discharge_budget_kwh``.
        backup_counts: whether this storage's energy counts toward the backup reserve at each
            edge (a car only while plugged in), length n + 1. Only energy above the storage's
            reserve counts: a car below its mobility reserve adds nothing (and takes nothing away).
    """

    name: str
    kind: str
    capacity_kwh: float
    soc0_kwh: float
    eta_charge: float
    eta_discharge: float
    max_charge_kw: FloatArray
    max_discharge_kw: FloatArray
    reserve_kwh: FloatArray
    max_soc_kwh: float
    driving_kwh: FloatArray
    departures: tuple[Departure, ...] = ()
    can_export: bool = False
    wear: WearCost = field(default_factory=lambda: WearCost(0.0, 0.0, 0.0))
    discharge_budget_kwh: float | None = None
    budget_windows: tuple[BudgetWindow, ...] = ()
    backup_counts: FloatArray | None = None

    @property
    def plugged_in(self) -> np.ndarray:
        """Whether the storage can exchange power in each step."""
        return (self.max_charge_kw > 0) | (self.max_discharge_kw > 0)


@dataclass(frozen=True)
class DemandCharge:
    """A demand charge: ``rate_per_kw`` times the highest import [kW] over the steps in ``mask``."""

    mask: np.ndarray
    rate_per_kw: float
    label: str = "demand"
    already_kw: float = 0.0
    """Peak already reached earlier in the billing period [kW]; only import above it costs."""


@dataclass(frozen=True)
class Penalties:
    """Prices of broken soft limits [currency/kWh], or per kWh·h for reserves held short.

    Defaults are multiples of the largest price in the horizon (at least 1 per kWh), so that a
    request that can be met is always met, whatever the currency.
    """

    unserved_load: float = 200.0
    unmet_driving: float = 50.0
    departure: float = 20.0
    mobility_reserve: float = 10.0
    backup_reserve: float = 4.0
    discharge_budget: float = 3.0


@dataclass(frozen=True)
class PlanRequest:
    """Everything the planner needs, on one time grid.

    Attributes:
        grid: the time grid.
        load_kw: household load [kW] per step.
        pv_kw: PV power available [kW] per step (AC).
        price_import: [currency/kWh] per step.
        price_export: [currency/kWh] per step.
        import_limit_kw: grid import limit [kW] (connection and main breaker).
        export_limit_kw: grid export limit [kW]; 0 with export policy ``none``.
        pv_export: whether PV may be exported (policies ``pv-only`` and ``any``).
        storages: cars and home battery.
        backup_kwh: energy to keep for backup at each edge [kWh], length n + 1, counted over the
            storages whose ``backup_counts`` is set.
        demand_charges: demand charges that apply in the horizon.
        terminal_value_per_kwh: value of each kWh stored at the horizon's end [currency/kWh];
            None uses the mean import price of the last 24 h times round-trip efficiency.
        penalties: prices of slack.
        notes: sentences about the inputs (assumed figures, fallback prices) that the plan's
            warnings start with.
    """

    grid: TimeGrid
    load_kw: FloatArray
    pv_kw: FloatArray
    price_import: FloatArray
    price_export: FloatArray
    import_limit_kw: float
    export_limit_kw: float
    pv_export: bool
    storages: tuple[StorageSpec, ...]
    backup_kwh: FloatArray | None = None
    demand_charges: tuple[DemandCharge, ...] = ()
    terminal_value_per_kwh: float | None = None
    penalties: Penalties = field(default_factory=Penalties)
    notes: tuple[str, ...] = ()

    def validate(self) -> None:
        """Raise ValueError naming the array whose shape or values are wrong."""
        n = self.grid.n
        for name in ("load_kw", "pv_kw", "price_import", "price_export"):
            arr = getattr(self, name)
            if np.shape(arr) != (n,):
                raise ValueError(f"{name} has shape {np.shape(arr)}, expected ({n},)")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} has values that are not finite numbers")
        if np.any(self.load_kw < 0) or np.any(self.pv_kw < 0):
            raise ValueError("load_kw and pv_kw must be >= 0")
        if self.import_limit_kw < 0 or self.export_limit_kw < 0:
            raise ValueError("grid limits must be >= 0")
        names = [s.name for s in self.storages]
        if len(set(names)) != len(names):
            raise ValueError(f"storage names must be unique, got {names}")
        for s in self.storages:
            for name, size in (
                ("max_charge_kw", n),
                ("max_discharge_kw", n),
                ("driving_kwh", n),
                ("reserve_kwh", n + 1),
            ):
                arr = getattr(s, name)
                if np.shape(arr) != (size,):
                    raise ValueError(
                        f"{s.name}.{name} has shape {np.shape(arr)}, expected ({size},)"
                    )
            for name in ("max_charge_kw", "max_discharge_kw", "driving_kwh", "reserve_kwh"):
                arr = getattr(s, name)
                if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                    raise ValueError(f"{s.name}.{name} must be finite and >= 0")
            if not (0 <= s.soc0_kwh <= s.capacity_kwh):
                raise ValueError(
                    f"{s.name}.soc0_kwh is {s.soc0_kwh:g}; it must lie in [0, capacity_kwh "
                    f"= {s.capacity_kwh:g}]"
                )
            if not 0 < s.max_soc_kwh <= s.capacity_kwh:
                raise ValueError(f"{s.name}.max_soc_kwh must lie in (0, capacity_kwh]")
            if not (0 < s.eta_charge <= 1 and 0 < s.eta_discharge <= 1):
                raise ValueError(f"{s.name}: efficiencies must be in (0, 1]")
            if s.capacity_kwh <= 0:
                raise ValueError(f"{s.name}: capacity_kwh must be positive")
            for w in s.budget_windows:
                if not (0 <= w.first < w.stop <= n):
                    raise ValueError(
                        f"{s.name}: budget window {w.first}..{w.stop} outside the grid 0..{n}"
                    )
                if not (math.isfinite(w.stored_kwh) and w.stored_kwh >= 0):
                    raise ValueError(f"{s.name}: a budget window's stored_kwh must be >= 0")
            for d in s.departures:
                if not 0 <= d.edge <= n:
                    raise ValueError(f"{s.name}: departure edge {d.edge} outside 0..{n}")
