"""A registry of device drivers by name, each with a typed (pydantic) configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from voltbridge.core.clock import Clock

C = TypeVar("C", bound=BaseModel)
T = TypeVar("T")

Factory = Callable[[Any, Clock], object]
"""Builds a device from its validated configuration and the injected clock."""


class DriverConfigError(ValueError):
    """A driver configuration failed validation; the message names the driver and each field."""


@dataclass(frozen=True)
class Driver:
    """One registered driver: its name, configuration model and factory."""

    name: str
    config_model: type[BaseModel]
    factory: Factory


class DriverRegistry:
    """Driver name → (factory, configuration model). Build one per application; there is no global.

    >>> from pydantic import BaseModel
    >>> reg = DriverRegistry()
    >>> class Cfg(BaseModel):
    ...     host: str
    >>> @reg.register("dummy", Cfg)
    ... def make(cfg: Cfg, clock: object) -> str:
    ...     return cfg.host
    >>> reg.create("dummy", {"host": "10.0.0.2"}, clock=None)  # type: ignore[arg-type]
    '10.0.0.2'
    """

    def __init__(self) -> None:
        self._drivers: dict[str, Driver] = {}

    def register(
        self, name: str, config_model: type[C]
    ) -> Callable[[Callable[[C, Clock], T]], Callable[[C, Clock], T]]:
        """Decorator registering ``factory(config, clock)`` under ``name``; a duplicate is a ValueError."""

        def decorate(factory: Callable[[C, Clock], T]) -> Callable[[C, Clock], T]:
            self.add(name, config_model, factory)
            return factory

        return decorate

    def add(self, name: str, config_model: type[C], factory: Callable[[C, Clock], T]) -> None:
        """Register ``factory`` under ``name`` with its configuration model."""
        if name in self._drivers:
            raise ValueError(f"driver {name!r} is already registered; choose another name")
        self._drivers[name] = Driver(name, config_model, factory)

    def names(self) -> list[str]:
        """The registered driver names, sorted."""
        return sorted(self._drivers)

    def driver(self, name: str) -> Driver:
        """The driver registered as ``name``; unknown names are a KeyError listing the known ones."""
        try:
            return self._drivers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise KeyError(f"unknown driver {name!r}; known drivers: {known}") from None

    def create(self, name: str, config: Mapping[str, Any], clock: Clock) -> object:
        """Validate ``config`` with the driver's model and build the device with ``clock``.

        Raises DriverConfigError (a ValueError) naming each bad field as ``driver.field.sub``.
        """
        drv = self.driver(name)
        try:
            cfg = drv.config_model.model_validate(dict(config))
        except ValidationError as err:
            lines = [
                f"{'.'.join([name, *(str(p) for p in e['loc'])])}: {e['msg']}" for e in err.errors()
            ]
            raise DriverConfigError(
                f"driver {name!r} configuration is invalid:\n  " + "\n  ".join(lines)
            ) from err
        return drv.factory(cfg, clock)


def default_registry() -> DriverRegistry:
    """A fresh registry holding the drivers shipped with voltbridge: ``"simulated"`` and the
    Modbus ones (``sunspec-meter``, ``sunspec-inverter``, ``sunspec-battery``, ``modbus-relay``)."""
    from voltbridge.devices.modbus import register_modbus
    from voltbridge.devices.simulated import SimulatedConfig, build_simulated

    reg = DriverRegistry()
    reg.add("simulated", SimulatedConfig, build_simulated)
    register_modbus(reg)
    return reg
