"""Clocks: the real one and a virtual one, injected into everything that waits or schedules."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from voltbridge.core.timegrid import ensure_utc


class Clock(Protocol):
    """Tells the time (aware UTC) and sleeps."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """A clock that moves only when told to (tests) or ``speed`` times faster than real time (demos).

    >>> c = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    >>> c.advance(90); c.now().isoformat()
    '2026-01-01T00:01:30+00:00'
    """

    def __init__(self, start: datetime, speed: float | None = None) -> None:
        self._now = ensure_utc(start)
        self._speed = speed

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        if self._speed:
            await asyncio.sleep(seconds / self._speed)
        else:
            await asyncio.sleep(0)
        self.advance(seconds)


class ScaledClock:
    """Real time, ``speed`` times faster, from ``start``: a demo that shows a day in minutes.

    Unlike ``VirtualClock`` (which moves when told), every task sleeping on it shares one
    time line, so concurrent peers (charger simulator, Modbus server, controller) stay in step.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed is {speed}; give a factor > 0")
        self._start = ensure_utc(start)
        self._speed = speed
        self._m0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._m0) * self._speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)
