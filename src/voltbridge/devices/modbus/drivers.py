"""Drivers for SunSpec meters, PV inverters and home batteries, and for Modbus coil relays.

Each converts device units at the edge (W → kW, % → kWh, SunSpec signs → voltbridge's: power is
positive into a device from the home's AC bus, grid power positive for import) and rejects
physically impossible values with a DeviceDataError naming device, point and value. Time comes
only from the injected clock; ``Measurement.at`` follows the frozen-data rule in ``freshness``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from voltbridge.core.clock import Clock
from voltbridge.core.types import Measurement
from voltbridge.devices.modbus.client import (
    ModbusLink,
    ModelAt,
    SunSpecLayout,
    discover,
    read_model,
)
from voltbridge.devices.modbus.config import (
    BatteryConfig,
    InverterConfig,
    MeterConfig,
    RelayConfig,
    SunSpecConfig,
)
from voltbridge.devices.modbus.errors import DeviceDataError, DiscoveryError, StaleDataError
from voltbridge.devices.modbus.freshness import LastChange
from voltbridge.devices.modbus.sunspec_map import ModelReading, Raw, model_def, to_raw

STORCTL_CHARGE = 1 << 0
"""Model 124 ``StorCtl_Mod`` bit CHARGE: the charge limit ``InWRte`` applies."""
STORCTL_DISCHARGE = 1 << 1
"""Model 124 ``StorCtl_Mod`` bit DISCHARGE: the discharge limit ``OutWRte`` applies."""


class _SunSpecDevice:
    """Link, cached discovery, model reads and the last-change tracker of one SunSpec device."""

    def __init__(self, config: SunSpecConfig, clock: Clock) -> None:
        self.config, self.clock, self.name = config, clock, config.name
        self.link = ModbusLink(
            config.name, config.host, config.port, config.unit_id, config.timeout_s
        )
        self._layout: SunSpecLayout | None = None
        self._fresh = LastChange(clock)

    async def layout(self) -> SunSpecLayout:
        """The device's SunSpec map, discovered on first use and after a failed read."""
        if self._layout is None:
            self._layout = await discover(self.link, self.config.base_addresses)
        return self._layout

    async def close(self) -> None:
        """Close the Modbus connection."""
        self.link.close()

    def _pick(self, layout: SunSpecLayout, prefs: Sequence[int], what: str) -> int:
        mid = layout.first_of(prefs)
        if mid is None:
            raise DiscoveryError(
                f"{self.name}: {self.link.where()} has SunSpec models {layout.ids()} but no "
                f"{what} model {list(prefs)}; is this the right device and driver?"
            )
        return mid

    async def _read(self, model_ids: Sequence[int]) -> dict[int, ModelReading]:
        layout = await self.layout()
        try:
            return {mid: await read_model(self.link, layout, mid) for mid in model_ids}
        except ConnectionError:
            self._layout = None  # discover again: the device may have restarted with a new map
            raise

    def _observe(self, readings: Mapping[int, ModelReading], idle: bool) -> datetime:
        regs = [r for mid in sorted(readings) for r in readings[mid].registers]
        return self._fresh.observe(regs, idle)

    def _within(
        self, r: ModelReading, point: str, value: float, lo: float, hi: float, what: str
    ) -> None:
        if not lo <= value <= hi:
            raise DeviceDataError(
                self.name, f"{r.model.model_id}.{point}", value, f"outside {lo:g}..{hi:g} {what}"
            )

    def _power_ok(self, r: ModelReading, point: str, kw: float, rating_kw: float) -> None:
        limit = rating_kw * self.config.power_margin
        if abs(kw) > limit:
            raise DeviceDataError(
                self.name,
                f"{r.model.model_id}.{point}",
                f"{kw:g} kW",
                f"beyond the configured rating {rating_kw:g} kW × margin {self.config.power_margin:g}"
                " (fix the rating in the configuration if the device is larger)",
            )

    async def _write_points(self, model_id: int, values: Mapping[str, Raw]) -> None:
        """Write raw point values, one request per run of adjacent registers."""
        layout = await self.layout()
        at: ModelAt | None = layout.find(model_id)
        if at is None:
            raise DiscoveryError(
                f"{self.name}: {self.link.where()} has no SunSpec model {model_id}"
            )
        mdef = model_def(model_id)
        points = sorted((mdef.point(n) for n in values), key=lambda p: p.offset)
        for p in points:
            if not p.writable:
                raise ValueError(f"point {model_id}.{p.name} is read-only")
        run_start, run = points[0].offset, list[int]()
        for p in points:
            if p.offset != run_start + len(run):
                await self.link.write_registers(at.address + run_start, run)
                run_start, run = p.offset, []
            run += p.encode(values[p.name])
        await self.link.write_registers(at.address + run_start, run)


def _voltage(r: ModelReading, names: Sequence[str]) -> tuple[str, float]:
    for n in names:
        if r.model.has(n) and (v := r.value(n)) is not None:
            return n, v
    present = [n for n in names if r.model.has(n)]
    return present[0], r.require(present[0])  # raises, naming the first candidate


class SunSpecMeter(_SunSpecDevice):
    """Grid meter and grid sensor over SunSpec meter model 203 (or 201, 202, 204).

    Points: ``W`` total real power [W], ``PhV`` (else ``PhVphA``, else ``PPV``) voltage [V],
    ``Hz`` [Hz], ``TotWhImp``/``TotWhExp`` energy [Wh]. SunSpec meters count from the site's side
    of the connection: ``W`` > 0 while power flows from the grid into the site (import, while
    ``TotWhImp`` advances), as voltbridge counts; ``invert_power`` flips a meter that reads the
    other way. ``energy_kwh`` is the net import (``TotWhImp - TotWhExp``) [kWh].
    """

    config: MeterConfig

    def __init__(self, config: MeterConfig, clock: Clock) -> None:
        super().__init__(config, clock)

    async def read_grid(self) -> Measurement:
        """Grid power ``power_kw`` [kW] (+ import), ``voltage_v`` [V], ``frequency_hz`` [Hz]."""
        cfg = self.config
        mid = self._pick(await self.layout(), cfg.models, "meter")
        readings = await self._read([mid])
        r = readings[mid]
        w = r.require("W")
        power_kw = (0.0 - w if cfg.invert_power else w) / 1000.0
        self._power_ok(r, "W", power_kw, cfg.max_power_kw)
        vname, volts = _voltage(r, ("PhV", "PhVphA", "PPV"))
        self._within(r, vname, volts, 0.0, 1.5 * cfg.voltage_max_v, "V")
        hz = r.require("Hz")
        self._within(r, "Hz", hz, 0.0, 1.5 * cfg.frequency_max_hz, "Hz")
        imp, exp = r.value("TotWhImp"), r.value("TotWhExp")
        energy = None if imp is None and exp is None else ((imp or 0.0) - (exp or 0.0)) / 1000.0
        at = self._observe(readings, idle=w == 0)
        return Measurement(
            self.name, at, power_kw=power_kw, energy_kwh=energy, voltage_v=volts, frequency_hz=hz
        )

    async def grid_ok(self) -> bool:
        """True while voltage [V] and frequency [Hz] lie in the configured window.

        Raises StaleDataError (a ConnectionError) when the meter's registers have been frozen for
        longer than ``max_age_s``: an outage must never hide behind a frozen "grid ok".
        """
        cfg = self.config
        m = await self.read_grid()
        age = self._fresh.age_s()
        if age > cfg.max_age_s:
            raise StaleDataError(
                f"{self.name}: registers unchanged for {age:.0f} s while power flows "
                f"(limit max_age_s = {cfg.max_age_s:g} s); the meter looks frozen"
            )
        v, f = m.voltage_v or 0.0, m.frequency_hz or 0.0
        return (
            cfg.voltage_min_v <= v <= cfg.voltage_max_v
            and cfg.frequency_min_hz <= f <= cfg.frequency_max_hz
        )


class SunSpecPvInverter(_SunSpecDevice):
    """PV inverter over SunSpec model 701 (DER AC measurement) or 103/101/102.

    Points: ``W`` AC power [W] (SunSpec counts generation positive, as voltbridge does for PV),
    ``Hz`` [Hz], voltage ``LNV`` (701) or ``PhVphA`` [V], energy ``TotWhInj`` (701) or ``WH`` [Wh].
    A small negative ``W`` (standby draw, at most 1 % of the rating) reads as 0 kW.
    """

    config: InverterConfig

    def __init__(self, config: InverterConfig, clock: Clock) -> None:
        super().__init__(config, clock)

    async def read_pv(self) -> Measurement:
        """PV output ``power_kw`` [kW], >= 0, with ``energy_kwh`` [kWh] and the AC voltage/frequency."""
        cfg = self.config
        mid = self._pick(await self.layout(), cfg.models, "inverter")
        readings = await self._read([mid])
        r = readings[mid]
        w = r.require("W")
        if w < 0:
            if -w > 10.0 * cfg.rated_power_kw:  # more than 1 % of the rating [W]
                raise DeviceDataError(
                    self.name,
                    f"{mid}.W",
                    w,
                    "negative beyond standby draw; a PV inverter only generates",
                )
            w = 0.0
        power_kw = w / 1000.0
        self._power_ok(r, "W", power_kw, cfg.rated_power_kw)
        hz = r.value("Hz")
        if hz is not None:
            self._within(r, "Hz", hz, 0.0, 100.0, "Hz")
        vname = "LNV" if mid == 701 else "PhVphA"
        volts = r.value(vname)
        if volts is not None:
            self._within(r, vname, volts, 0.0, 1000.0, "V")
        wh = r.value("TotWhInj" if mid == 701 else "WH")
        at = self._observe(readings, idle=w == 0)
        return Measurement(
            self.name,
            at,
            power_kw=power_kw,
            energy_kwh=None if wh is None else wh / 1000.0,
            voltage_v=volts,
            frequency_hz=hz,
        )


class SunSpecBattery(_SunSpecDevice):
    """Home battery over SunSpec storage models 124 and/or 802, AC power from 701/103/101/102.

    Reading: SoC [%] from 124 ``ChaState`` (else 802 ``SoC``) × usable capacity [kWh]
    (``capacity_kwh``, else 802 ``WHRtg``). Power [kW] (+ charging) is minus the battery
    inverter's AC ``W`` (SunSpec counts a DER's output positive, i.e. discharge); without an AC
    model, 802's DC ``W`` with the sign ``dc_power_discharge_positive`` says.

    Command (model 124; 802 has no power setpoint): ``StorCtl_Mod`` = CHARGE|DISCHARGE makes
    both limits apply; ``InWRte`` caps charging and ``OutWRte`` caps discharging, each in % of
    ``WChaMax``, and a negative limit forces the opposite flow, so the allowed battery power lies
    in [-OutWRte, +InWRte] % of ``WChaMax``. A setpoint ``p`` [kW] writes ``InWRte = r`` and
    ``OutWRte = -r`` with ``r = 100 p / WChaMax`` (clipped to ±100 %), pinning the window to
    ``p``; 0 kW pins it to 0 (hold). ``InOutWRte_RvrtTms = revert_s`` makes the battery return
    to its own control if the commands stop.
    """

    config: BatteryConfig

    def __init__(self, config: BatteryConfig, clock: Clock) -> None:
        super().__init__(config, clock)

    async def read_battery(self) -> Measurement:
        """AC power ``power_kw`` [kW] (+ charging, - discharging) and ``soc_kwh`` [kWh]."""
        cfg = self.config
        layout = await self.layout()
        stores = [m for m in (124, 802) if layout.find(m) is not None]
        if not stores:
            raise DiscoveryError(
                f"{self.name}: {self.link.where()} has SunSpec models {layout.ids()} but no "
                "storage model 124 or 802; is this the battery's inverter?"
            )
        ac = layout.first_of(cfg.ac_models)
        readings = await self._read([*stores, *([ac] if ac is not None else [])])
        soc_r, soc_point = (
            (readings[124], "ChaState") if 124 in readings else (readings[802], "SoC")
        )
        if soc_r.value(soc_point) is None and 802 in readings:
            soc_r, soc_point = readings[802], "SoC"
        soc_pct = soc_r.require(soc_point)
        self._within(soc_r, soc_point, soc_pct, 0.0, 100.0, "%")
        capacity = self._capacity_kwh(readings)
        if ac is not None:
            pr, w = readings[ac], readings[ac].require("W")
            power_kw = (0.0 - w) / 1000.0  # 0.0 - w: no -0.0 kW
        else:
            pr, w = readings[802], readings[802].require("W")
            power_kw = (0.0 - w if cfg.dc_power_discharge_positive else w) / 1000.0
        self._power_ok(pr, "W", power_kw, cfg.rated_power_kw)
        at = self._observe(readings, idle=w == 0)
        return Measurement(self.name, at, power_kw=power_kw, soc_kwh=soc_pct / 100.0 * capacity)

    def _capacity_kwh(self, readings: Mapping[int, ModelReading]) -> float:
        if self.config.capacity_kwh is not None:
            return self.config.capacity_kwh
        if 802 in readings:
            wh = readings[802].require("WHRtg")
            self._within(readings[802], "WHRtg", wh, 1.0, 1e7, "Wh")
            return wh / 1000.0
        raise DiscoveryError(
            f"{self.name}: the battery has no model 802 to give its capacity; set capacity_kwh"
        )

    async def set_battery_power(self, kw: float) -> None:
        """Signed AC setpoint [kW]: + charging, - discharging; 0 holds (the safe default)."""
        if not math.isfinite(kw):
            raise ValueError(
                f"{self.name}: battery setpoint must be a finite number of kW, got {kw}"
            )
        layout = await self.layout()
        if layout.find(124) is None:
            raise DiscoveryError(
                f"{self.name}: {self.link.where()} has no SunSpec model 124 (storage controls), "
                f"only {layout.ids()}; voltbridge cannot command this battery's power"
            )
        r = (await self._read([124]))[124]
        wchamax = r.require("WChaMax")
        if wchamax <= 0:
            raise DeviceDataError(
                self.name, "124.WChaMax", wchamax, "must be > 0 W to scale setpoints"
            )
        pct = max(-100.0, min(100.0, 100.0 * kw * 1000.0 / wchamax))
        raw = to_raw(pct, r.scale_factor("InWRte") or 0)
        await self._write_points(
            124,
            {
                "OutWRte": -raw,
                "InWRte": raw,
                "InOutWRte_WinTms": 0,
                "InOutWRte_RvrtTms": self.config.revert_s,
                "InOutWRte_RmpTms": 0,
            },
        )
        await self._write_points(124, {"StorCtl_Mod": STORCTL_CHARGE | STORCTL_DISCHARGE})


class ModbusCircuitRelay:
    """Panel relays on plain Modbus coils, one per named circuit (True = closed, powered)."""

    def __init__(self, config: RelayConfig, clock: Clock) -> None:
        self.config, self.clock, self.name = config, clock, config.name
        self.link = ModbusLink(
            config.name, config.host, config.port, config.unit_id, config.timeout_s
        )

    async def close(self) -> None:
        """Close the Modbus connection."""
        self.link.close()

    async def set_circuit(self, circuit: str, on: bool) -> None:
        """Close (``on``) or open one circuit's relay; an unknown circuit is a KeyError."""
        coil = self.config.circuits.get(circuit)
        if coil is None:
            known = ", ".join(sorted(self.config.circuits)) or "none"
            raise KeyError(f"{self.name}: no circuit {circuit!r}; circuits: {known}")
        await self.link.write_coil(coil, on)

    async def circuit_states(self) -> dict[str, bool]:
        """Each circuit's relay state, True when closed (powered); one read over their coils."""
        coils = self.config.circuits
        if not coils:
            return {}
        lo, hi = min(coils.values()), max(coils.values())
        bits = await self.link.read_coils(lo, hi - lo + 1)
        return {name: bits[c - lo] for name, c in coils.items()}


class ModbusPanelRelay(ModbusCircuitRelay):
    """Circuit relays plus the transfer switch's coil (True = home joined to the grid)."""

    async def set_transfer(self, grid_connected: bool) -> None:
        """Close (``True``: home on the grid) or open (``False``: home islanded) the switch."""
        assert self.config.transfer_coil is not None
        await self.link.write_coil(self.config.transfer_coil, grid_connected)

    async def transfer_closed(self) -> bool:
        """True while the home is connected to the grid through the switch."""
        assert self.config.transfer_coil is not None
        return (await self.link.read_coils(self.config.transfer_coil, 1))[0]


def build_meter(config: MeterConfig, clock: Clock) -> SunSpecMeter:
    """Factory of the ``sunspec-meter`` driver."""
    return SunSpecMeter(config, clock)


def build_inverter(config: InverterConfig, clock: Clock) -> SunSpecPvInverter:
    """Factory of the ``sunspec-inverter`` driver."""
    return SunSpecPvInverter(config, clock)


def build_battery(config: BatteryConfig, clock: Clock) -> SunSpecBattery:
    """Factory of the ``sunspec-battery`` driver."""
    return SunSpecBattery(config, clock)


def build_relay(config: RelayConfig, clock: Clock) -> ModbusCircuitRelay:
    """Factory of the ``modbus-relay`` driver: a ModbusPanelRelay (also a TransferSwitch) when
    ``transfer_coil`` is set, else a ModbusCircuitRelay."""
    if config.transfer_coil is not None:
        return ModbusPanelRelay(config, clock)
    return ModbusCircuitRelay(config, clock)
