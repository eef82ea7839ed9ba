"""Start-up without noise (issue 15): a charger that has not connected yet when the controller
starts is "waiting for the charger", not a fault, for the grace period of the controller's clock;
it says "connected" when it first answers, and is a fault after the grace period. A device that
has answered once and then stops is a fault at once. All on the virtual clock: no sleeps."""

from __future__ import annotations

from datetime import timedelta

from tests.control.harness import CAR, T0, Rig, loop_config, rig
from voltbridge.core.status import EventCode, EventKind

TICK_S = 10.0
GRACE_S = 120.0


def start() -> Rig:
    config = loop_config(tick_s=TICK_S, connect_grace_s=GRACE_S)
    return rig(car_soc_kwh=30.0, plan_kw={CAR: 5.0}, config=config)


def fault_codes(r: Rig) -> list[EventCode | None]:
    return [e.code for e in r.event_list(EventKind.FAULT)]


def test_a_charger_that_connects_within_the_grace_period_waits_and_is_never_a_fault() -> None:
    r = start()
    r.home.drop(r.devices.charger)
    during = r.run(GRACE_S - 2 * TICK_S)
    assert during.faults == (f"{CAR}: waiting for the charger to connect",)
    assert fault_codes(r) == [EventCode.DEVICE_WAITING]  # one line, not one a tick
    assert r.events(EventKind.FAULT) == [f"{CAR}: waiting for the charger to connect"]
    assert r.car.setpoint_kw == 0.0  # still no command while its data is unknown
    r.home.heal(r.devices.charger)
    after = r.run(3 * TICK_S)
    assert after.faults == ()
    assert fault_codes(r) == [EventCode.DEVICE_WAITING, EventCode.DEVICE_RECOVERED]
    assert r.events(EventKind.FAULT)[-1] == f"{CAR}: connected"
    assert r.car.setpoint_kw == 5.0  # commanded as soon as it answers


def test_a_charger_still_silent_after_the_grace_period_is_a_fault_then() -> None:
    r = start()
    r.home.drop(r.devices.charger)
    r.run(GRACE_S + 3 * TICK_S)
    [waiting, fault] = r.event_list(EventKind.FAULT)
    assert (waiting.code, waiting.at) == (EventCode.DEVICE_WAITING, T0)
    assert fault.code is EventCode.DEVICE_FAULT
    assert fault.at == T0 + timedelta(seconds=GRACE_S)  # the first tick past the grace period
    assert "does not answer" in fault.message
    assert r.statuses[-1].faults[0].startswith(f"{CAR}: does not answer")


def test_a_charger_that_answered_and_then_stops_is_a_fault_at_once() -> None:
    r = start()
    r.run(2 * TICK_S)
    r.home.drop(r.devices.charger)
    stopped_at = r.clock.now()
    r.run(2 * TICK_S)
    [fault] = r.event_list(EventKind.FAULT)
    assert (fault.code, fault.at) == (EventCode.DEVICE_FAULT, stopped_at)  # well within grace
    assert EventCode.DEVICE_WAITING not in fault_codes(r)
