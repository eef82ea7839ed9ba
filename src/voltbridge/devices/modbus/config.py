"""Typed (pydantic v2) configurations of the Modbus drivers; a bad field is named in the error."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voltbridge.devices.modbus.sunspec_map import INVERTER_MODELS, METER_MODELS


class ModbusConfig(BaseModel):
    """Where a Modbus TCP device is and how long to wait for it.

    Attributes:
        name: the device's name in measurements and errors.
        host: IP address or host name.
        port: TCP port (502 is Modbus's).
        unit_id: the Modbus unit (slave) id, 0–255 (gateways route by it; 1 for most devices).
        timeout_s: the most one request may take, connecting included [s]; past it the device is
            reported as not answering (ConnectionError).
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    timeout_s: float = Field(default=2.0, gt=0, le=60)


class SunSpecConfig(ModbusConfig):
    """A SunSpec device: where to look for its map and how far readings may exceed its rating.

    Attributes:
        base_addresses: holding-register addresses to try for the "SunS" marker, in order.
        power_margin: readings beyond ``rating × power_margin`` are rejected as out of range (>= 1).
        max_age_s: ``grid_ok`` raises StaleDataError when the registers have not changed for longer
            than this [s] while they should (see ``freshness``).
    """

    base_addresses: list[int] = Field(default_factory=lambda: [40000, 0, 50000], min_length=1)
    power_margin: float = Field(default=1.1, ge=1.0, le=10.0)
    max_age_s: float = Field(default=30.0, gt=0)

    @field_validator("base_addresses")
    @classmethod
    def _addresses_fit(cls, v: list[int]) -> list[int]:
        bad = [a for a in v if not 0 <= a <= 65533]
        if bad:
            raise ValueError(f"register addresses lie in 0..65533, got {bad}")
        return v


class MeterConfig(SunSpecConfig):
    """The grid meter (SunSpec model 203, 201, 202 or 204) and its grid-presence window.

    Attributes:
        max_power_kw: the grid connection's rating [kW]; larger readings are rejected.
        invert_power: True for a meter whose CT faces the other way (or whose vendor reports
            export as positive): its W is negated so that + is import, as voltbridge expects.
        voltage_min_v, voltage_max_v: the grid is "ok" inside this voltage window [V].
        frequency_min_hz, frequency_max_hz: ... and inside this frequency window [Hz].
        models: meter models to use, first present wins.
    """

    name: str = Field(default="meter", min_length=1)
    max_power_kw: float = Field(default=100.0, gt=0)
    invert_power: bool = False
    voltage_min_v: float = Field(default=195.5, gt=0)
    voltage_max_v: float = Field(default=253.0, gt=0)
    frequency_min_hz: float = Field(default=47.5, gt=0)
    frequency_max_hz: float = Field(default=51.5, gt=0)
    models: list[int] = Field(default_factory=lambda: list(METER_MODELS), min_length=1)

    @model_validator(mode="after")
    def _windows(self) -> Self:
        if self.voltage_min_v >= self.voltage_max_v:
            raise ValueError(
                f"voltage_min_v {self.voltage_min_v} must be below voltage_max_v {self.voltage_max_v}"
            )
        if self.frequency_min_hz >= self.frequency_max_hz:
            raise ValueError(
                f"frequency_min_hz {self.frequency_min_hz} must be below frequency_max_hz "
                f"{self.frequency_max_hz}"
            )
        _known(self.models, METER_MODELS, "models")
        return self


class InverterConfig(SunSpecConfig):
    """A PV inverter (SunSpec model 701, 103, 101 or 102).

    Attributes:
        rated_power_kw: AC nameplate power [kW]; larger readings are rejected.
        models: AC measurement models to use, first present wins.
    """

    name: str = Field(default="pv", min_length=1)
    rated_power_kw: float = Field(gt=0)
    models: list[int] = Field(default_factory=lambda: list(INVERTER_MODELS), min_length=1)

    @model_validator(mode="after")
    def _models(self) -> Self:
        _known(self.models, INVERTER_MODELS, "models")
        return self


class BatteryConfig(SunSpecConfig):
    """A home battery's inverter (SunSpec model 124 and/or 802, with 701/103/101/102 for AC power).

    Attributes:
        rated_power_kw: AC power rating, charge or discharge [kW]; larger readings are rejected.
        capacity_kwh: usable capacity [kWh] to turn SoC [%] into energy; None takes model 802's
            ``WHRtg``.
        revert_s: ``InOutWRte_RvrtTms`` written with every setpoint [s]: the battery drops back to
            its own control this long after the last command, so a crashed controller leaves it
            safe. 0 keeps the setpoint until the next one.
        dc_power_discharge_positive: sign of model 802's DC ``W``, used only when the device has no
            AC model: True (default) when W > 0 means discharging.
        ac_models: AC measurement models for the battery's power, first present wins.
    """

    name: str = Field(default="battery", min_length=1)
    rated_power_kw: float = Field(gt=0)
    capacity_kwh: float | None = Field(default=None, gt=0)
    revert_s: int = Field(default=300, ge=0, le=65534)
    dc_power_discharge_positive: bool = True
    ac_models: list[int] = Field(default_factory=lambda: list(INVERTER_MODELS))

    @model_validator(mode="after")
    def _models(self) -> Self:
        _known(self.ac_models, INVERTER_MODELS, "ac_models")
        return self


class RelayConfig(ModbusConfig):
    """Panel relays on plain Modbus coils (True = relay closed, circuit powered).

    Attributes:
        circuits: circuit name → coil address.
        transfer_coil: the transfer switch's coil (True = home joined to the grid); None when the
            relay board has no transfer switch (the driver then offers no TransferSwitch).
    """

    name: str = Field(default="relay", min_length=1)
    circuits: dict[str, int] = Field(default_factory=dict)
    transfer_coil: int | None = Field(default=None, ge=0, le=65535)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        coils = list(self.circuits.values())
        if self.transfer_coil is not None:
            coils.append(self.transfer_coil)
        bad = [c for c in coils if not 0 <= c <= 65535]
        if bad:
            raise ValueError(f"coil addresses lie in 0..65535, got {bad}")
        dup = sorted({c for c in coils if coils.count(c) > 1})
        if dup:
            raise ValueError(f"coils {dup} are used twice (circuits and transfer_coil must differ)")
        if not coils:
            raise ValueError("give at least one circuit or a transfer_coil")
        if self.circuits and max(self.circuits.values()) - min(self.circuits.values()) >= 2000:
            raise ValueError("circuit coils must lie within 2000 addresses (one Modbus read)")
        return self


def _known(models: list[int], allowed: tuple[int, ...], field: str) -> None:
    bad = [m for m in models if m not in allowed]
    if bad:
        raise ValueError(f"{field}: models {bad} are not supported; choose from {list(allowed)}")
