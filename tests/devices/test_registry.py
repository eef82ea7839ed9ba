"""The driver registry: register, create, duplicates, unknown names and config errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, Field

from voltbridge.core.clock import Clock, VirtualClock
from voltbridge.devices.registry import DriverConfigError, DriverRegistry, default_registry
from voltbridge.devices.simulated import SimulatedDevices

CLOCK = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))


class PortConfig(BaseModel):
    host: str
    port: int = Field(default=502, gt=0)


def _registry() -> DriverRegistry:
    reg = DriverRegistry()

    @reg.register("modbus-dummy", PortConfig)
    def make(cfg: PortConfig, clock: Clock) -> tuple[str, int]:
        return cfg.host, cfg.port

    return reg


def test_register_and_create_validates_config() -> None:
    assert _registry().create("modbus-dummy", {"host": "10.0.0.9"}, CLOCK) == ("10.0.0.9", 502)


def test_duplicate_name_is_an_error_naming_it() -> None:
    reg = _registry()
    with pytest.raises(ValueError, match="'modbus-dummy' is already registered"):
        reg.add("modbus-dummy", PortConfig, lambda cfg, clock: None)


def test_unknown_driver_lists_known_names() -> None:
    with pytest.raises(KeyError, match="known drivers: modbus-dummy"):
        _registry().create("ocpp", {}, CLOCK)


def test_config_errors_name_the_field() -> None:
    with pytest.raises(DriverConfigError, match=r"modbus-dummy\.port: Input should be greater"):
        _registry().create("modbus-dummy", {"host": "h", "port": 0}, CLOCK)
    with pytest.raises(DriverConfigError, match=r"modbus-dummy\.host: Field required"):
        _registry().create("modbus-dummy", {}, CLOCK)


def test_registries_are_independent_instances() -> None:
    assert default_registry().names() == [
        "modbus-relay",
        "simulated",
        "sunspec-battery",
        "sunspec-inverter",
        "sunspec-meter",
    ]
    assert DriverRegistry().names() == []
    assert default_registry() is not default_registry()


def test_default_registry_builds_simulated_devices() -> None:
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    cfg = {"car": {"capacity_kwh": 60, "soc_kwh": 30, "max_charge_kw": 11, "max_discharge_kw": 9}}
    devices = default_registry().create("simulated", cfg, clock)
    assert isinstance(devices, SimulatedDevices)
    assert devices.charger is not None and devices.battery is None
    assert devices.home.clock is clock


def test_simulated_config_errors_name_nested_fields() -> None:
    bad = {"car": {"capacity_kwh": 60, "soc_kwh": 70, "max_charge_kw": 11, "max_discharge_kw": 9}}
    with pytest.raises(DriverConfigError, match=r"simulated\.car: Value error, soc_kwh 70"):
        default_registry().create("simulated", bad, CLOCK)
    with pytest.raises(DriverConfigError, match=r"simulated\.pv_kwp: Extra inputs"):
        default_registry().create("simulated", {"pv_kwp": 5}, CLOCK)


def test_simulated_driver_needs_a_virtual_clock() -> None:
    class Wall:
        def now(self) -> datetime:
            return datetime.now(UTC)

        async def sleep(self, seconds: float) -> None:
            return None

    with pytest.raises(TypeError, match="VirtualClock"):
        default_registry().create("simulated", {}, Wall())
