"""``io.within``: a device call under a deadline, with no timer for a call that answers at once.

It must behave as ``async with asyncio.timeout(t): await call`` in every way a device can
answer: at once, after waiting (a coroutine or a bare future), with an error before or after
waiting, never (a timeout), or while the loop cancels the caller. No test here depends on the
wall clock: the loop's clock is the one the deadline is read from, and it is set by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from voltbridge.control.io import within


def on_loop(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(main())  # type: ignore[arg-type]


async def answer_at_once() -> float:
    return 3.0


async def answer_after_waiting() -> float:
    await asyncio.sleep(0)  # yields None to the task
    fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(fut.set_result, 4.0)
    return await fut  # yields the future


def test_an_answer_at_once_needs_no_timer() -> None:
    async def main() -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        scheduled: list[float] = []
        call_at = loop.call_at

        def counted(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
            scheduled.append(when)
            return call_at(when, *args, **kwargs)

        loop.call_at = counted  # type: ignore[method-assign]
        return await within(answer_at_once(), 5.0), len(scheduled)

    assert on_loop(main) == (3.0, 0)


def test_an_answer_after_waiting_comes_through_under_the_deadline() -> None:
    async def main() -> float:
        return await within(answer_after_waiting(), 5.0)

    assert on_loop(main) == 4.0


def test_a_bare_future_is_awaited_too() -> None:
    async def main() -> str:
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(fut.set_result, "ok")
        return await within(fut, 5.0)

    assert on_loop(main) == "ok"


@pytest.mark.parametrize("wait_first", [False, True])
def test_an_error_reaches_the_caller_unchanged(wait_first: bool) -> None:
    async def fails() -> None:
        if wait_first:
            await asyncio.sleep(0)
        raise ConnectionError("refused")

    async def main() -> None:
        await within(fails(), 5.0)

    with pytest.raises(ConnectionError, match="refused"):
        on_loop(main)


def test_a_device_that_never_answers_times_out_and_is_cancelled() -> None:
    seen: list[str] = []

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main() -> None:
        await within(hangs(), 0.0)

    with pytest.raises(TimeoutError):
        on_loop(main)
    assert seen == ["cancelled"]


def test_the_deadline_counts_from_the_call_not_from_its_first_wait() -> None:
    """A driver that blocks 10 s before it first waits has used up a 5 s deadline."""
    clock = [1000.0]

    async def blocks_then_waits() -> None:
        clock[0] += 10.0  # the loop's clock moves on while the driver blocks it
        await asyncio.Event().wait()

    async def main() -> None:
        asyncio.get_running_loop().time = lambda: clock[0]  # type: ignore[method-assign]
        await within(blocks_then_waits(), 5.0)

    with pytest.raises(TimeoutError):
        on_loop(main)


def test_a_cancelled_caller_cancels_the_device_and_stays_cancelled() -> None:
    seen: list[str] = []

    async def slow(ready: asyncio.Event) -> None:
        ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("device cleaned up")

    async def main() -> bool:
        ready = asyncio.Event()
        task = asyncio.ensure_future(within(slow(ready), 5.0))
        await ready.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert on_loop(main) is True
    assert seen == ["device cleaned up"]


def test_a_device_that_catches_its_cancellation_and_answers_is_heard() -> None:
    """What the device does with a cancellation is up to it, as with ``yield from``: here it
    answers anyway, and the caller, whose task was not cancelled by the timeout, gets it."""

    async def stubborn(ready: asyncio.Event) -> str:
        ready.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0)
            return "answered anyway"
        return "never"

    async def main() -> str:
        ready = asyncio.Event()
        inner = asyncio.ensure_future(stubborn(ready))
        await ready.wait()
        inner.cancel()  # the device's own task, not the caller's
        return await within(inner, 5.0)

    assert on_loop(main) == "answered anyway"
