"""The home's devices from configuration: Modbus drivers by name, and the OCPP central system.

One shape serves both the demo (loopback peers) and a real home (the site file's ``[devices]``
table), so the demo exercises exactly the code a household runs:

    [devices.meter]                      # any registered driver, with its own settings
    driver = "sunspec-meter"
    host = "192.168.1.20"
    [devices.pv]  / [devices.battery] / [devices.relay]   (optional, same form)
    [devices.ocpp]                       # voltbridge as the chargers' central system
    port = 9000
    tls_cert = "/etc/voltbridge/cert.pem"    # optional: OCPP security profile 2
    tls_key = "/etc/voltbridge/key.pem"
    [[devices.ocpp.chargers]]
    vehicle = "ev9"                      # the site's vehicle on this charger
    charger_id = "wallbox-1"
    password_env = "VOLTBRIDGE_OCPP_WALLBOX_1"   # the password lives in the environment

Passwords never live in the site file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from voltbridge.control.io import DeviceSet
from voltbridge.control.site_model import ControlSite
from voltbridge.core.clock import Clock
from voltbridge.devices.capabilities import (
    Battery,
    CircuitRelay,
    GridSensor,
    Meter,
    PvInverter,
    TransferSwitch,
)
from voltbridge.devices.ocpp.central import CentralSystem
from voltbridge.devices.ocpp.config import CentralSystemConfig, OcppChargerConfig
from voltbridge.devices.registry import DriverRegistry, default_registry


class ChargerLink(BaseModel):
    """One charger of ``[devices.ocpp]``: which car it serves and where its password is."""

    model_config = ConfigDict(extra="forbid")
    vehicle: str = Field(min_length=1)
    charger_id: str = Field(min_length=1)
    password_env: str | None = None
    """Environment variable holding the charger's basic-auth password (16–40 characters)."""
    password: SecretStr | None = None
    """The password itself (only for generated demo configurations, never in a site file)."""


class OcppSection(BaseModel):
    """``[devices.ocpp]``: the central system's address and its chargers."""

    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(default=9000, ge=0, le=65535)
    tls_cert: str | None = None
    tls_key: str | None = None
    chargers: list[ChargerLink] = Field(default_factory=list)


class DriverSection(BaseModel):
    """``[devices.<role>]``: a registered driver and its settings (validated by the driver)."""

    model_config = ConfigDict(extra="allow")
    driver: str


class DevicesSection(BaseModel):
    """The site's ``[devices]`` table."""

    model_config = ConfigDict(extra="forbid")
    meter: DriverSection
    pv: DriverSection | None = None
    battery: DriverSection | None = None
    relay: DriverSection | None = None
    ocpp: OcppSection | None = None


@dataclass
class HomeDevices:
    """The device set for the controller and what must be stopped at the end."""

    devices: DeviceSet
    central: CentralSystem | None


def _build(reg: DriverRegistry, role: str, section: DriverSection, clock: Clock) -> object:
    params: dict[str, Any] = dict(section.model_extra or {})
    try:
        return reg.create(section.driver, params, clock)
    except (KeyError, ValueError) as err:
        raise ValueError(f"[devices.{role}]: {err}") from None


def _password(link: ChargerLink) -> SecretStr:
    if link.password is not None:
        return link.password
    if link.password_env is None:
        raise ValueError(
            f"[devices.ocpp] charger {link.charger_id}: give password_env, the environment "
            "variable holding its password"
        )
    value = os.environ.get(link.password_env)
    if not value:
        raise ValueError(
            f"[devices.ocpp] charger {link.charger_id}: environment variable "
            f"{link.password_env} is not set"
        )
    return SecretStr(value)


async def open_devices(
    section: DevicesSection, site: ControlSite, clock: Clock, registry: DriverRegistry | None = None
) -> HomeDevices:
    """Build the drivers, start the OCPP central system, and return the device set."""
    reg = registry or default_registry()
    meter = _build(reg, "meter", section.meter, clock)
    if not isinstance(meter, Meter):
        raise ValueError(f"[devices.meter]: driver {section.meter.driver!r} is not a meter")
    pv = _build(reg, "pv", section.pv, clock) if section.pv else None
    battery = _build(reg, "battery", section.battery, clock) if section.battery else None
    relay = _build(reg, "relay", section.relay, clock) if section.relay else None
    central = None
    chargers: dict[str, Any] = {}
    if section.ocpp is not None:
        o = section.ocpp
        configs = []
        for link in o.chargers:
            car = site.vehicle(link.vehicle)
            configs.append(
                OcppChargerConfig(
                    charger_id=link.charger_id,
                    password=_password(link),
                    max_charge_kw=car.max_charge_kw,
                    max_discharge_kw=car.max_discharge_kw,
                    battery_capacity_kwh=car.capacity_kwh,
                )
            )
        cfg = CentralSystemConfig(
            host=o.host,
            port=o.port,
            tls_cert=o.tls_cert,
            tls_key=o.tls_key,
            chargers=configs,
        )
        central = CentralSystem(cfg, clock)
        await central.start()
        chargers = {link.vehicle: central.charger(link.charger_id) for link in o.chargers}
    devices = DeviceSet(
        meter=meter,
        chargers=chargers,
        battery=battery if isinstance(battery, Battery) else None,
        pv=pv if isinstance(pv, PvInverter) else None,
        grid_sensor=meter if isinstance(meter, GridSensor) else None,
        relay=relay if isinstance(relay, CircuitRelay) else None,
        transfer=relay if isinstance(relay, TransferSwitch) else None,
    )
    return HomeDevices(devices, central)
