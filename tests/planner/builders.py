"""Small constructors for hand-written plan requests: every array is spelled out by the test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from voltbridge.battery.cost import WearCost
from voltbridge.core.timegrid import TimeGrid
from voltbridge.planner.request import DemandCharge, Departure, Penalties, PlanRequest, StorageSpec

FloatArray = npt.NDArray[np.float64]
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
NO_WEAR = WearCost(0.0, 0.0, 0.0)


def hourly(hours: int, step_minutes: int = 60, start: datetime = MONDAY) -> TimeGrid:
    """A regular grid of ``hours`` from ``start``."""
    return TimeGrid.regular(start, hours, step_minutes)


def arr(values: Sequence[float] | FloatArray | float, n: int) -> FloatArray:
    """A float array of length ``n`` from a scalar or a sequence of that length."""
    out = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).copy()
    return out


def car(
    grid: TimeGrid,
    *,
    name: str = "ev",
    capacity_kwh: float = 60.0,
    soc0_kwh: float = 30.0,
    plugged: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
    charge_kw: float = 7.0,
    discharge_kw: float = 0.0,
    eta: tuple[float, float] = (0.9, 0.9),
    reserve_kwh: float = 0.0,
    max_soc_kwh: float | None = None,
    driving_kwh: Sequence[float] | FloatArray | None = None,
    departures: Sequence[tuple[int, float]] = (),
    can_export: bool = False,
    wear: WearCost = NO_WEAR,
    discharge_budget_kwh: float | None = None,
    kind: str = "vehicle",
) -> StorageSpec:
    """A car (or, with ``kind="battery"``, a battery); limits are zero while unplugged.

    ``departures`` are ``(edge, target_kwh)`` pairs; the reserve and backup count hold at the
    edges next to a plugged-in step.
    """
    n = grid.n
    mask = np.ones(n, dtype=bool) if plugged is None else np.asarray(plugged, dtype=bool)
    at_home = np.concatenate((mask[:1], mask))
    starts = grid.edges_s
    return StorageSpec(
        name=name,
        kind=kind,
        capacity_kwh=capacity_kwh,
        soc0_kwh=soc0_kwh,
        eta_charge=eta[0],
        eta_discharge=eta[1],
        max_charge_kw=np.where(mask, charge_kw, 0.0),
        max_discharge_kw=np.where(mask, discharge_kw, 0.0),
        reserve_kwh=np.where(at_home, reserve_kwh, 0.0),
        max_soc_kwh=capacity_kwh if max_soc_kwh is None else max_soc_kwh,
        driving_kwh=np.zeros(n) if driving_kwh is None else arr(driving_kwh, n),
        departures=tuple(
            Departure(edge=e, target_kwh=t, at=datetime.fromtimestamp(int(starts[e]), UTC))
            for e, t in departures
        ),
        can_export=can_export,
        wear=wear,
        discharge_budget_kwh=discharge_budget_kwh,
        backup_counts=(at_home & (discharge_kw > 0)).astype(np.float64),
    )


def battery(
    grid: TimeGrid,
    *,
    capacity_kwh: float = 10.0,
    soc0_kwh: float = 5.0,
    power_kw: float = 5.0,
    eta: tuple[float, float] = (0.95, 0.95),
    reserve_kwh: float = 0.0,
    can_export: bool = False,
    wear: WearCost = NO_WEAR,
    discharge_budget_kwh: float | None = None,
) -> StorageSpec:
    """A home battery, always connected."""
    n = grid.n
    return StorageSpec(
        name="battery",
        kind="battery",
        capacity_kwh=capacity_kwh,
        soc0_kwh=soc0_kwh,
        eta_charge=eta[0],
        eta_discharge=eta[1],
        max_charge_kw=np.full(n, power_kw),
        max_discharge_kw=np.full(n, power_kw),
        reserve_kwh=np.full(n + 1, reserve_kwh),
        max_soc_kwh=capacity_kwh,
        driving_kwh=np.zeros(n),
        can_export=can_export,
        wear=wear,
        discharge_budget_kwh=discharge_budget_kwh,
    )


def request(
    grid: TimeGrid,
    storages: Sequence[StorageSpec],
    *,
    load_kw: Sequence[float] | FloatArray | float = 0.0,
    pv_kw: Sequence[float] | FloatArray | float = 0.0,
    price_import: Sequence[float] | FloatArray | float = 0.2,
    price_export: Sequence[float] | FloatArray | float = 0.0,
    import_limit_kw: float = 50.0,
    export_limit_kw: float = 0.0,
    pv_export: bool = False,
    backup_kwh: float | None = None,
    demand_charges: Sequence[DemandCharge] = (),
    terminal_value_per_kwh: float | None = None,
    penalties: Penalties | None = None,
) -> PlanRequest:
    """A plan request with scalars broadcast to the grid."""
    n = grid.n
    return PlanRequest(
        grid=grid,
        load_kw=arr(load_kw, n),
        pv_kw=arr(pv_kw, n),
        price_import=arr(price_import, n),
        price_export=arr(price_export, n),
        import_limit_kw=import_limit_kw,
        export_limit_kw=export_limit_kw,
        pv_export=pv_export,
        storages=tuple(storages),
        backup_kwh=None if backup_kwh is None else np.full(n + 1, backup_kwh),
        demand_charges=tuple(demand_charges),
        terminal_value_per_kwh=terminal_value_per_kwh,
        penalties=Penalties() if penalties is None else penalties,
    )
