"""The status is made when it is read: ``step`` (the simulator's tick) must leave the very status
``tick`` returns, whenever it is read before the next tick, and a recorder or a subscriber must
still get every tick's status.

The scenario goes through everything the status shows: on grid with the car and the battery
following a plan, an outage (islanding, shedding, backup hours), the enter-service wait
(``restoring_remaining_s``), reconnection and its ramp; the shadow baseline's car reaches its
target (48 kWh from 45 kWh at 6.48 kW: at 28 minutes) and stops charging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

import voltbridge.control.controller as controller_module
from tests.control.fakes import ListRecorder
from tests.control.harness import CAR, CAR_KW, Rig, loop_config, rig
from voltbridge.core.status import ControlStatus

TICKS = 70
OUTAGE = (10, 20)  # grid down at tick 10, back at tick 20 (enter-service wait 300 s = 10 ticks)


def home() -> Rig:
    return rig(
        car_soc_kwh=45.0,
        battery_soc_kwh=6.0,
        load_kw=[1.0, 3.0, 6.0, 2.0],
        pv_kw=[0.0, 2.0, 4.0, 1.0],
        plan_kw={CAR: -3.0, "battery": 1.0},
        config=loop_config(tick_s=30.0),
    )


def drive(r: Rig, tick: Callable[[Rig], ControlStatus | None]) -> list[ControlStatus | None]:
    """Run the scenario; ``tick`` makes one tick and says what it saw."""
    seen = []
    for k in range(TICKS):
        if k == OUTAGE[0]:
            r.home.grid_down()
        if k == OUTAGE[1]:
            r.home.grid_restore()
        seen.append(tick(r))
    return seen


def eager(r: Rig) -> ControlStatus:
    status = asyncio.run(r.controller.tick())
    r.home.advance(r.tick_s)
    return status


def read_late(r: Rig) -> ControlStatus | None:
    """A step, then time passes and the home moves on, and only then is the status read."""
    asyncio.run(r.controller.step())
    r.home.advance(r.tick_s)
    return r.controller.status


def test_a_status_read_after_the_step_is_the_one_tick_returns() -> None:
    ticked, stepped = home(), home()
    want = drive(ticked, eager)
    got = drive(stepped, read_late)
    assert {s.grid_state.value for s in want if s is not None} == {
        "on_grid",
        "islanded",
        "restoring",
    }
    assert got == want
    assert stepped.controller.events == ticked.controller.events
    assert stepped.home.totals == ticked.home.totals


def test_statuses_read_now_and_then_are_those_of_their_tick() -> None:
    ticked, stepped = home(), home()
    want = drive(ticked, eager)

    def now_and_then(r: Rig) -> ControlStatus | None:
        asyncio.run(r.controller.step())
        k = r.controller.decisions
        r.home.advance(r.tick_s)
        return r.controller.status if k % 9 == 0 or k == TICKS else None

    got = drive(stepped, now_and_then)
    assert sum(s is not None for s in got) == 8
    assert [s for s in got if s is not None] == [
        w for w, s in zip(want, got, strict=True) if s is not None
    ]
    shadow_car_kw = [
        s.baseline_grid_kw - (s.power.load_kw or 0.0) + (s.power.pv_kw or 0.0)
        for s in (want[0], want[-1])
        if s is not None and s.baseline_grid_kw is not None
    ]
    assert shadow_car_kw == [pytest.approx(CAR_KW), pytest.approx(0.0)]  # it reached its target
    assert stepped.controller.events == ticked.controller.events
    assert stepped.home.totals == ticked.home.totals


def test_a_recorder_and_a_subscriber_get_every_status_of_step() -> None:
    ticked, stepped = home(), home()
    want = drive(ticked, eager)
    recorder = ListRecorder()
    stepped.controller.recording.recorder = recorder

    async def run() -> list[object]:
        queue = stepped.controller.subscribe()
        published: list[object] = []
        for k in range(TICKS):
            if k == OUTAGE[0]:
                stepped.home.grid_down()
            if k == OUTAGE[1]:
                stepped.home.grid_restore()
            await stepped.controller.step()
            stepped.home.advance(stepped.tick_s)
            while not queue.empty():
                item = queue.get_nowait()
                if isinstance(item, ControlStatus):
                    published.append(item)
        return published

    published = asyncio.run(run())
    assert recorder.statuses == want
    assert published == want


def test_a_status_that_cannot_be_made_is_a_failed_tick_never_an_escape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As before statuses were made on read: the tick fails safely, its status is the last one
    with the failure added, and the next tick makes statuses again."""
    r = home()
    r.controller.recording.recorder = (
        ListRecorder()
    )  # a home records every status: made in the tick
    first = asyncio.run(r.controller.safe_tick())
    r.home.advance(r.tick_s)

    def broken(*args: object) -> ControlStatus:
        raise RuntimeError("status bug")

    monkeypatch.setattr(controller_module, "build_status", broken)
    failed = asyncio.run(r.controller.safe_tick())
    assert failed.faults[-1] == "controller: tick failed: RuntimeError: status bug"
    assert failed.at == first.at + timedelta(seconds=r.tick_s)
    assert r.controller.status is failed
    monkeypatch.undo()
    r.home.advance(r.tick_s)
    again = asyncio.run(r.controller.safe_tick())
    assert again.faults == () and again.at == failed.at + timedelta(seconds=r.tick_s)
