"""The few values of a status that energy and money are integrated from, built from a live status or a stored one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voltbridge.core.status import ControlStatus
from voltbridge.store.codec import to_ms


@dataclass(frozen=True)
class VehicleSample:
    """One car at one instant: plugged in or not, AC power [kW] (+ charging, - discharging)."""

    plugged_in: bool
    power_kw: float | None


@dataclass(frozen=True)
class Sample:
    """What holds from ``at_ms`` until the next status (a zero-order hold).

    Attributes:
        at_ms: time of the status [ms since 1970 UTC].
        grid_kw: grid power [kW], + import, - export; None when unknown (nothing is counted).
        price_import: import price [currency/kWh], None when unknown.
        price_export: export price [currency/kWh], None when unknown.
        baseline_grid_kw: grid power of the uncontrolled baseline [kW].
        baseline_cost_per_h: the baseline's like-with-like cost rate [currency/h] (see
            ``voltbridge.control.baseline``); None: ``baseline_grid_kw`` at the prices.
        vehicles: per car.
    """

    at_ms: int
    grid_kw: float | None
    price_import: float | None
    price_export: float | None
    baseline_grid_kw: float
    vehicles: Mapping[str, VehicleSample] = field(default_factory=dict)
    baseline_cost_per_h: float | None = None


def vehicle_power_kw(status: ControlStatus, name: str) -> float | None:
    """A car's AC power [kW]: the measured flow when given, else its own status's reading;
    None when unknown."""
    if name in status.power.vehicles_kw:
        kw = status.power.vehicles_kw[name]
    else:
        vehicle = status.vehicles.get(name)
        kw = 0.0 if vehicle is None else vehicle.power_kw
    return None if kw is None else float(kw)


def sample_from_status(status: ControlStatus) -> Sample:
    """The sample of a live status."""
    return Sample(
        at_ms=to_ms(status.at),
        grid_kw=_optional_float(status.power.grid_kw),
        price_import=status.price_import,
        price_export=status.price_export,
        baseline_grid_kw=float(status.baseline_grid_kw),
        baseline_cost_per_h=_optional_float(status.baseline_cost_per_h),
        vehicles={
            name: VehicleSample(bool(v.plugged_in), vehicle_power_kw(status, name))
            for name, v in status.vehicles.items()
        },
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def sample_from_dict(status: Mapping[str, Any]) -> Sample | None:
    """The sample of a stored status (``ControlStatus.to_dict()``); None when it cannot be read."""
    try:
        power = status["power_kw"]
        flows = power.get("vehicles", {})
        return Sample(
            at_ms=to_ms(datetime.fromisoformat(status["at"])),
            grid_kw=_optional_float(power["grid"]),
            price_import=_optional_float(status.get("price_import")),
            price_export=_optional_float(status.get("price_export")),
            baseline_grid_kw=float(status.get("baseline_grid_kw", 0.0)),
            baseline_cost_per_h=_optional_float(status.get("baseline_cost_per_h")),
            vehicles={
                name: VehicleSample(
                    bool(v["plugged_in"]), _optional_float(flows.get(name, v.get("power_kw", 0.0)))
                )
                for name, v in status.get("vehicles", {}).items()
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
