"""Faults that used to stop or mislead the controller (issue 10): a device raising anything while
read or written, a tick that raises, a restart with the transfer switch open, unknown shown as
unknown, planning beside the loop, a clock stepping back, and the bounded event list.

Each test checks what the simulated home saw (its switch, its setpoints, its energy totals) or
the status and events as the household sees them, never the controller's private state.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.control.harness import CAR, T0, FakePlans, Rig, loop_config, rig
from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.plan_source import PlanState
from voltbridge.core.status import ControlStatus, EventCode, EventKind
from voltbridge.core.types import GridState, Measurement, Plan
from voltbridge.devices.ocpp.charger import ChargerRejectedError


class BrokenMeter:
    """The rig's meter, raising ``error`` on every read while ``broken``."""

    def __init__(self, meter: Any, error: Exception) -> None:
        self.meter, self.error, self.broken = meter, error, True
        self.name = "meter"

    async def read_grid(self) -> Measurement:
        if self.broken:
            raise self.error
        m: Measurement = await self.meter.read_grid()
        return m

    async def read_load(self) -> Measurement:
        if self.broken:
            raise self.error
        m: Measurement = await self.meter.read_load()
        return m


def codes(r: Rig) -> list[EventCode | None]:
    return [e.code for e in r.controller.events]


@pytest.mark.parametrize(
    "error",
    [OverflowError("(34, 'Numerical result out of range')"), RuntimeError("driver bug")],
)
def test_any_exception_from_a_meter_is_a_fault_of_the_meter_and_the_loop_goes_on(
    error: Exception,
) -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.run(20)
    broken = BrokenMeter(r.devices.meter, error)
    r.controller.devices.meter = broken
    r.controller.devices.load_meter = broken
    before = r.statuses[-1].at
    during = r.run(30)
    assert during.at == before + timedelta(seconds=30)  # still ticking
    assert any(f.startswith(f"meter: driver error: {type(error).__name__}") for f in during.faults)
    assert during.grid_state is GridState.UNKNOWN
    assert during.power.grid_kw is None and during.power.load_kw is None
    assert r.car.setpoint_kw == 0.0  # nothing discharges while the grid cannot be seen
    bugs = [e.device for e in r.controller.events if e.code is EventCode.SOFTWARE_FAULT]
    assert sorted(bugs) == ["load meter", "meter"]  # one event a device, not one a tick
    broken.broken = False
    after = r.run(10)
    assert after.faults == () and after.grid_state is GridState.ON_GRID
    assert r.controller.events[-1].code is not EventCode.SOFTWARE_FAULT
    assert "meter: answering again with fresh data" in r.events(EventKind.FAULT)
    assert "load meter: answering again with fresh data" in r.events(EventKind.FAULT)
    assert r.car.setpoint_kw == -5.0
    assert r.home.totals.grid_export_kwh == 0.0


class FailingRecorder:
    """Raises on the first ``fail`` statuses, then records them."""

    def __init__(self, fail: int) -> None:
        self.fail, self.statuses = fail, list[ControlStatus]()

    def record_status(self, status: ControlStatus) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise OSError("disk full")
        self.statuses.append(status)

    def record_event(self, event: object) -> None:
        pass

    def record_plan(self, at: datetime, plan: dict[str, Any]) -> None:
        pass


def test_a_failing_store_is_a_fault_of_the_store_and_the_house_keeps_its_power() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    recorder = FailingRecorder(fail=3)
    r.controller = Controller(
        r.site, r.controller.devices, r.plans, r.clock, loop_config(), recorder
    )
    r.run(20)
    assert r.car.setpoint_kw == -5.0  # the disk is full, the car still covers the house
    store = [(e.code, e.message) for e in r.controller.events if e.device == "store"]
    assert store == [
        (EventCode.DEVICE_FAULT, "store: recording failed (OSError: disk full); the loop goes on"),
        (EventCode.DEVICE_RECOVERED, "store: recording again"),
    ]
    assert len(recorder.statuses) == 10 - 3


def test_a_tick_that_raises_never_ends_the_loop_and_says_so() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    ctl = Controller(r.site, r.controller.devices, r.plans, r.clock, loop_config())
    step, fails = ctl.planner.step, [3]

    async def failing_step(*args: Any, **kwargs: Any) -> None:
        if fails[0] > 0:  # a bug anywhere in the tick, here in planning's bookkeeping
            fails[0] -= 1
            raise RuntimeError("bug in the tick")
        await step(*args, **kwargs)

    ctl.planner.step = failing_step  # type: ignore[method-assign]
    seen: list[ControlStatus] = []

    async def body() -> None:
        q = ctl.subscribe()
        await ctl.run(ticks=6)
        while not q.empty():
            item = q.get_nowait()
            if isinstance(item, ControlStatus):
                seen.append(item)

    asyncio.run(body())
    ats = [s.at for s in seen]
    assert len(ats) == 6 and ats == sorted(set(ats))  # a status every tick, `at` advancing
    assert [s.decision.startswith("safe default") for s in seen] == [True] * 3 + [False] * 3
    assert seen[0].grid_state is GridState.UNKNOWN and seen[0].power.grid_kw is None
    failed = [e for e in ctl.events if e.code is EventCode.TICK_FAILED]
    assert [e.kind for e in failed] == [EventKind.FAULT, EventKind.MODE]  # failing, then normal
    assert "bug in the tick" in failed[0].message
    assert ctl.events[-1].code is EventCode.STOPPED


class RefusingCharger:
    """The rig's charger, refusing (or failing on) every setpoint while ``refusing``."""

    def __init__(self, charger: Any, error: Exception) -> None:
        self.charger, self.error, self.refusing = charger, error, True
        self.name = "charger"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.charger, name)

    async def set_charge_power(self, kw: float) -> None:
        if self.refusing:
            raise self.error
        await self.charger.set_charge_power(kw)


def test_a_charger_refusing_commands_is_a_write_fault_retried_until_it_takes_them() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    charger = RefusingCharger(r.devices.charger, ChargerRejectedError("refused: Rejected"))
    r.controller.devices.chargers[CAR] = charger  # type: ignore[assignment]
    during = r.run(20)
    assert r.car.setpoint_kw == 0.0
    assert during.faults == (f"{CAR}: write failed: refused: Rejected",)
    assert codes(r).count(EventCode.WRITE_FAILED) == 1
    charger.refusing = False
    after = r.run(4)
    assert r.car.setpoint_kw == -5.0 and after.faults == ()
    assert f"{CAR}: takes commands again" in r.events(EventKind.FAULT)


def test_a_driver_bug_on_write_is_a_software_fault_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    charger = RefusingCharger(r.devices.charger, KeyError("setpointL2"))
    r.controller.devices.chargers[CAR] = charger  # type: ignore[assignment]
    r.run(10)
    bug = [e for e in r.controller.events if e.code is EventCode.SOFTWARE_FAULT]
    assert len(bug) == 1 and "please report it" in bug[0].message
    tracebacks = [rec for rec in caplog.records if rec.exc_info is not None]
    assert len(tracebacks) == 1 and "driver error writing ev" in tracebacks[0].getMessage()


# --- a restart --------------------------------------------------------------------------------


def restarted(r: Rig) -> Controller:
    """A new controller on the same devices and home, as after the process was restarted."""
    return Controller(r.site, r.controller.devices, r.plans, r.clock, loop_config())


def islanded_rig() -> Rig:
    r = rig(car_soc_kwh=40.0, load_kw=1.0, plan_kw={CAR: 0.0})
    r.run(10)
    r.home.grid_down()
    r.run(10)
    assert not r.home.transfer_closed and r.home.backup_mode.get("charger") is True
    return r


def test_a_restart_on_a_live_grid_with_the_switch_open_reconnects_after_the_delay() -> None:
    r = islanded_rig()
    r.home.grid_restore()
    r.controller = restarted(r)
    first = r.run(2)
    assert first.grid_state is GridState.RESTORING  # not on_grid with the switch open
    assert not r.home.transfer_closed
    reconciled = [e for e in r.controller.events if e.code is EventCode.RECONCILED]
    assert len(reconciled) == 1 and "transfer switch found open" in reconciled[0].message
    r.run(290)  # the enter-service delay (300 s) has not passed yet
    assert not r.home.transfer_closed
    last = r.run(20)
    assert r.home.transfer_closed and last.grid_state is GridState.ON_GRID
    assert r.home.backup_mode.get("charger") is False
    assert r.home.totals.backfeed_kwh == 0.0 and r.home.totals.grid_export_kwh == 0.0


def test_a_restart_during_the_outage_stays_islanded_and_serves_the_house() -> None:
    r = islanded_rig()
    unserved = r.home.totals.unserved_kwh
    r.controller = restarted(r)
    status = r.run(60)
    assert status.grid_state is GridState.ISLANDED and not r.home.transfer_closed
    assert r.home.backup_mode.get("charger") is True
    assert r.car.power_kw < 0  # the car covers the house
    assert r.home.totals.unserved_kwh == pytest.approx(unserved, abs=0.01)
    assert r.home.totals.backfeed_kwh == 0.0


def test_a_restart_that_finds_backup_mode_on_a_closed_switch_leaves_it() -> None:
    r = rig(car_soc_kwh=40.0, load_kw=1.0)
    r.home.backup_mode["charger"] = True
    status = r.run(4)
    assert status.grid_state is GridState.ON_GRID
    assert r.home.backup_mode["charger"] is False
    assert [e.code for e in r.controller.events].count(EventCode.RECONCILED) == 1


# --- unknown is shown as unknown ---------------------------------------------------------------


def test_every_device_silent_shows_unknown_not_a_quiet_house() -> None:
    r = rig(car_soc_kwh=30.0, battery_soc_kwh=5.0, load_kw=2.0)
    for dev in r.devices.all():
        r.home.drop(dev)
    status = r.run(10)
    body = json.loads(json.dumps(status.to_dict()))
    assert body["grid_state"] == "unknown"
    assert body["power_kw"]["grid"] is None and body["power_kw"]["load"] is None
    assert body["power_kw"]["pv"] is None and body["power_kw"]["battery"] is None
    car = body["vehicles"][CAR]
    assert car["plugged_in"] is None and car["power_kw"] is None and car["soc_kwh"] is None
    assert body["battery"]["soc_kwh"] is None and body["battery"]["power_kw"] is None
    assert r.car.setpoint_kw == 0.0 and r.battery.setpoint_kw == 0.0


# --- planning beside the loop -----------------------------------------------------------------


@dataclass
class SlowPlans:
    """A plan source that blocks until released (a long HiGHS solve)."""

    inner: FakePlans
    release: threading.Event
    threads: list[int]

    def make_plan(self, state: PlanState) -> Plan:
        self.threads.append(threading.get_ident())
        self.release.wait(timeout=30)  # only reached in full when planning blocks the tick
        return self.inner.make_plan(state)


def test_planning_runs_in_a_worker_thread_while_the_loop_ticks() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    plans = SlowPlans(r.plans, threading.Event(), [])
    ctl = Controller(
        r.site, r.controller.devices, plans, r.clock, ControlConfig(plan_in_thread=True)
    )

    async def body() -> tuple[bool, Plan | None]:
        await ctl.tick()
        blocked = not plans.release.is_set() and ctl.plan is None
        r.home.advance(2)
        await ctl.tick()  # the loop goes on while the plan is being made
        plans.release.set()
        pending = ctl.planner.planning
        assert pending is not None
        await asyncio.wait([pending])
        r.home.advance(2)
        await ctl.tick()
        return blocked, ctl.plan

    blocked, plan = asyncio.run(body())
    assert blocked and plan is not None
    assert plans.threads and plans.threads[0] != threading.get_ident()
    assert sum(e.code is EventCode.PLAN for e in ctl.events) == 1


# --- the clock steps back ---------------------------------------------------------------------


class SteppedClock:
    """The rig's clock, shifted by ``offset``: set it negative to step the controller's clock back."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.offset = inner, timedelta(0)

    def now(self) -> datetime:
        t: datetime = self.inner.now() + self.offset
        return t

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def test_a_clock_stepping_back_is_flagged_and_the_loop_goes_on_safely() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    clock = SteppedClock(r.clock)
    r.controller = Controller(r.site, r.controller.devices, r.plans, clock, loop_config())
    r.run(20)
    clock.offset = -timedelta(hours=1)
    status = r.run(10)
    assert status.at == r.clock.now() - timedelta(hours=1, seconds=2)
    back = [e for e in r.controller.events if e.code is EventCode.CLOCK_BACK]
    assert len(back) == 1 and back[0].data["back_s"] == pytest.approx(3598.0)
    assert f"{CAR}: clock mismatch: reading dated 3600 s in the future" in status.faults
    plans = [e for e in r.controller.events if e.code is EventCode.PLAN]
    assert "clock stepped back" in plans[-1].data["reason"]
    assert r.home.totals.grid_export_kwh == 0.0


# --- events ------------------------------------------------------------------------------------


def test_the_event_list_is_bounded_and_every_event_is_typed() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, config=loop_config(keep_events=5))
    for _ in range(6):
        r.home.drop(r.devices.charger)
        r.run(4)
        r.home.heal(r.devices.charger)
        r.run(4)
    events = r.controller.events
    assert len(events) == 5
    assert all(e.code is not None for e in events)
    assert events[-1].at == T0 + timedelta(seconds=44)
