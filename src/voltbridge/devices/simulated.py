"""In-process simulated devices (meter, PV, charger, battery, relays) over one ``SimulatedHome``, and their driver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voltbridge.core.clock import Clock, VirtualClock
from voltbridge.core.types import Measurement
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome


class _Device:
    def __init__(self, home: SimulatedHome, name: str) -> None:
        self.home, self.name = home, name
        home.attach(name, self._fresh)

    def _fresh(self) -> Measurement:
        raise NotImplementedError

    def _now(self) -> datetime:
        return self.home.clock.now()


class SimulatedMeter(_Device):
    """Grid meter and grid sensor: grid power [kW] (+ import), voltage [V], frequency [Hz]."""

    def _fresh(self) -> Measurement:
        h = self.home
        v, f = (h.voltage_v, h.frequency_hz) if h.grid_up else (0.0, 0.0)
        return Measurement(self.name, self._now(), power_kw=h.grid_kw, voltage_v=v, frequency_hz=f)

    async def read_grid(self) -> Measurement:
        """Grid power ``power_kw`` [kW] (+ import), ``voltage_v`` [V], ``frequency_hz`` [Hz]."""
        return self.home.measure(self.name)

    async def read_load(self) -> Measurement:
        """The house's demand ``power_kw`` [kW] (with the circuits that are on), served or not."""
        m = self.home.measure(self.name)
        return Measurement(self.name + ".load", m.at, power_kw=self.home.load_kw)

    async def grid_ok(self) -> bool:
        """True while the utility grid is up."""
        self.home.check(self.name)
        return self.home.grid_up


class SimulatedPvInverter(_Device):
    """PV inverter: PV output [kW], >= 0."""

    def _fresh(self) -> Measurement:
        return Measurement(self.name, self._now(), power_kw=self.home.pv_used_kw)

    async def read_pv(self) -> Measurement:
        """PV output used ``power_kw`` [kW], >= 0 (after curtailment in an outage)."""
        return self.home.measure(self.name)


class _Storage(_Device):
    def __init__(self, home: SimulatedHome, name: str, store: SimStorage) -> None:
        super().__init__(home, name)
        self.store = store

    def _fresh(self) -> Measurement:
        s = self.store
        return Measurement(self.name, self._now(), power_kw=s.power_kw, soc_kwh=s.soc_kwh)

    def _set(self, kw: float) -> None:
        self.home.check(self.name)
        self.home.sync()
        self.store.setpoint_kw = kw
        self.home.refresh()

    async def set_backup_mode(self, on: bool) -> None:
        """Enter or leave grid-forming backup operation (recorded in ``home.backup_mode``)."""
        self.home.check(self.name)
        self.home.backup_mode[self.name] = on

    async def backup_mode(self) -> bool:
        """Whether it is in backup operation (``home.backup_mode``)."""
        self.home.check(self.name)
        return self.home.backup_mode.get(self.name, False)


class SimulatedCharger(_Storage):
    """Bidirectional charger with the car: AC power [kW] (+ charging), car SoC [kWh]."""

    async def read_charger(self) -> Measurement:
        """AC power ``power_kw`` [kW] (+ charging) and the car's ``soc_kwh`` [kWh]."""
        return self.home.measure(self.name)

    async def plugged_in(self) -> bool:
        """True while the car is connected."""
        self.home.check(self.name)
        return self.store.plugged_in

    async def set_charge_power(self, kw: float) -> None:
        """Signed AC setpoint [kW], + charging; clipped to the limits, presence and SoC as time runs."""
        self._set(kw)

    async def safe_default(self) -> None:
        """Setpoint 0 kW."""
        self._set(0.0)

    def plug(self, connected: bool) -> None:
        """Connect or disconnect the car (scenario control, not part of the protocol)."""
        self.store.plugged_in = connected
        self.home.refresh()


class SimulatedBattery(_Storage):
    """Home battery: AC power [kW] (+ charging), SoC [kWh]."""

    async def read_battery(self) -> Measurement:
        """AC power ``power_kw`` [kW] (+ charging) and ``soc_kwh`` [kWh]."""
        return self.home.measure(self.name)

    async def set_battery_power(self, kw: float) -> None:
        """Signed AC setpoint [kW], + charging."""
        self._set(kw)


class SimulatedRelay(_Device):
    """Relays on the home's switchable circuits; an open relay removes that circuit's load [kW]."""

    def _fresh(self) -> Measurement:
        on_kw = sum(kw for c, kw in self.home.circuits_kw.items() if self.home.circuits_on[c])
        return Measurement(self.name, self._now(), power_kw=on_kw)

    async def set_circuit(self, circuit: str, on: bool) -> None:
        """Close (``on``) or open the relay of ``circuit``; unknown circuits are a KeyError."""
        self.home.check(self.name)
        if circuit not in self.home.circuits_on:
            known = ", ".join(sorted(self.home.circuits_on)) or "none"
            raise KeyError(f"{self.name}: no circuit {circuit!r}; circuits: {known}")
        self.home.circuits_on[circuit] = on
        self.home.refresh()

    async def circuit_states(self) -> dict[str, bool]:
        """Each circuit's relay, True when closed."""
        self.home.check(self.name)
        return dict(self.home.circuits_on)

    async def set_transfer(self, grid_connected: bool) -> None:
        """Close (home on the grid) or open (home islanded) the transfer switch."""
        self.home.check(self.name)
        self.home.set_transfer(grid_connected)

    async def transfer_closed(self) -> bool:
        """True while the home is connected to the grid through the transfer switch."""
        self.home.check(self.name)
        return self.home.transfer_closed


@dataclass
class SimulatedDevices:
    """One simulated home and its devices; ``charger`` and ``battery`` are None when absent."""

    home: SimulatedHome
    meter: SimulatedMeter
    pv: SimulatedPvInverter
    relay: SimulatedRelay
    charger: SimulatedCharger | None = None
    battery: SimulatedBattery | None = None

    def all(self) -> list[object]:
        """Every device present."""
        devs = [self.meter, self.pv, self.relay, self.charger, self.battery]
        return [d for d in devs if d is not None]

    @classmethod
    def around(cls, home: SimulatedHome) -> SimulatedDevices:
        """Devices named meter, pv, relay, charger and battery over ``home``."""
        return cls(
            home=home,
            meter=SimulatedMeter(home, "meter"),
            pv=SimulatedPvInverter(home, "pv"),
            relay=SimulatedRelay(home, "relay"),
            charger=SimulatedCharger(home, "charger", home.car) if home.car else None,
            battery=SimulatedBattery(home, "battery", home.battery) if home.battery else None,
        )


class StorageConfig(BaseModel):
    """A simulated storage: capacity and SoC [kWh], AC limits [kW], constant efficiencies (0, 1]."""

    model_config = ConfigDict(extra="forbid")
    capacity_kwh: float = Field(gt=0)
    soc_kwh: float = Field(ge=0)
    max_charge_kw: float = Field(ge=0)
    max_discharge_kw: float = Field(ge=0)
    eta_charge: float = Field(default=1.0, gt=0, le=1)
    eta_discharge: float = Field(default=1.0, gt=0, le=1)
    plugged_in: bool = True

    @model_validator(mode="after")
    def _soc_fits(self) -> Self:
        if self.soc_kwh > self.capacity_kwh:
            raise ValueError(f"soc_kwh {self.soc_kwh} exceeds capacity_kwh {self.capacity_kwh}")
        return self

    def build(self) -> SimStorage:
        return SimStorage(**self.model_dump())


class SimulatedConfig(BaseModel):
    """Configuration of the ``"simulated"`` driver; loads and PV [kW] per ``profile_step_s`` [s]."""

    model_config = ConfigDict(extra="forbid")
    load_kw: float | list[float] = 0.5
    pv_kw: float | list[float] = 0.0
    profile_step_s: float = Field(default=900.0, gt=0)
    car: StorageConfig | None = None
    battery: StorageConfig | None = None
    circuits_kw: dict[str, float] = Field(default_factory=dict)
    voltage_v: float = Field(default=230.0, gt=0)
    frequency_hz: float = Field(default=50.0, gt=0)


def build_simulated(config: SimulatedConfig, clock: Clock) -> SimulatedDevices:
    """The ``"simulated"`` driver's factory; ``clock`` must be a VirtualClock (the home moves it)."""
    if not isinstance(clock, VirtualClock):
        raise TypeError("the simulated driver needs a VirtualClock: SimulatedHome.advance moves it")
    home = SimulatedHome(
        clock,
        load_kw=config.load_kw,
        pv_kw=config.pv_kw,
        profile_step_s=config.profile_step_s,
        car=config.car.build() if config.car else None,
        battery=config.battery.build() if config.battery else None,
        circuits_kw=config.circuits_kw,
        voltage_v=config.voltage_v,
        frequency_hz=config.frequency_hz,
    )
    return SimulatedDevices.around(home)
