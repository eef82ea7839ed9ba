"""``optimal``'s ticks in the simulator: run at once (``run_now``), never a fault, and the same
run as on the event loop (the way the simulator ran them before, and the way a home runs them).

A simulated home's devices answer at once and never fail, so any fault event in a simulated
run means the bridge or the driver went wrong (a device call that waits outside a task, say).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.core.status import EventKind
from voltbridge.sim import controlled
from voltbridge.sim.controlled import ControlledOptimal, run_now
from voltbridge.sim.outages import parse_outage
from voltbridge.sim.runner import run
from voltbridge.sim.types import SimTrace
from voltbridge.sim.world import World, build_world

T = TypeVar("T")
EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "voltbridge" / "examples"


def world_with_outage() -> World:
    """Two July days on the F-150 example with a 5-hour evening outage on the first."""
    site = load_site(EXAMPLES / "f150-outage-sonoma.toml")
    tz = site.location.timezone
    outage = parse_outage("2026-07-07T19:00/5h", tz)
    return build_world(site, datetime(2026, 7, 7, tzinfo=ZoneInfo(tz)), 2, 0, [outage])


def simulate(world: World) -> tuple[SimTrace, ControlledOptimal]:
    strategy = ControlledOptimal()
    return run(world, strategy), strategy


def test_a_simulated_home_has_every_tick_and_no_fault() -> None:
    world = world_with_outage()
    trace, strategy = simulate(world)
    assert strategy.controller is not None
    assert strategy.controller.decisions == world.n_sim
    assert (~trace.on_grid).sum() > 5 * 12  # islanded through the outage and the wait after
    kinds = {e.kind for e in strategy.controller.events}
    assert EventKind.GRID in kinds and EventKind.FAULT not in kinds


def test_ticks_run_at_once_are_the_ticks_run_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = world_with_outage()
    fast, _ = simulate(world)

    def on_the_loop(loop: asyncio.AbstractEventLoop, tick: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(tick)

    monkeypatch.setattr(controlled, "run_now", on_the_loop)
    slow, _ = simulate(world)
    assert np.array_equal(fast.grid_kw, slow.grid_kw)
    assert np.array_equal(fast.shed_kw, slow.shed_kw)
    assert np.array_equal(fast.on_grid, slow.on_grid)
    for a, b in zip(fast.storages, slow.storages, strict=True):
        assert np.array_equal(a.power_kw, b.power_kw) and np.array_equal(a.soc_kwh, b.soc_kwh)


def test_run_now_gives_the_result_or_the_error_and_refuses_a_tick_that_waits() -> None:
    loop = asyncio.new_event_loop()
    seen: list[asyncio.AbstractEventLoop] = []

    async def answers() -> int:
        seen.append(asyncio.get_running_loop())
        return 7

    async def fails() -> None:
        raise ValueError("bad tick")

    async def waits() -> None:
        await asyncio.sleep(0)

    try:
        assert run_now(loop, answers()) == 7 and seen == [loop]
        with pytest.raises(ValueError, match="bad tick"):
            run_now(loop, fails())
        with pytest.raises(RuntimeError, match="tick waited"):
            run_now(loop, waits())
        assert asyncio.events._get_running_loop() is None  # as it was
    finally:
        loop.close()


def test_run_now_inside_a_running_loop_is_refused_as_run_until_complete_does() -> None:
    inner = asyncio.new_event_loop()

    async def tick() -> int:
        return 1

    async def main() -> None:
        with pytest.raises(RuntimeError, match="another loop is running"):
            run_now(inner, tick())

    try:
        asyncio.run(main())
    finally:
        inner.close()
