"""The transfer switch during a run: an opening that failed is retried, backup (grid-forming)
operation waits for the switch to open, and a switch found open while on grid islands the home
as at start-up (the enter-service delay then runs in full before it closes again)."""

from __future__ import annotations

import pytest

from tests.control.harness import CAR, Rig, loop_config, rig
from voltbridge.core.status import ControlStatus, EventCode, EventKind
from voltbridge.core.types import GridState


def outage_rig() -> Rig:
    r = rig(car_soc_kwh=40.0, load_kw=1.0, plan_kw={CAR: 0.0}, config=loop_config(tick_s=5.0))
    r.run(30)
    return r


def no_backfeed(r: Rig, status: ControlStatus) -> None:
    if not r.home.grid_up and r.home.transfer_closed:
        assert r.car.setpoint_kw >= 0.0
        assert r.home.backup_mode.get("charger") is not True


def test_a_switch_that_did_not_open_is_opened_again_when_it_answers() -> None:
    r = outage_rig()
    r.home.drop(r.devices.relay)
    r.home.grid_down()
    r.run(30, no_backfeed)  # the opening fails: nothing discharges, no grid is formed
    assert r.home.transfer_closed
    assert r.home.backup_mode.get("charger") is not True
    assert r.car.setpoint_kw == 0.0
    assert r.home.unserved_kw > 0.0  # the house is dark, as it must be with the switch closed

    r.home.heal(r.devices.relay)
    status = r.run(10, no_backfeed)
    assert not r.home.transfer_closed
    assert r.home.backup_mode == {"charger": True}
    assert status.grid_state is GridState.ISLANDED
    assert r.car.setpoint_kw == pytest.approx(-r.home.load_kw)  # the car carries the house
    assert r.home.unserved_kw == 0.0
    assert r.home.totals.backfeed_kwh == 0.0
    reopened = [
        e
        for e in r.event_list(EventKind.WARNING)
        if e.data.get("code") == EventCode.SWITCH_REOPENED
    ]
    assert len(reopened) == 1  # once per outage, however many ticks it takes


def test_a_switch_found_open_on_grid_islands_the_home_until_the_full_delay() -> None:
    r = outage_rig()
    r.home.set_transfer(False)  # opened by hand (or a reconnection that did not close it)
    status = r.tick()
    assert status.grid_state is GridState.ISLANDED
    assert r.home.backup_mode == {"charger": True}
    assert "transfer switch read open while on grid" in r.events(EventKind.GRID)[-1]
    r.home.advance(5.0)
    r.run(60)
    assert r.home.unserved_kw == 0.0 and r.car.setpoint_kw < 0.0  # served from the car
    delay_s = r.controller.grid.limits.enter_service_delay_s
    r.run(delay_s - 60 - 10)
    assert not r.home.transfer_closed  # grid normal, but not yet for the whole delay
    r.run(20)
    assert r.home.transfer_closed and r.home.backup_mode == {"charger": False}
    assert r.statuses[-1].grid_state is GridState.ON_GRID
