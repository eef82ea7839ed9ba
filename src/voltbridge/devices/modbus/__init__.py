"""SunSpec meters, PV inverters and home batteries, and panel relays, over Modbus TCP; plus a
pymodbus server that serves a ``SimulatedHome`` as those devices."""

from __future__ import annotations

from voltbridge.devices.modbus.config import (
    BatteryConfig,
    InverterConfig,
    MeterConfig,
    ModbusConfig,
    RelayConfig,
    SunSpecConfig,
)
from voltbridge.devices.modbus.drivers import (
    ModbusCircuitRelay,
    ModbusPanelRelay,
    SunSpecBattery,
    SunSpecMeter,
    SunSpecPvInverter,
    build_battery,
    build_inverter,
    build_meter,
    build_relay,
)
from voltbridge.devices.modbus.errors import (
    DeviceDataError,
    DeviceRefusedError,
    DiscoveryError,
    StaleDataError,
)
from voltbridge.devices.modbus.server import SunSpecServer
from voltbridge.devices.registry import DriverRegistry

DRIVERS = ("sunspec-meter", "sunspec-inverter", "sunspec-battery", "modbus-relay")
"""The driver names ``register_modbus`` adds."""


def register_modbus(registry: DriverRegistry) -> None:
    """Add the Modbus drivers to ``registry``: ``sunspec-meter`` (MeterConfig),
    ``sunspec-inverter`` (InverterConfig), ``sunspec-battery`` (BatteryConfig) and
    ``modbus-relay`` (RelayConfig). A name already registered is a ValueError."""
    registry.add("sunspec-meter", MeterConfig, build_meter)
    registry.add("sunspec-inverter", InverterConfig, build_inverter)
    registry.add("sunspec-battery", BatteryConfig, build_battery)
    registry.add("modbus-relay", RelayConfig, build_relay)


__all__ = [
    "DRIVERS",
    "BatteryConfig",
    "DeviceDataError",
    "DeviceRefusedError",
    "DiscoveryError",
    "InverterConfig",
    "MeterConfig",
    "ModbusCircuitRelay",
    "ModbusConfig",
    "ModbusPanelRelay",
    "RelayConfig",
    "StaleDataError",
    "SunSpecBattery",
    "SunSpecConfig",
    "SunSpecMeter",
    "SunSpecPvInverter",
    "SunSpecServer",
    "register_modbus",
]
