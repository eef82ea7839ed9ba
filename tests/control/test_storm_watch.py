"""Storm watch in the controller: an announcement stops discharging below the targets, lets
the plan fill, re-plans, records on/off/cancel, shows itself in the status; an outage that
comes during it is the outage state machine's, unchanged. All on the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from voltbridge.core.status import EventCode, EventKind
from voltbridge.core.types import GridState
from voltbridge.programs.events import AnnouncedOutage
from voltbridge.programs.storm import StormError

from .harness import BAT_KWH, CAR, RESERVE_KWH, T0, TARGET_KWH, loop_config, rig


def announced(start_h: float, hours: float, oid: str = "psps-1") -> AnnouncedOutage:
    start = T0 + timedelta(hours=start_h)
    return AnnouncedOutage(oid, start, start + timedelta(hours=hours))


def storm_events(r) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (str(e.data.get("action")), e.message)
        for e in r.controller.events
        if e.code is EventCode.STORM_WATCH
    ]


def test_announcement_stops_discharge_below_the_target_and_replans() -> None:
    # the plan discharges the car at 5 kW; the car holds 40 kWh, below its 48 kWh target
    r = rig(car_soc_kwh=40.0, plan_kw={CAR: -5.0}, config=loop_config(tick_s=5.0))
    r.run(60)
    assert r.car.setpoint_kw == -5.0
    plans_before = len(r.plans.calls)

    outage = r.controller.announce_outage(announced(6, 12), source="test")
    assert outage.announced_at == r.clock.now()
    status = r.run(60)
    # no discharge at all (below the target), the house imports; a re-plan carried the outage
    assert r.car.setpoint_kw == 0.0
    assert r.home.grid_kw > 0
    assert len(r.plans.calls) == plans_before + 1
    assert r.plans.calls[-1].announced == (outage,)
    assert status.storm_watch.active and status.storm_watch.outage_id == "psps-1"
    assert status.storm_watch.target_kwh == {CAR: TARGET_KWH}
    assert status.storm_watch.start == outage.start and status.storm_watch.end == outage.end
    assert status.to_dict()["storm_watch"]["start"] == "2026-07-08T07:00:00Z"
    assert status.decision == "idle: storm watch: holding 48.0 kWh for the announced outage"
    assert r.events(EventKind.GUARD) == []  # the decision held it, not the guard
    assert [a for a, _ in storm_events(r)] == ["announced", "on"]
    assert storm_events(r)[0][1].startswith(
        "outage announced by test: expected 2026-07-08T07:00:00Z for up to 12 h"
    )


def test_above_the_target_the_car_may_discharge_down_to_it_only() -> None:
    r = rig(car_soc_kwh=TARGET_KWH + 0.5, plan_kw={CAR: -7.2}, config=loop_config(tick_s=60.0))
    r.controller.announce_outage(announced(6, 12), source="test")
    r.run(30 * 60, lambda r, s: None)
    # 0.5 kWh above the target: delivered at 90 %, then held
    assert r.car.soc_kwh == pytest.approx(TARGET_KWH, abs=1e-6)
    assert r.car.setpoint_kw == 0.0


def test_charging_to_fill_is_allowed_during_storm_watch() -> None:
    r = rig(car_soc_kwh=40.0, plan_kw={CAR: 7.2}, config=loop_config(tick_s=5.0))
    r.controller.announce_outage(announced(6, 12), source="test")
    r.run(60)
    assert r.car.setpoint_kw == pytest.approx(7.2)


def test_the_battery_is_held_full_too() -> None:
    r = rig(
        car_soc_kwh=40.0,
        battery_soc_kwh=BAT_KWH,
        plan_kw={CAR: 0.0, "battery": -5.0},
        config=loop_config(tick_s=5.0),
    )
    r.run(30)
    assert r.battery.setpoint_kw < 0
    r.controller.announce_outage(announced(6, 12), source="test")
    status = r.run(30)
    assert r.battery.setpoint_kw == 0.0
    assert status.storm_watch.target_kwh == {CAR: TARGET_KWH, "battery": BAT_KWH}


def test_cancel_ends_storm_watch_and_discharge_resumes() -> None:
    r = rig(car_soc_kwh=40.0, plan_kw={CAR: -5.0}, config=loop_config(tick_s=5.0))
    r.controller.announce_outage(announced(6, 12), source="test")
    r.run(30)
    assert r.car.setpoint_kw == 0.0
    gone = r.controller.cancel_outage("psps-1", source="api")
    assert gone.outage_id == "psps-1"
    status = r.run(30)
    assert r.car.setpoint_kw == -5.0
    assert not status.storm_watch.active and status.storm_watch.announced == 0
    assert r.plans.calls[-1].announced == ()
    assert storm_events(r)[-1] == (
        "cancelled",
        "announced outage psps-1 cancelled by api; storm watch off",
    )
    with pytest.raises(StormError, match="no announced outage 'psps-1'"):
        r.controller.cancel_outage("psps-1", source="api")


def test_storm_watch_comes_on_48_h_ahead_and_goes_off_when_the_window_passes() -> None:
    r = rig(car_soc_kwh=40.0, plan_kw={CAR: -1.0}, config=loop_config(tick_s=600.0))
    r.controller.announce_outage(announced(50, 1), source="test")
    first = r.tick()
    assert not first.storm_watch.active and first.storm_watch.announced == 1
    assert r.car.setpoint_kw == -1.0  # still earning: the window is more than 48 h away
    r.clock.advance(2 * 3600)  # 48 h before the start
    assert r.tick().storm_watch.active
    assert r.car.setpoint_kw == 0.0
    r.clock.advance(49 * 3600)  # the window has passed (the grid never went)
    after = r.tick()
    assert not after.storm_watch.active and after.storm_watch.announced == 0
    assert r.controller.announced_outages() == []
    assert [a for a, _ in storm_events(r)] == ["announced", "on", "off"]
    assert r.plans.calls[-1].announced == ()
    assert any("announced outage psps-1 over" in e.message for e in r.controller.events)


def test_past_or_far_windows_are_refused_without_an_event() -> None:
    r = rig(car_soc_kwh=40.0)
    with pytest.raises(StormError, match="ended"):
        r.controller.announce_outage(announced(-3, 1), source="api")
    with pytest.raises(StormError, match="days ahead"):
        r.controller.announce_outage(announced(15 * 24, 1), source="api")
    assert storm_events(r) == []


def test_an_outage_in_storm_watch_is_handled_as_any_outage() -> None:
    # storm watch on, the car full to its target; the grid goes: the car covers the house
    # below its target, down to the outage floors, as in any outage
    r = rig(car_soc_kwh=TARGET_KWH, plan_kw={CAR: 0.0}, config=loop_config(tick_s=5.0))
    r.controller.announce_outage(announced(0.1, 12), source="test")
    r.run(60)
    assert r.car.setpoint_kw == 0.0
    r.home.grid_down()
    status = r.tick()
    assert status.grid_state is GridState.ISLANDED
    assert status.storm_watch.active
    assert r.car.setpoint_kw < 0  # covering the house
    r.home.advance(5.0)
    r.run(600)
    assert RESERVE_KWH < r.car.soc_kwh < TARGET_KWH
    assert r.home.totals.unserved_kwh == 0.0
    assert EventKind.GRID in {e.kind for e in r.controller.events}
