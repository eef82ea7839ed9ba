"""The controller's write edge: every guarded command to its device, with a deadband, timeouts,
safe defaults for faulty devices, and every failure turned into a fault of that device.

A device error (timeout, lost connection, a refusal, ``DeviceError``) is a fault of the device.
Any other exception from a driver is a bug in voltbridge: it is logged with its traceback once,
recorded as a software fault of that device, and the loop goes on; it is never passed off as the
device's own fault.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from voltbridge.control.events import EventLog
from voltbridge.control.faults import FaultBook
from voltbridge.control.io import DeviceSet, within
from voltbridge.control.tracking import toward_zero
from voltbridge.core.status import EventCode, EventKind
from voltbridge.core.types import Command
from voltbridge.devices.capabilities import DEVICE_ERRORS

log = logging.getLogger("voltbridge.control")


class DeviceWriter:
    """Writes commands to the devices of one home (see the module docstring).

    Attributes:
        sent: the last power written per storage [kW] and when.
        safe: storages on their safe default because they are faulty.
    """

    def __init__(
        self,
        devices: DeviceSet,
        faults: FaultBook,
        events: EventLog,
        timeout_s: float,
        deadband_kw: float = 0.05,
        rewrite_s: float = 60.0,
    ) -> None:
        self.devices, self.faults, self.events = devices, faults, events
        self.timeout_s, self.deadband_kw, self.rewrite_s = timeout_s, deadband_kw, rewrite_s
        self.sent: dict[str, tuple[float, datetime]] = {}
        self.safe: set[str] = set()
        self._bugs_logged: set[tuple[str, str]] = set()

    def forget(self, name: str) -> None:
        """``name`` answers again: write its present command at once."""
        self.safe.discard(name)
        self.sent.pop(name, None)

    async def write(self, name: str, call: Coroutine[Any, Any, None], why: str) -> bool:
        """Await one device write within the timeout; any failure is a fault event, never a crash."""
        try:
            await within(call, self.timeout_s)  # no task, unlike wait_for
        except DEVICE_ERRORS as err:
            said = str(err) or type(err).__name__  # TimeoutError() says nothing: name it
            if self.faults.add(name, f"write failed: {said}"):
                self.events.emit(
                    EventKind.FAULT,
                    EventCode.WRITE_FAILED,
                    f"{name}: write failed ({why}): {said}",
                    device=name,
                )
        except Exception as err:
            kind = type(err).__name__
            if (name, kind) not in self._bugs_logged:
                self._bugs_logged.add((name, kind))
                log.exception("driver error writing %s (%s)", name, why)
            if self.faults.add(name, f"driver error: {kind}: {err}"):
                self.events.emit(
                    EventKind.FAULT,
                    EventCode.SOFTWARE_FAULT,
                    f"{name}: software error writing ({why}): {kind}: {err}; please report it",
                    device=name,
                    data={"exception": kind},
                )
        else:
            self.faults.wrote(name)
            return True
        return False

    async def storage_power(self, name: str, kw: float, why: str) -> bool:
        """Write ``kw`` [kW] (+ charging) to the charger or battery ``name``."""
        if name == "battery" and self.devices.battery is not None:
            return await self.write(name, self.devices.battery.set_battery_power(kw), why)
        charger = self.devices.chargers.get(name)
        if charger is None:
            return False
        return await self.write(name, charger.set_charge_power(kw), why)

    async def stop_storages(self, now: datetime, why: str) -> None:
        """Every charger and the battery to 0 kW (the first step of islanding and reconnecting)."""
        names = [*self.devices.chargers, *(["battery"] if self.devices.battery else [])]
        for name in names:
            await self.storage_power(name, 0.0, why)
            self.sent[name] = (0.0, now)

    async def safe_defaults(self, why: str) -> None:
        """Every charger to its safe default and the battery to 0 kW (shutdown)."""
        for name, dev in self.devices.chargers.items():
            await self.write(name, dev.safe_default(), why)
        if self.devices.battery is not None:
            await self.write("battery", self.devices.battery.set_battery_power(0.0), why)

    async def send(self, cmd: Command, now: datetime, force: bool = False) -> None:
        """Write one guarded command, unless it is within the deadband of the last one written
        (a command the guard reduced is always written: its limit is not a matter of taste)."""
        name = cmd.device
        if name in self.faults.read:  # its data cannot be trusted: the safe default
            await self._safe_default(name, now)
            return
        last = self.sent.get(name)
        if (
            name not in self.faults.write  # refused last time: try again every tick
            and last is not None
            and not (force and last[0] != cmd.power_kw)
            and not toward_zero(cmd.power_kw, last[0])
            and abs(last[0] - cmd.power_kw) <= self.deadband_kw
            and (now - last[1]).total_seconds() < self.rewrite_s
            and not (cmd.power_kw == 0.0 and last[0] != 0.0)
        ):
            return
        self.safe.discard(name)  # off its safe default now: a new read fault must send it again
        if await self.storage_power(name, cmd.power_kw, cmd.reason):
            self.sent[name] = (cmd.power_kw, now)
            log.debug("%s <- %.2f kW: %s", name, cmd.power_kw, cmd.reason)

    async def _safe_default(self, name: str, now: datetime) -> None:
        if name in self.safe:
            return
        charger = self.devices.chargers.get(name)
        ok = False
        if charger is not None:
            ok = await self.write(name, charger.safe_default(), "fault: safe default")
        elif name == "battery" and self.devices.battery is not None:
            ok = await self.write(name, self.devices.battery.set_battery_power(0.0), "fault")
        if ok:  # a device that did not take it is tried again next tick
            self.safe.add(name)
            self.sent[name] = (0.0, now)
        else:
            self.sent.pop(name, None)
