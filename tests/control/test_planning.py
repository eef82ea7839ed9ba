"""Replanner: when a plan is due (start, every ``replan_s``, a reason, SoC off plan), none while
the grid is absent, inline or in a worker thread (awaited on ``planning``, never slept on), a
failing source keeping the last plan with a warning, and no plan followed past ``plan_stale_s``."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.control.fakes import ListRecorder, codes
from tests.control.harness import CAR, FakePlans, site
from voltbridge.control.events import EventLog
from voltbridge.control.io import Snapshot
from voltbridge.control.plan_source import PlanState
from voltbridge.control.planning import Replanner
from voltbridge.control.settings import Settings
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventCode, EventKind, NullRecorder, Recorder
from voltbridge.core.types import Measurement, Plan

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
REPLAN_S = 900.0
SOC_OFF_KWH = 2.0
STALE_S = 3 * 3600.0
SETTINGS = Settings()
SOC_PCT = {CAR: 50.0}  # of 60 kWh: the fake plan holds the car at 30 kWh


def snap(soc_kwh: float = 30.0, plugged: bool | None = True) -> Snapshot:
    return Snapshot(
        storages={CAR: Measurement(CAR, T0, 0.0, soc_kwh=soc_kwh)}, plugged_in={CAR: plugged}
    )


class Rig:
    def __init__(
        self,
        in_thread: bool = False,
        recorder: Recorder | None = None,
        plans: FakePlans | None = None,
    ) -> None:
        self.log = EventLog(VirtualClock(T0), NullRecorder())
        self.plans = plans or FakePlans(site())
        self.planner = Replanner(
            self.plans,
            self.log,
            recorder or NullRecorder(),
            replan_s=REPLAN_S,
            soc_replan_kwh=SOC_OFF_KWH,
            plan_stale_s=STALE_S,
            in_thread=in_thread,
        )

    async def astep(self, after_s: float, s: Snapshot | None = None, grid: bool = True) -> None:
        now = T0 + timedelta(seconds=after_s)
        await self.planner.step(s or snap(), now, SOC_PCT, SETTINGS, grid)

    def step(self, after_s: float, s: Snapshot | None = None, grid: bool = True) -> None:
        asyncio.run(self.astep(after_s, s, grid))

    def reasons(self) -> list[object]:
        return [e.data["reason"] for e in self.log.recent if e.code is EventCode.PLAN]


def test_the_first_step_plans_for_the_start_with_what_is_measured() -> None:
    r = Rig()
    r.step(0, snap(plugged=True))
    [state] = r.plans.calls
    assert state == PlanState(T0, SOC_PCT, {CAR: True}, SETTINGS)
    assert r.planner.plan_at == T0 and r.planner.plan is not None
    [event] = r.log.recent
    assert (event.kind, event.code, event.data["reason"]) == (
        EventKind.PLAN,
        EventCode.PLAN,
        "start",
    )
    assert event.message == "new plan (start): bill 1.00 over 192 steps"


def test_a_charger_that_does_not_say_whether_a_car_is_plugged_in_is_left_out() -> None:
    r = Rig()
    r.step(0, snap(plugged=None))
    assert r.plans.calls[0].plugged_in == {}


def test_a_plan_every_replan_s_and_at_once_on_a_reason() -> None:
    r = Rig()
    r.step(0)
    r.step(REPLAN_S - 1)
    assert len(r.plans.calls) == 1
    r.step(REPLAN_S)
    r.planner.request("ev plugged in")
    r.step(REPLAN_S + 2)
    r.step(REPLAN_S + 4)
    assert r.reasons() == ["start", "every 15 minutes", "ev plugged in"]
    assert r.planner.plan_at == T0 + timedelta(seconds=REPLAN_S + 2)


def test_a_soc_off_plan_by_more_than_the_limit_plans_again() -> None:
    r = Rig()
    r.step(0)
    r.step(2, snap(soc_kwh=30.0 + SOC_OFF_KWH))  # exactly at the limit: not yet
    r.step(4, snap(soc_kwh=30.0 - 2.5))
    assert r.reasons() == ["start", f"{CAR} SoC -2.5 kWh off plan"]


def test_no_plan_while_the_grid_is_absent_and_the_reason_waits_for_it() -> None:
    r = Rig()
    r.step(0, grid=False)
    r.planner.request("settings changed (mode)")
    r.step(REPLAN_S * 2, grid=False)
    assert r.plans.calls == [] and r.planner.plan is None
    r.step(REPLAN_S * 2 + 2, grid=True)
    assert r.reasons() == ["settings changed (mode)"]


def test_a_failing_source_is_a_warning_and_the_last_plan_is_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = Rig()
    r.step(0)
    kept = r.planner.plan
    r.plans.fail = True
    r.step(REPLAN_S)
    assert r.planner.plan is kept
    failed = r.log.recent[-1]
    assert (failed.kind, failed.code, failed.data) == (
        EventKind.WARNING,
        EventCode.PLAN_FAILED,
        {"exception": "RuntimeError", "code": "plan-failed"},
    )
    assert failed.message == "planning failed (solver unavailable); following the last plan"
    assert [rec.getMessage() for rec in caplog.records if rec.exc_info] == ["planning failed"]
    r.step(REPLAN_S + 2)  # tried again after replan_s, not every tick
    assert len(r.plans.calls) == 2


def test_a_plan_is_followed_up_to_plan_stale_s_after_it_was_made() -> None:
    r = Rig()
    assert r.planner.followable(T0) is None  # none yet
    r.step(0)
    plan = r.planner.plan
    assert r.planner.followable(T0 + timedelta(seconds=STALE_S)) is plan
    assert r.planner.followable(T0 + timedelta(seconds=STALE_S + 1)) is None


def test_failed_plans_never_make_an_old_plan_look_new() -> None:
    r = Rig()
    r.step(0)
    r.plans.fail = True
    t = 0.0
    while t <= STALE_S:  # every attempt for 3 hours fails
        t += REPLAN_S
        r.step(t)
    assert codes(r.log.recent).count(EventCode.PLAN_FAILED) == STALE_S // REPLAN_S + 1
    assert r.planner.plan_at == T0  # when the plan being followed was made
    assert r.planner.followable(T0 + timedelta(seconds=t)) is None


def test_in_a_worker_thread_the_loop_goes_on_until_the_plan_is_done() -> None:
    gate = threading.Event()
    plans = FakePlans(site())

    class Held(FakePlans):
        def make_plan(self, state: PlanState) -> Plan:
            gate.wait()  # held until the test lets it finish
            return plans.make_plan(state)

    r = Rig(in_thread=True, plans=Held(site()))

    async def body() -> None:
        try:
            await r.astep(0)
            task = r.planner.planning
            assert task is not None and not task.done()
            await r.astep(2)  # the loop ticks on; nothing new is started meanwhile
            r.planner.request("ev plugged in")
            await r.astep(4)
            assert r.planner.planning is task and r.planner.plan is None
        finally:
            gate.set()
        await task
        await r.astep(6)  # takes the finished plan, then starts the one asked for
        assert r.planner.plan_at == T0  # the plan is as of when it was asked for
        second = r.planner.planning
        assert second is not None
        await second
        await r.astep(8)
        assert r.planner.planning is None

    asyncio.run(body())
    assert [s.now for s in plans.calls] == [T0, T0 + timedelta(seconds=6)]
    assert r.reasons() == ["start", "ev plugged in"]


def test_a_plan_failing_in_the_worker_thread_keeps_the_last_one() -> None:
    r = Rig(in_thread=True)

    async def body() -> None:
        await r.astep(0)
        assert r.planner.planning is not None
        await r.planner.planning
        await r.astep(2)
        kept = r.planner.plan
        assert kept is not None
        r.plans.fail = True
        r.planner.request("grid back")
        await r.astep(4)
        assert r.planner.planning is not None
        with pytest.raises(RuntimeError):
            await r.planner.planning
        await r.astep(6)
        assert r.planner.plan is kept and r.planner.planning is None

    asyncio.run(body())
    assert codes(r.log.recent) == [EventCode.PLAN, EventCode.PLAN_FAILED]


def test_cancel_stops_waiting_for_the_worker_thread() -> None:
    gate = threading.Event()

    class Held(FakePlans):
        def make_plan(self, state: PlanState) -> Plan:
            gate.wait()
            return super().make_plan(state)

    r = Rig(in_thread=True, plans=Held(site()))

    async def body() -> None:
        try:
            await r.astep(0)
            task = r.planner.planning
            assert task is not None
            r.planner.cancel()
            assert r.planner.planning is None
            await asyncio.sleep(0)  # let the cancellation land (no time passes)
            assert task.cancelled()
        finally:
            gate.set()

    asyncio.run(body())
    assert r.planner.plan is None and list(r.log.recent) == []


def test_a_plan_is_recorded_as_of_when_it_was_asked_for_and_recording_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = ListRecorder()
    r = Rig(recorder=recorder)
    r.step(0)
    [(at, plan)] = recorder.plans
    assert at == T0
    assert (plan["start"], plan["step_minutes"]) == ("2026-03-01T12:00:00Z", 15)
    broken = Rig(recorder=ListRecorder(fail=True))
    broken.step(0)
    assert broken.planner.plan is not None
    assert [rec.getMessage() for rec in caplog.records if rec.exc_info] == [
        "recording the plan failed"
    ]
