"""Faulty in-process devices that record every command they receive, and the watch that checks
the invariants from the plant's side only (what the devices saw and the home's physical flows).

The wrappers sit between the controller and ``voltbridge.devices.simulated``'s devices. A fault is
one of ``FAULTS`` on one device until it is healed or replaced; the watch never reads the
controller's state, only the commands the wrappers recorded and ``SimulatedHome``'s flows, so a
bug in the controller cannot hide itself from it.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar, cast

from ocpp.exceptions import FormatViolationError

from voltbridge.core.clock import Clock
from voltbridge.core.types import Measurement
from voltbridge.devices.modbus.errors import DeviceDataError, DeviceRefusedError
from voltbridge.devices.ocpp.charger import ChargerRejectedError
from voltbridge.devices.ocpp.rpc import OcppCallError
from voltbridge.devices.simulated import (
    SimulatedBattery,
    SimulatedCharger,
    SimulatedMeter,
    SimulatedPvInverter,
    SimulatedRelay,
)
from voltbridge.devices.simulated_home import SimulatedHome

T = TypeVar("T")

GARBAGE: dict[str, dict[str, float | None]] = {
    "nan": {"power_kw": math.nan},
    "inf": {"power_kw": math.inf},
    "huge": {"power_kw": 1e6},
    "huge-negative": {"power_kw": -1e6},
    "soc-negative": {"soc_kwh": -5.0},
    "soc-over": {"soc_kwh": 1e4},
    "soc-nan": {"soc_kwh": math.nan},
    "not-implemented": {"power_kw": None, "soc_kwh": None},  # 0x8000 decodes to "no value"
    "voltage-nan": {"voltage_v": math.nan},
    "voltage-huge": {"voltage_v": 1e9},
    "frequency-zero": {"frequency_hz": 0.0},
}
"""Out-of-range or undecodable readings: field overrides applied to a fresh measurement."""

DECODE_ERRORS: dict[str, Callable[[str], BaseException]] = {
    "overflow": lambda d: OverflowError(f"{d}: scale factor +400: int too large to convert"),
    "zero-division": lambda d: ZeroDivisionError(f"{d}: division by zero"),
    "struct": lambda d: struct.error(f"{d}: unpack requires a buffer of 4 bytes"),
    "index": lambda d: IndexError(f"{d}: register list index out of range"),
    "runtime": lambda d: RuntimeError(f"{d}: driver state lost"),
    "data": lambda d: DeviceDataError(d, "W_SF", 400, "outside -10..10"),
}
"""Exceptions a driver raises while reading or decoding one device (issue 10, item 1)."""

REFUSALS: dict[str, Callable[[str], BaseException]] = {
    "rejected": lambda d: ChargerRejectedError(f"charger {d} answered Rejected (TxNotFound)"),
    "call-error": lambda d: OcppCallError(d, "SetChargingProfile", "InternalError", "busy"),
    "format": lambda d: FormatViolationError(description=f"{d}: bad payload"),
    "modbus-refused": lambda d: DeviceRefusedError(f"{d}: exception code 4", 4),
    "value": lambda d: ValueError(f"{d}: setpoint out of range"),
}
"""What a device that refuses a command raises (the OCPP driver's and the Modbus driver's)."""

FAULTS = ("silent", "frozen", "disconnected", "garbage", "decode-error", "refusing")


@dataclass
class Fault:
    """One device's present fault; ``variant`` picks from GARBAGE, DECODE_ERRORS or REFUSALS."""

    kind: str
    variant: str = ""
    frozen: Measurement | None = None


@dataclass(frozen=True)
class Sent:
    """One command a device received: when, which device, what, and the value [kW or bool]."""

    at: datetime
    device: str
    what: str
    value: float | bool | str


@dataclass
class Board:
    """The faults in force per device and every command received, shared by the wrappers."""

    clock: Clock
    """The plant's (true) clock: when each command arrived."""
    stamp: Clock
    """The clock a driver stamps readings with (the controller's, which may jump)."""
    faults: dict[str, Fault] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    hang_s: float = 3600.0
    """How long a silent device keeps a call waiting [s of real time] (the controller's own
    timeout must end it first)."""

    async def read(self, device: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` as the device's fault makes it (frozen and garbage apply to measurements)."""
        fault = self.faults.get(device)
        if fault is not None and fault.kind == "silent":
            await asyncio.sleep(self.hang_s)
        if fault is not None and fault.kind == "disconnected":
            raise ConnectionError(f"{device} does not answer (connection refused)")
        if fault is not None and fault.kind == "decode-error":
            raise DECODE_ERRORS[fault.variant](device)
        value = await call()
        if not isinstance(value, Measurement):
            return value
        m = replace(value, at=self.stamp.now())  # a driver dates what it reads
        if fault is None or fault.kind == "refusing":
            return cast(T, m)
        if fault.kind == "frozen":
            if fault.frozen is None:
                fault.frozen = m
            return cast(T, fault.frozen)
        garbage: dict[str, Any] = dict(GARBAGE[fault.variant])
        return cast(T, replace(m, **garbage))

    async def write(
        self, device: str, what: str, value: float | bool | str, call: Awaitable[None]
    ) -> None:
        """Record the command, then apply it unless the device's fault stops it."""
        self.sent.append(Sent(self.clock.now(), device, what, value))
        fault = self.faults.get(device)
        if fault is not None and fault.kind == "silent":
            _close(call)
            await asyncio.sleep(self.hang_s)
        if fault is not None and fault.kind == "disconnected":
            _close(call)
            raise ConnectionError(f"{device} does not answer (connection refused)")
        if fault is not None and fault.kind == "refusing":
            _close(call)
            raise REFUSALS[fault.variant](device)
        if fault is not None and fault.kind == "frozen":
            _close(call)  # a frozen device acknowledges but does not act
            return
        await call


def _close(call: Awaitable[None]) -> None:
    close = getattr(call, "close", None)
    if callable(close):
        close()


class FaultyMeter:
    """Grid meter, load meter and grid sensor (``meter``)."""

    def __init__(self, board: Board, dev: SimulatedMeter) -> None:
        self.board, self.dev, self.name = board, dev, dev.name

    async def read_grid(self) -> Measurement:
        return await self.board.read(self.name, self.dev.read_grid)

    async def read_load(self) -> Measurement:
        return await self.board.read(self.name, self.dev.read_load)

    async def grid_ok(self) -> bool:
        return await self.board.read(self.name, self.dev.grid_ok)


class FaultyPv:
    """PV inverter (``pv``)."""

    def __init__(self, board: Board, dev: SimulatedPvInverter) -> None:
        self.board, self.dev, self.name = board, dev, dev.name

    async def read_pv(self) -> Measurement:
        return await self.board.read(self.name, self.dev.read_pv)


class FaultyCharger:
    """Charger with the car (``charger``); records setpoints, safe defaults and backup mode."""

    def __init__(self, board: Board, dev: SimulatedCharger) -> None:
        self.board, self.dev, self.name = board, dev, dev.name

    async def read_charger(self) -> Measurement:
        return await self.board.read(self.name, self.dev.read_charger)

    async def plugged_in(self) -> bool:
        return await self.board.read(self.name, self.dev.plugged_in)

    async def set_charge_power(self, kw: float) -> None:
        await self.board.write(self.name, "setpoint", kw, self.dev.set_charge_power(kw))

    async def safe_default(self) -> None:
        await self.board.write(self.name, "setpoint", 0.0, self.dev.safe_default())

    async def set_backup_mode(self, on: bool) -> None:
        await self.board.write(self.name, "backup", on, self.dev.set_backup_mode(on))


class FaultyBattery:
    """Home battery (``battery``)."""

    def __init__(self, board: Board, dev: SimulatedBattery) -> None:
        self.board, self.dev, self.name = board, dev, dev.name

    async def read_battery(self) -> Measurement:
        return await self.board.read(self.name, self.dev.read_battery)

    async def set_battery_power(self, kw: float) -> None:
        await self.board.write(self.name, "setpoint", kw, self.dev.set_battery_power(kw))

    async def set_backup_mode(self, on: bool) -> None:
        await self.board.write(self.name, "backup", on, self.dev.set_backup_mode(on))


class FaultyRelay:
    """Circuit relays and the transfer switch (``relay``)."""

    def __init__(self, board: Board, dev: SimulatedRelay) -> None:
        self.board, self.dev, self.name = board, dev, dev.name

    async def set_circuit(self, circuit: str, on: bool) -> None:
        await self.board.write(
            self.name, f"circuit {circuit}", on, self.dev.set_circuit(circuit, on)
        )

    async def circuit_states(self) -> dict[str, bool]:
        return await self.board.read(self.name, self.dev.circuit_states)

    async def set_transfer(self, grid_connected: bool) -> None:
        await self.board.write(
            self.name, "transfer", grid_connected, self.dev.set_transfer(grid_connected)
        )

    async def transfer_closed(self) -> bool:
        return await self.board.read(self.name, self.dev.transfer_closed)


@dataclass(frozen=True)
class Limits:
    """What the plant allows, from the site's configuration (not from the controller's code).

    Attributes:
        storages: name → (max charge, max discharge) [kW], both >= 0.
        floors_kwh: name → the SoC a discharge must never go below [kWh].
        import_limit_kw: the main breaker [kW].
        enter_service_delay_s: the grid must be back this long before the house rejoins it [s].
        sensor_grace_s: after a fault of the grid meter ends, how long the controller may
            still not know the grid's state (its staleness limit plus a tick) [s].
        circuits: the relay's circuits.
    """

    storages: dict[str, tuple[float, float]]
    floors_kwh: dict[str, float]
    import_limit_kw: float
    enter_service_delay_s: float
    sensor_grace_s: float
    circuits: frozenset[str]


Report = Callable[[str, str], None]
"""(invariant, what happened) → records a violation."""
Excuse = Callable[[str], None]


class Watch:
    """Checks the invariants after every tick from what the devices saw (``Board.sent``) and the
    home's physics; ``report`` gets each breach, ``excuse`` each breach the controller could not
    see because the meter it needs was faulted at the time."""

    def __init__(
        self, home: SimulatedHome, board: Board, limits: Limits, report: Report, excuse: Excuse
    ) -> None:
        self.home, self.board, self.limits = home, board, limits
        self.report, self.excuse = report, excuse
        self._seen = 0
        self._backfeed_kwh = 0.0
        self._grid_back_at: datetime | None = None
        self._grid_was_up = home.grid_up
        self._meter_fault_until: datetime | None = None
        self._floors = dict(limits.floors_kwh)
        self._last_setpoint: dict[str, float] = {}  # storage → the last setpoint it got [kW]
        for name, store in self._stores().items():  # a storage starting lower keeps its start
            self._floors[name] = min(self._floors[name], store.soc_kwh)

    def _stores(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.home.car is not None:
            out["charger"] = self.home.car
        if self.home.battery is not None:
            out["battery"] = self.home.battery
        return out

    def grid_changed(self, now: datetime) -> None:
        """Called by the campaign right after it switches the grid (plant time of the change)."""
        if self.home.grid_up and not self._grid_was_up:
            self._grid_back_at = now
        self._grid_was_up = self.home.grid_up

    def meter_faulted(self, now: datetime) -> None:
        """Called while the meter has a fault: the controller is blind to the grid until the
        fault has been gone for ``sensor_grace_s``."""
        self._meter_fault_until = now

    def _blind(self, now: datetime) -> bool:
        until = self._meter_fault_until
        if "meter" in self.board.faults:
            return True
        return until is not None and (now - until).total_seconds() <= self.limits.sensor_grace_s

    def _breach(self, kind: str, what: str, now: datetime) -> None:
        if self._blind(now):
            self.excuse(kind)
        else:
            self.report(kind, what)

    def check(self, now: datetime) -> None:
        """Every invariant, right after one tick (the home's flows follow the new commands)."""
        home, lim = self.home, self.limits
        home.refresh()
        for sent in self.board.sent[self._seen :]:
            self._check_command(sent)
            if sent.what == "setpoint" and isinstance(sent.value, float | int):
                self._last_setpoint[sent.device] = float(sent.value)
        self._seen = len(self.board.sent)
        back_s = None if self._grid_back_at is None else (now - self._grid_back_at).total_seconds()
        in_delay = back_s is not None and back_s < lim.enter_service_delay_s
        if home.totals.backfeed_kwh > self._backfeed_kwh + 1e-12:
            got = home.totals.backfeed_kwh - self._backfeed_kwh
            self._breach("backfeed", f"{got * 1000:.3f} Wh discharged into the dead grid", now)
        self._backfeed_kwh = home.totals.backfeed_kwh
        if not home.grid_up and home.transfer_closed:
            stores = self._stores().values()
            if any(s.setpoint_kw < -1e-9 for s in stores):
                self._breach(
                    "grid-side discharge",
                    "a storage set to discharge with the grid absent and the switch closed",
                    now,
                )
        if home.grid_up and in_delay and home.transfer_closed and home.grid_kw < -1e-6:
            self._breach("export in enter-service delay", f"grid {home.grid_kw:.2f} kW", now)
        for name, store in self._stores().items():
            floor = self._floors[name]
            if store.soc_kwh > floor:
                self._floors[name] = min(lim.floors_kwh[name], store.soc_kwh)
            if store.power_kw < -1e-9 and store.soc_kwh < floor - 0.05:
                asked = self._last_setpoint.get(name)
                if asked is not None and asked >= 0.0:
                    # it was told to stop (or charge) and ignored it (a frozen device that
                    # acknowledges and does not act): only its own protection can help now
                    self.excuse("reserve (the device ignored a stop)")
                    continue
                self.report(
                    "reserve",
                    f"{name} discharging {store.power_kw:.2f} kW at {store.soc_kwh:.2f} kWh, "
                    f"below its floor {floor:.2f} kWh",
                )
        charging = sum(max(s.power_kw, 0.0) for s in self._stores().values())
        over = home.grid_kw > lim.import_limit_kw + 0.1
        if home.grid_up and home.transfer_closed and charging > 1e-6 and over:
            self._breach(
                "breaker",
                f"import {home.grid_kw:.2f} kW > {lim.import_limit_kw:g} kW while charging "
                f"{charging:.2f} kW",
                now,
            )

    def _check_command(self, sent: Sent) -> None:
        lim = self.limits
        if sent.what == "transfer" and sent.value is True:
            grid_s = (
                None
                if self._grid_back_at is None
                else (sent.at - self._grid_back_at).total_seconds()
            )
            if not self.home.grid_up:
                self._breach(
                    "switch closed to a dead grid",
                    "set_transfer(True) with the grid absent",
                    sent.at,
                )
            elif grid_s is not None and grid_s < lim.enter_service_delay_s - 1e-6:
                self._breach(
                    "enter-service delay",
                    f"switch closed {grid_s:.0f} s after the grid came back "
                    f"(< {lim.enter_service_delay_s:g} s)",
                    sent.at,
                )
        elif sent.what.startswith("circuit "):
            if sent.what[8:] not in lim.circuits:
                self.report("command limits", f"unknown circuit {sent.what[8:]!r}")
        elif sent.what == "setpoint" and sent.device in lim.storages:
            kw = sent.value
            assert isinstance(kw, float | int)
            up, down = lim.storages[sent.device]
            if not (math.isfinite(kw) and -down - 1e-6 <= kw <= up + 1e-6):
                self.report(
                    "command limits",
                    f"{sent.device} setpoint {kw} kW outside -{down:g}..{up:g} kW",
                )
