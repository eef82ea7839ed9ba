"""Clocks: the real one and a virtual one, injected into everything that waits or schedules."""

from __future__ import annotations

import asyncio
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
