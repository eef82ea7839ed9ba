"""An asyncio event loop on simulated time: the real networked system, run as fast as it can go.

A demo or test that runs the controller against its network peers (OCPP station, Modbus server)
on a clock sped up from the wall clock depends on the machine: a busy moment of 50 ms at 1800
times real time is 90 simulated seconds in which nothing was read. ``VirtualTimeLoop`` instead
gives every wait of the program (``asyncio.sleep``, timeouts, keep-alive pings, the injected
clock through ``LoopClock``) simulated time, which moves only when the program has nothing left
to do at the present instant: no callback ready, no socket readable, no work out in a thread.
It then jumps to the next timer. A run thus depends on the order of its events alone; a loaded
machine makes it slower, never different.

Limits: replies over sockets are taken as delivered once sent (true on loopback, where the
kernel queues them within the send); a thread other than the executor's is not seen.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import selectors
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

from voltbridge.core.timegrid import ensure_utc

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is simulated seconds, from 0.

    >>> async def nap() -> float:
    ...     await asyncio.sleep(3600.0)  # an hour, at once
    ...     return asyncio.get_running_loop().time()
    >>> loop = VirtualTimeLoop()
    >>> loop.run_until_complete(nap())
    3600.0
    >>> loop.close()
    """

    def __init__(self) -> None:
        self._virtual_s = 0.0
        self._in_threads = 0
        self._timers_set = 0
        super().__init__(_JumpingSelector(self._idle_jump))

    def time(self) -> float:
        return self._virtual_s

    def call_at(
        self,
        when: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        """As ``BaseEventLoop.call_at``, except that timers due at the same instant run in the
        order they were set. asyncio's heap leaves their order to its shape, which every timer
        set and cancelled before changes (a device call that sets no timer, say), and on
        simulated time instants coincide: a run that stops at the instant of a tick would tick
        once more or not, by chance."""
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()  # type: ignore[attr-defined]
        if self.get_debug():
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_at")  # type: ignore[attr-defined]
        self._timers_set += 1
        timer = _Timer(self._timers_set, when, callback, args, self, context)
        if timer._source_traceback:  # type: ignore[attr-defined]
            del timer._source_traceback[-1]  # type: ignore[attr-defined]
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[*Ts], T], *args: *Ts
    ) -> asyncio.Future[T]:
        """As ``loop.run_in_executor``; time stands still until the result is back in the loop."""
        future = super().run_in_executor(executor, func, *args)
        self._in_threads += 1
        future.add_done_callback(self._thread_returned)
        return future

    def _thread_returned(self, _: asyncio.Future[Any]) -> None:
        self._in_threads -= 1

    def _idle_jump(self, timeout_s: float) -> bool:
        """Move time ``timeout_s`` on (to the next timer) unless a thread is still working."""
        if self._in_threads:
            return False
        self._virtual_s += timeout_s
        return True


class _Timer(asyncio.TimerHandle):
    """A timer that runs after the timers due at the same instant that were set before it."""

    __slots__ = ("_set_as",)

    def __init__(
        self,
        set_as: int,
        when: float,
        callback: Callable[..., object],
        args: Sequence[Any],
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context | None = None,
    ) -> None:
        super().__init__(when, callback, args, loop, context)
        self._set_as = set_as

    def __lt__(self, other: asyncio.TimerHandle) -> bool:
        if isinstance(other, _Timer) and self.when() == other.when():
            return self._set_as < other._set_as
        return super().__lt__(other)


class _JumpingSelector(selectors.BaseSelector):
    """The platform's selector, except that waiting for a timer is a jump of simulated time."""

    def __init__(self, jump: Callable[[float], bool]) -> None:
        self._real = selectors.DefaultSelector()
        self._jump = jump

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self._real.select(0)
        if events or (timeout is not None and timeout <= 0):
            return events
        if timeout is not None and self._jump(timeout):
            return []
        # nothing scheduled, or a thread at work: wait for real I/O (a thread's result, a signal)
        return self._real.select(None)

    def close(self) -> None:
        self._real.close()

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()


class LoopClock:
    """The running event loop's time as a ``Clock`` from ``start``: on a ``VirtualTimeLoop`` the
    simulated time every peer of a run shares; ``sleep`` is ``asyncio.sleep``.

    >>> from datetime import UTC
    >>> loop = VirtualTimeLoop()
    >>> clock = LoopClock(datetime(2026, 6, 3, 16, 0, tzinfo=UTC), loop)
    >>> loop.run_until_complete(clock.sleep(90.0))
    >>> clock.now().isoformat()
    '2026-06-03T16:01:30+00:00'
    >>> loop.close()
    """

    def __init__(self, start: datetime, loop: asyncio.AbstractEventLoop) -> None:
        self._start = ensure_utc(start)
        self._loop = loop
        self._t0 = loop.time()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._loop.time() - self._t0)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
