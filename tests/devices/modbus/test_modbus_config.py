"""Modbus driver registration, configuration errors and the capabilities each driver offers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.devices.capabilities import capabilities_of
from voltbridge.devices.modbus import DRIVERS, register_modbus
from voltbridge.devices.registry import DriverConfigError, DriverRegistry

CLOCK = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))


def _registry() -> DriverRegistry:
    reg = DriverRegistry()
    register_modbus(reg)
    return reg


def test_register_modbus_adds_the_four_drivers_once() -> None:
    reg = _registry()
    assert set(DRIVERS) <= set(reg.names())
    with pytest.raises(ValueError, match="already registered"):
        register_modbus(reg)


@pytest.mark.parametrize(
    ("name", "config", "capabilities"),
    [
        ("sunspec-meter", {"host": "10.0.0.5"}, {"meter", "grid_sensor"}),
        ("sunspec-inverter", {"host": "10.0.0.6", "rated_power_kw": 8}, {"pv_inverter"}),
        ("sunspec-battery", {"host": "10.0.0.7", "rated_power_kw": 5}, {"battery"}),
        ("modbus-relay", {"host": "10.0.0.8", "circuits": {"ev": 0}}, {"circuit_relay"}),
        (
            "modbus-relay",
            {"host": "10.0.0.8", "circuits": {"ev": 0}, "transfer_coil": 9},
            {"circuit_relay", "transfer_switch"},
        ),
    ],
)
def test_each_driver_offers_exactly_its_capabilities(
    name: str, config: dict[str, object], capabilities: set[str]
) -> None:
    device = _registry().create(name, config, CLOCK)
    assert capabilities_of(device) == capabilities


@pytest.mark.parametrize(
    ("name", "config", "field"),
    [
        ("sunspec-meter", {"host": "h", "port": 0}, "sunspec-meter.port"),
        ("sunspec-meter", {"host": "h", "timeout_s": 0}, "sunspec-meter.timeout_s"),
        ("sunspec-meter", {"host": "h", "voltage_min_v": 260}, "voltage_min_v 260"),
        ("sunspec-meter", {"host": "h", "models": [103]}, "models: models [103]"),
        ("sunspec-meter", {"host": "h", "base_addresses": [70000]}, "base_addresses"),
        ("sunspec-inverter", {"host": "h"}, "sunspec-inverter.rated_power_kw"),
        ("sunspec-battery", {"host": "h", "rated_power_kw": 5, "capacity_kwh": -1}, "capacity_kwh"),
        ("modbus-relay", {"host": "h", "circuits": {"a": 1, "b": 1}}, "coils [1] are used twice"),
        ("modbus-relay", {"host": "h", "circuits": {"a": 1}, "transfer_coil": 1}, "used twice"),
        ("modbus-relay", {"host": "h"}, "at least one circuit"),
        ("modbus-relay", {"host": "h", "circuits": {"a": 1}, "colis": 3}, "modbus-relay.colis"),
    ],
)
def test_config_errors_name_the_field(name: str, config: dict[str, object], field: str) -> None:
    with pytest.raises(DriverConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        _registry().create(name, config, CLOCK)
