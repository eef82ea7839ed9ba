"""The simulated-time event loop: waits cost no wall time, and time stands still while a socket
reply or a thread's result is on its way, so a run never depends on the machine's speed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from voltbridge.core.virtual_time import LoopClock, VirtualTimeLoop

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())  # type: ignore[arg-type]
    finally:
        loop.close()


def test_sleeps_and_timeouts_run_on_simulated_time() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(86_400.0)  # a day
        day = loop.time()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(60.0), 5.0)
        return day, loop.time()

    assert run(main) == (86_400.0, 86_405.0)


def test_concurrent_sleepers_wake_in_deadline_order() -> None:
    async def main() -> list[tuple[str, float]]:
        loop, seen = asyncio.get_running_loop(), []

        async def every(period_s: float, name: str) -> None:
            for _ in range(3):
                await asyncio.sleep(period_s)
                seen.append((name, loop.time()))

        await asyncio.gather(every(20.0, "a"), every(35.0, "b"))
        return seen

    assert run(main) == [
        ("a", 20.0),
        ("b", 35.0),
        ("a", 40.0),
        ("a", 60.0),
        ("b", 70.0),
        ("b", 105.0),
    ]


def test_a_loopback_exchange_takes_no_simulated_time() -> None:
    async def main() -> tuple[bytes, float]:
        loop = asyncio.get_running_loop()

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write((await reader.readline()).upper())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        ticker = asyncio.create_task(asyncio.sleep(1.0))  # a timer it could jump to
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping\n")
        answer = await reader.readline()
        at = loop.time()
        writer.close()
        server.close()
        await server.wait_closed()
        await ticker
        return answer, at

    assert run(main) == (b"PING\n", 0.0)


def test_time_stands_still_while_a_thread_works() -> None:
    release = threading.Event()

    def slow_job() -> str:
        release.wait(timeout=60)  # a guard only: the main task sets it at once
        return "done"

    async def main() -> tuple[str, float, bool]:
        loop = asyncio.get_running_loop()
        timer = asyncio.create_task(asyncio.sleep(0.001))
        job = asyncio.create_task(asyncio.to_thread(slow_job))
        await asyncio.sleep(0)  # the job is out in its thread; the timer is the next event
        release.set()
        answer = await job
        return answer, loop.time(), timer.done()

    # the thread's answer came before the 1 ms timer: time did not jump while it worked
    assert run(main) == ("done", 0.0, False)


def test_the_loop_clock_tells_simulated_time_from_its_start() -> None:
    loop = VirtualTimeLoop()
    try:
        clock = LoopClock(datetime(2026, 6, 3, 16, 0, tzinfo=UTC), loop)
        loop.run_until_complete(clock.sleep(3600.0))
        assert clock.now() == datetime(2026, 6, 3, 17, 0, tzinfo=UTC)
        loop.run_until_complete(clock.sleep(-5.0))  # never backwards
        assert clock.now() == datetime(2026, 6, 3, 17, 0, tzinfo=UTC)
    finally:
        loop.close()


def test_timers_due_at_one_instant_run_in_the_order_they_were_set() -> None:
    """asyncio's heap orders equal times by its shape: here the timers set and cancelled in
    between made the later timer run first (a run's result must not hang on that)."""
    loop = VirtualTimeLoop()
    order: list[str] = []
    try:
        first = loop.call_at(10.0, order.append, "first")
        between = [loop.call_at(when, order.append, "x") for when in (5.0, 10.0, 10.0)]
        second = loop.call_at(10.0, order.append, "second")
        for timer in between:
            timer.cancel()
        loop.run_until_complete(asyncio.sleep(20.0))  # simulated seconds: returns at once
    finally:
        loop.close()
    assert order == ["first", "second"]
    assert first.when() == second.when() == 10.0
