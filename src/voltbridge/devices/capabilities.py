"""Tiny device capability protocols, one per thing a device can do, discovered at runtime.

Each capability has its own method names, so one object (a hybrid inverter with a meter, PV and a
battery) can offer several capabilities and ``capabilities_of`` can tell them apart. Signs follow
ARCHITECTURE.md: power [kW] is positive into a device from the home's AC bus, grid power is
positive for import, PV power is positive.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from voltbridge.core.types import Measurement


class DeviceError(Exception):
    """A device refused a request or answered with data voltbridge cannot use: a fault of that
    device (retry later, or a person fixes the device), as opposed to a bug in voltbridge.
    ``TimeoutError``, ``ConnectionError`` and ``OSError`` count as device errors too."""


DEVICE_ERRORS: tuple[type[BaseException], ...] = (
    DeviceError,
    TimeoutError,
    ConnectionError,
    OSError,
)
"""What a driver raises when its device (not voltbridge) is at fault."""


@runtime_checkable
class Meter(Protocol):
    """The grid connection point's meter."""

    async def read_grid(self) -> Measurement:
        """Grid power ``power_kw`` [kW] (+ import, - export), ``voltage_v`` [V], ``frequency_hz`` [Hz]."""
        ...


@runtime_checkable
class LoadMeter(Protocol):
    """A meter on the house side (a current transformer on the panel): the house's own demand."""

    async def read_load(self) -> Measurement:
        """House consumption ``power_kw`` [kW], >= 0, chargers and battery excluded, on grid or islanded."""
        ...


@runtime_checkable
class GridSensor(Protocol):
    """Tells whether the utility grid is present."""

    async def grid_ok(self) -> bool:
        """True while the grid is present within its voltage [V] and frequency [Hz] window."""
        ...


@runtime_checkable
class PvInverter(Protocol):
    """A PV inverter."""

    async def read_pv(self) -> Measurement:
        """PV output ``power_kw`` [kW], >= 0 (generation is positive)."""
        ...


@runtime_checkable
class Charger(Protocol):
    """A bidirectional charger with the car behind it."""

    async def read_charger(self) -> Measurement:
        """AC power ``power_kw`` [kW] (+ charging, - discharging) and the car's ``soc_kwh`` [kWh]."""
        ...

    async def plugged_in(self) -> bool:
        """True while a car is connected."""
        ...

    async def set_charge_power(self, kw: float) -> None:
        """Signed AC setpoint [kW]: + charging, - discharging (OCPP 2.1 ``CentralSetpoint``)."""
        ...

    async def safe_default(self) -> None:
        """Fall back to the safe default: setpoint 0 kW (what a charger does on lost control)."""
        ...


@runtime_checkable
class Battery(Protocol):
    """A stationary home battery."""

    async def read_battery(self) -> Measurement:
        """AC power ``power_kw`` [kW] (+ charging, - discharging) and ``soc_kwh`` [kWh]."""
        ...

    async def set_battery_power(self, kw: float) -> None:
        """Signed AC setpoint [kW]: + charging, - discharging; 0 is the safe default."""
        ...


@runtime_checkable
class CircuitRelay(Protocol):
    """Relays on the panel's circuits, for load shedding."""

    async def set_circuit(self, circuit: str, on: bool) -> None:
        """Close (``on``) or open one circuit's relay; an unknown circuit is a ``KeyError``."""
        ...

    async def circuit_states(self) -> dict[str, bool]:
        """Each circuit's relay state, True when closed (powered)."""
        ...


@runtime_checkable
class TransferSwitch(Protocol):
    """The switch that separates the home from the grid for islanded (backup) operation."""

    async def set_transfer(self, grid_connected: bool) -> None:
        """Close (``True``: home on the grid) or open (``False``: home islanded) the switch."""
        ...

    async def transfer_closed(self) -> bool:
        """True while the home is connected to the grid through the switch."""
        ...


@runtime_checkable
class BackupCapable(Protocol):
    """A charger or battery that can form the home's grid while islanded (backup operation)."""

    async def set_backup_mode(self, on: bool) -> None:
        """Enter (``on``) or leave grid-forming backup operation."""
        ...

    async def backup_mode(self) -> bool:
        """Whether it is in grid-forming backup operation now (read back after a restart)."""
        ...


CAPABILITIES: dict[str, type] = {
    "meter": Meter,
    "grid_sensor": GridSensor,
    "load_meter": LoadMeter,
    "pv_inverter": PvInverter,
    "charger": Charger,
    "battery": Battery,
    "circuit_relay": CircuitRelay,
    "transfer_switch": TransferSwitch,
    "backup": BackupCapable,
}
"""Capability name → protocol, in the order ``capabilities_of`` checks them."""


def capabilities_of(device: object) -> set[str]:
    """Names (keys of ``CAPABILITIES``) of the capabilities ``device`` offers.

    Structural: a device offers a capability when it has all of the protocol's methods.
    """
    return {name for name, proto in CAPABILITIES.items() if isinstance(device, proto)}
