"""The controller's device edge: one snapshot of every device per tick, with timeouts and checks.

A device that raises, times out or reports values outside physics is a fault for this tick: its
reading is None (never zero) and the reason is kept, so the guard refuses commands that would
depend on it and the controller records the fault once when it starts and once when it clears.
"""

from __future__ import annotations

import asyncio
import math
import types
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from voltbridge.core.types import Measurement
from voltbridge.devices.capabilities import (
    Battery,
    Charger,
    CircuitRelay,
    DeviceError,
    GridSensor,
    LoadMeter,
    Meter,
    PvInverter,
    TransferSwitch,
)

T = TypeVar("T")

MAX_PLAUSIBLE_KW = 1000.0
"""Any power reading beyond this [kW] is a device error, not a home."""


@dataclass
class DeviceSet:
    """The devices of one home, by role; only the meter is required.

    Attributes:
        meter: the grid meter (power, voltage, frequency).
        chargers: each car's charger, by the vehicle's name.
        battery: the home battery.
        pv: the PV inverter.
        grid_sensor: a separate grid-presence sensor (else voltage and frequency decide).
        load_meter: a house-side meter (else load = grid + PV - storages).
        relay: relays on the switchable circuits.
        transfer: the transfer switch; without one the home cannot island, and no storage
            powers the house during an outage.
    """

    meter: Meter
    chargers: dict[str, Charger] = field(default_factory=dict)
    battery: Battery | None = None
    pv: PvInverter | None = None
    grid_sensor: GridSensor | None = None
    load_meter: LoadMeter | None = None
    relay: CircuitRelay | None = None
    transfer: TransferSwitch | None = None


@dataclass
class Snapshot:
    """Everything read in one tick; None where the device failed (see ``faults``)."""

    grid: Measurement | None = None
    grid_ok: bool | None = None
    load: Measurement | None = None
    pv: Measurement | None = None
    storages: dict[str, Measurement | None] = field(default_factory=dict)
    plugged_in: dict[str, bool | None] = field(default_factory=dict)
    circuits: dict[str, bool] | None = None
    transfer_closed: bool | None = None
    faults: dict[str, str] = field(default_factory=dict)
    bugs: dict[str, BaseException] = field(default_factory=dict)
    """Exceptions a driver should never raise, by device (a fault of it, and a bug to report)."""


def check_measurement(
    m: Measurement, capacity_kwh: float | None = None, max_kw: float = MAX_PLAUSIBLE_KW
) -> str | None:
    """Why ``m`` is physically impossible, or None.

    >>> from datetime import UTC, datetime
    >>> check_measurement(Measurement("ev", datetime(2026, 1, 1, tzinfo=UTC), 3.0, soc_kwh=-1.0), 80.0)
    'SoC -1.00 kWh outside 0..80 kWh'
    """
    for name in ("power_kw", "soc_kwh", "voltage_v", "frequency_hz"):
        v = getattr(m, name)
        if v is not None and not math.isfinite(v):
            return f"{name} is {v}"
    if m.power_kw is not None and abs(m.power_kw) > max_kw:
        return f"power {m.power_kw:.1f} kW beyond the plausible {max_kw:g} kW"
    soc, cap = m.soc_kwh, capacity_kwh
    if soc is not None and cap is not None and not -0.01 * cap <= soc <= 1.01 * cap:
        return f"SoC {m.soc_kwh:.2f} kWh outside 0..{capacity_kwh:g} kWh"
    if m.voltage_v is not None and m.voltage_v < 0:
        return f"voltage {m.voltage_v} V below 0"
    return None


@types.coroutine
def _go_on(steps: Any, first: object) -> Generator[object, object, Any]:
    """Go on awaiting ``steps`` (an ``__await__`` iterator that yielded ``first`` to the task):
    what ``yield from`` would do (PEP 380), had it begun the iterator here. Every value the task
    sends and every exception it throws (a cancellation) goes to the iterator."""
    value = first
    while True:
        try:
            sent = yield value
        except GeneratorExit:
            steps.close()
            raise
        except BaseException as err:
            try:
                value = steps.throw(err)
            except StopIteration as done:
                return done.value
        else:
            try:
                value = steps.send(sent)
            except StopIteration as done:
                return done.value


async def within(awaitable: Awaitable[T], timeout_s: float) -> T:
    """``await awaitable``, TimeoutError if it is not done ``timeout_s`` [s] from now.

    The same as ``async with asyncio.timeout(timeout_s): await awaitable``, without its timer
    where none can fire: a timer only fires while the awaitable waits, so its first step runs
    here, and only if it then waits does the rest run under ``asyncio.timeout_at`` the deadline
    taken before it began. An in-process device that answers at once (the simulator's: seven
    to ten calls a tick, 105,000 ticks a simulated year) costs no timer, task or loop pass.
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    steps = awaitable.__await__()
    try:
        first = steps.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    async with asyncio.timeout_at(deadline):
        result = await _go_on(steps, first)
        return result


async def guarded_call(
    name: str,
    call: Callable[[], Awaitable[T]],
    timeout_s: float,
    faults: dict[str, str],
    bugs: dict[str, BaseException] | None = None,
) -> T | None:
    """``await call()`` within ``timeout_s`` [s]; on any failure note it in ``faults`` and return None.

    Whatever one device's read raises is a fault of that device, never of the loop: a timeout,
    a refused connection, data the driver rejects (``DeviceError``), and also an exception no
    driver should raise (an overflow while decoding, a bug); those are kept in ``bugs`` too, so
    the controller can log their traceback once.
    """
    try:
        return await within(call(), timeout_s)  # no extra task, unlike wait_for
    except TimeoutError:
        faults[name] = f"no answer within {timeout_s:g} s"
    except (ConnectionError, OSError) as err:
        faults[name] = f"does not answer: {str(err) or type(err).__name__}"
    except DeviceError as err:
        faults[name] = f"bad data: {err}"
    except Exception as err:
        faults[name] = f"driver error: {type(err).__name__}: {err}"
        if bugs is not None:
            bugs[name] = err
    return None


async def read_snapshot(
    devices: DeviceSet,
    capacities: dict[str, float],
    timeout_s: float,
    relay_every: bool = True,
    concurrent: bool = True,
) -> Snapshot:
    """Read every device, concurrently (network devices answer in parallel) or one after the
    other (in-process devices, where tasks only cost time); ``capacities`` [kWh] by storage
    name bound the SoC check."""
    snap = Snapshot()
    faults, bugs = snap.faults, snap.bugs

    async def grid() -> None:
        snap.grid = await guarded_call("meter", devices.meter.read_grid, timeout_s, faults, bugs)
        if devices.grid_sensor is not None:
            snap.grid_ok = await guarded_call(
                "grid sensor", devices.grid_sensor.grid_ok, timeout_s, faults, bugs
            )

    async def load() -> None:
        if devices.load_meter is not None:
            snap.load = await guarded_call(
                "load meter", devices.load_meter.read_load, timeout_s, faults, bugs
            )

    async def pv() -> None:
        if devices.pv is not None:
            snap.pv = await guarded_call("pv", devices.pv.read_pv, timeout_s, faults, bugs)

    async def charger(name: str, dev: Charger) -> None:
        plugged = await guarded_call(name, dev.plugged_in, timeout_s, faults, bugs)
        snap.plugged_in[name] = plugged
        snap.storages[name] = (
            await guarded_call(name, dev.read_charger, timeout_s, faults, bugs) if plugged else None
        )

    async def battery(dev: Battery) -> None:
        snap.storages["battery"] = await guarded_call(
            "battery", dev.read_battery, timeout_s, faults, bugs
        )
        snap.plugged_in["battery"] = snap.storages["battery"] is not None

    async def relays() -> None:
        if devices.relay is not None and relay_every:
            snap.circuits = await guarded_call(
                "relay", devices.relay.circuit_states, timeout_s, faults, bugs
            )
        if devices.transfer is not None:
            snap.transfer_closed = await guarded_call(
                "transfer switch", devices.transfer.transfer_closed, timeout_s, faults, bugs
            )

    jobs = [grid(), load(), pv(), relays()]
    jobs += [charger(n, d) for n, d in devices.chargers.items()]
    if devices.battery is not None:
        jobs.append(battery(devices.battery))
    if concurrent:
        await asyncio.gather(*jobs)
    else:
        for job in jobs:
            await job
    for key in ("grid", "load", "pv"):
        m = getattr(snap, key)
        if m is not None and (why := check_measurement(m)) is not None:
            faults[{"grid": "meter", "load": "load meter", "pv": "pv"}[key]] = f"bad data: {why}"
            setattr(snap, key, None)
    if snap.pv is not None and snap.pv.power_kw is not None and snap.pv.power_kw < -0.05:
        faults["pv"] = f"bad data: PV power {snap.pv.power_kw:.2f} kW below 0"
        snap.pv = None
    for name, m in list(snap.storages.items()):
        if m is not None and (why := check_measurement(m, capacities.get(name))) is not None:
            faults[name] = f"bad data: {why}"
            snap.storages[name] = None
    return snap
