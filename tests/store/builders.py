"""Statuses and stores for the store's tests, with every value given by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import BatteryStatus, ControlStatus, Mode, PowerFlows, VehicleStatus
from voltbridge.core.types import GridState
from voltbridge.store import Retention, Store

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
"""A Monday, midnight UTC: on every bucket boundary."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status(
    t: datetime,
    *,
    grid_kw: float = 0.0,
    pv_kw: float = 0.0,
    load_kw: float = 0.0,
    battery_kw: float | None = None,
    battery_soc_kwh: float | None = None,
    cars: dict[str, tuple[bool, float, float | None]] | None = None,
    grid_state: GridState = GridState.ON_GRID,
    price_import: float | None = None,
    price_export: float | None = None,
    baseline_grid_kw: float = 0.0,
) -> ControlStatus:
    """A status; ``cars`` maps name -> (plugged_in, power [kW], soc [kWh])."""
    cars = cars or {}
    return ControlStatus(
        at=t,
        grid_state=grid_state,
        mode=Mode.AUTO,
        v2g_allowed=True,
        power=PowerFlows(
            grid_kw=grid_kw,
            pv_kw=pv_kw,
            load_kw=load_kw,
            battery_kw=battery_kw or 0.0,
            vehicles_kw={name: kw for name, (_, kw, _) in cars.items()},
        ),
        backup_hours=0.0,
        vehicles={
            name: VehicleStatus(
                name=name, plugged_in=plugged, soc_kwh=soc, capacity_kwh=80.0, power_kw=kw
            )
            for name, (plugged, kw, soc) in cars.items()
        },
        battery=None
        if battery_kw is None
        else BatteryStatus(soc_kwh=battery_soc_kwh, capacity_kwh=13.5, power_kw=battery_kw),
        price_import=price_import,
        price_export=price_export,
        baseline_grid_kw=baseline_grid_kw,
    )


def open_store(
    path: Path, clock: VirtualClock | None = None, **kwargs: Any
) -> tuple[Store, VirtualClock]:
    """A store on ``path`` with a virtual clock at T0 and nothing pruned unless asked."""
    clock = clock or VirtualClock(T0)
    kwargs.setdefault("retention", Retention(None, None, None, None, None))
    return Store(path, clock, **kwargs), clock
