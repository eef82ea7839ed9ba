"""Tiny device fakes for the unit tests of the controller's parts: each records every call it is
given (also the ones it then fails) and raises ``fail`` on demand, so a test can check exactly
what a device saw without a simulated home."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, settings

from voltbridge.core.status import ControlEvent, EventCode
from voltbridge.core.types import Measurement

FAST_ENOUGH = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""For property tests: no test may depend on the machine's speed, so no per-example deadline."""


class FakeDevice:
    """Records ``(method, argument)`` per call; raises ``fail`` (when set) after recording it.

    ``hang`` makes every write wait for ever (until cancelled), as a device that never answers;
    ``journal``, when given, gets ``(name, method, argument)`` of every call, to check the order
    of calls across devices.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, Any]] = []
        self.journal: list[tuple[str, str, Any]] | None = None
        self.fail: BaseException | None = None
        self.hang = False

    async def _do(self, method: str, arg: Any = None) -> None:
        self.calls.append((method, arg))
        if self.journal is not None:
            self.journal.append((self.name, method, arg))
        if self.hang:
            await asyncio.Event().wait()
        if self.fail is not None:
            raise self.fail


class FakeCharger(FakeDevice):
    """A charger (no backup operation)."""

    def __init__(self, name: str = "ev") -> None:
        super().__init__(name)
        self.reading: Measurement | None = None
        self.plugged = True

    async def read_charger(self) -> Measurement:
        assert self.reading is not None
        return self.reading

    async def plugged_in(self) -> bool:
        return self.plugged

    async def set_charge_power(self, kw: float) -> None:
        await self._do("set_charge_power", kw)

    async def safe_default(self) -> None:
        await self._do("safe_default")


class FakeBackupCharger(FakeCharger):
    """A charger that can form the house's grid; ``backup_error`` makes reading its mode fail."""

    def __init__(self, name: str = "ev", backup: bool = False) -> None:
        super().__init__(name)
        self.backup = backup
        self.backup_error: BaseException | None = None

    async def set_backup_mode(self, on: bool) -> None:
        await self._do("set_backup_mode", on)
        self.backup = on

    async def backup_mode(self) -> bool:
        if self.backup_error is not None:
            raise self.backup_error
        return self.backup


class FakeBattery(FakeDevice):
    """A home battery (no backup operation)."""

    def __init__(self) -> None:
        super().__init__("battery")

    async def read_battery(self) -> Measurement:
        raise AssertionError("not read in these tests")

    async def set_battery_power(self, kw: float) -> None:
        await self._do("set_battery_power", kw)


class FakeSwitch(FakeDevice):
    """A transfer switch, closed (home on the grid) unless told otherwise."""

    def __init__(self, closed: bool = True) -> None:
        super().__init__("transfer switch")
        self.closed = closed

    async def set_transfer(self, grid_connected: bool) -> None:
        await self._do("set_transfer", grid_connected)
        self.closed = grid_connected

    async def transfer_closed(self) -> bool:
        return self.closed


class FakeMeter:
    """A grid meter that is never read by the unit under test."""

    async def read_grid(self) -> Measurement:
        raise AssertionError("not read in these tests")


class ListRecorder:
    """Keeps what it is given; ``fail`` makes every call raise (a full disk)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.events: list[ControlEvent] = []
        self.plans: list[tuple[datetime, dict[str, Any]]] = []
        self.statuses: list[object] = []

    def record_status(self, status: object) -> None:
        if self.fail:
            raise OSError("disk full")
        self.statuses.append(status)

    def record_event(self, event: ControlEvent) -> None:
        if self.fail:
            raise OSError("disk full")
        self.events.append(event)

    def record_plan(self, at: datetime, plan: dict[str, Any]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.plans.append((at, plan))


def codes(events: Any) -> list[EventCode | None]:
    """The codes of ``events`` (ControlEvents), in order."""
    return [e.code for e in events]
