"""The home's book of paid grid events: what it takes, what it refuses and says, what the plan
gets, and that the controller hands the taken events to its plan source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voltbridge.control.events import EventLog
from voltbridge.control.program_events import KEEP_PAST, EventBook
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventCode, EventKind, NullRecorder
from voltbridge.programs.events import ProgramEvent

T0 = datetime(2026, 7, 14, 20, 0, tzinfo=UTC)


def ev(
    event_id: str, start_h: float, hours: float = 2.0, program: str = "elrp", **kw: object
) -> ProgramEvent:
    start = T0 + timedelta(hours=start_h)
    return ProgramEvent(event_id, program, start, start + timedelta(hours=hours), "reduce", **kw)  # type: ignore[arg-type]


def book(**kw: object) -> tuple[EventBook, EventLog, list[str]]:
    log = EventLog(VirtualClock(T0), NullRecorder())
    asked: list[str] = []
    return EventBook(log, on_change=asked.append, **kw), log, asked  # type: ignore[arg-type]


def codes(log: EventLog) -> list[tuple[EventKind, str]]:
    return [(e.kind, e.message) for e in log.recent if e.data["code"] == EventCode.PROGRAM_EVENT]


def test_a_new_event_is_logged_planned_and_asks_for_a_plan() -> None:
    b, log, asked = book()
    assert b.offer(ev("a", 20), T0)
    assert [e.event_id for e in b.for_plan(T0)] == ["a"]
    assert len(asked) == 1 and "a" in asked[0]
    assert codes(log)[0][0] is EventKind.PROGRAM
    # the same event again changes nothing and asks for nothing
    assert b.offer(ev("a", 20), T0)
    assert len(asked) == 1 and len(codes(log)) == 1


@pytest.mark.parametrize(
    ("offered", "why"),
    [
        (ev("old", -3), "ended"),
        (ev("clash", 21), "overlaps event 'a'"),
    ],
)
def test_refused_events_are_warnings_and_never_planned(offered: ProgramEvent, why: str) -> None:
    b, log, _ = book()
    b.offer(ev("a", 20), T0)
    assert not b.offer(offered, T0)
    kind, message = codes(log)[-1]
    assert kind is EventKind.WARNING and why in message
    assert [e.event_id for e in b.for_plan(T0)] == ["a"]


def test_overlap_with_another_program_is_fine() -> None:
    b, _, _ = book()
    assert b.offer(ev("a", 20), T0) and b.offer(ev("b", 21, program="other"), T0)
    assert [e.event_id for e in b.for_plan(T0)] == ["a", "b"]


def test_the_households_answer_decides_and_survives_a_resend() -> None:
    b, log, _ = book()
    b.offer(ev("a", 20), T0)
    b.choose("a", "skip", "dashboard")
    assert b.for_plan(T0) == () and b.choice("a") == "skip"
    b.offer(ev("a", 20), T0)  # the VTN sends it again, undecided
    assert b.choice("a") == "skip" and b.for_plan(T0) == ()
    assert "skipping" in codes(log)[-1][1]
    with pytest.raises(KeyError):
        b.choose("nope", "skip", "dashboard")


def test_a_skip_by_default_household_plans_only_what_it_said_yes_to() -> None:
    b, _, _ = book(default_choice="skip")
    b.offer(ev("a", 20), T0)
    b.offer(ev("b", 30), T0)
    b.choose("b", "take_part", "api")
    assert [e.event_id for e in b.for_plan(T0)] == ["b"]


def test_asking_more_than_the_home_can_give_is_taken_and_said() -> None:
    b, log, _ = book(max_export_kw=11.5)
    assert b.offer(ev("big", 20, requested_kw=20.0), T0)
    kind, message = codes(log)[-1]
    assert kind is EventKind.WARNING and "at most 11.5 kW" in message


def test_cancel_and_expiry() -> None:
    b, _, asked = book()
    b.offer(ev("a", 20), T0)
    assert b.cancel("a", "vtn") and not b.cancel("a", "vtn")
    assert b.for_plan(T0) == () and "cancelled" in asked[-1]
    b.offer(ev("c", 1), T0)
    later = T0 + timedelta(hours=3)
    assert b.for_plan(later) == ()  # over: not planned, still listed
    assert [e.event_id for e in b.all(later)] == ["c"]
    assert b.all(T0 + KEEP_PAST + timedelta(hours=4)) == []


def test_the_controller_plans_with_the_events_taken_and_replans_on_an_answer() -> None:
    from tests.control.harness import rig

    r = rig()
    r.tick()  # the first plan, with no event
    assert r.plans.calls[-1].events == ()
    now = r.clock.now()
    taken = ProgramEvent("e1", "elrp", now + timedelta(hours=2), now + timedelta(hours=4), "export")
    assert r.controller.programs.offer(taken, now)
    r.tick()  # a new event asks for a plan at once
    assert [e.event_id for e in r.plans.calls[-1].events] == ["e1"]
    r.controller.programs.choose("e1", "skip", "dashboard")
    r.tick()
    assert r.plans.calls[-1].events == ()
    assert len(r.plans.calls) == 3
    assert any("grid event 'e1'" in m for m in r.events(EventKind.PROGRAM))


def test_the_window_is_metered_and_its_end_said_once() -> None:
    """Readings every 15 min, each held until the next: 2 kW import read at 20:00 and 20:15,
    -4 kW (export) at 20:30 and 20:45, no reading from 21:00. A 20:15-21:15 window:
    0.25 h x 2 kW drawn, 0.5 h x 4 kW sent, the last 15 min unmetered."""
    b, log, _ = book()
    b.offer(ev("w", 0.25, hours=1.0), T0)
    readings = [2.0, 2.0, -4.0, -4.0, None, None]
    for k, kw in enumerate(readings):
        b.note_grid(T0 + timedelta(minutes=15 * k), kw)
    meter = b.meters["w"]
    assert meter.import_kwh == pytest.approx(0.25 * 2.0)
    assert meter.export_kwh == pytest.approx(0.5 * 4.0)
    assert meter.measured_h == pytest.approx(0.75)
    over = [m for _, m in codes(log) if "over" in m]
    assert len(over) == 1 and "0.50 kWh drawn" in over[0] and "75 % of it metered" in over[0]
    b.note_grid(T0 + timedelta(hours=3), 1.0)
    assert len([m for _, m in codes(log) if "over" in m]) == 1


def test_a_configured_book_takes_only_the_sites_programs_with_their_defaults() -> None:
    b, log, _ = book()
    b.configure({"elrp": "take_part", "pilot": "skip"})
    assert not b.offer(ev("x", 20, program="unknown"), T0)
    assert "takes part in no program 'unknown'" in codes(log)[-1][1]
    assert b.offer(ev("a", 20), T0) and b.offer(ev("p", 20, program="pilot"), T0)
    assert [e.event_id for e in b.for_plan(T0)] == ["a"]  # the pilot asks first
    b.choose("p", "take_part", "dashboard")
    assert [e.event_id for e in b.for_plan(T0)] == ["a", "p"]
    with pytest.raises(ValueError, match="take_part or skip"):
        b.configure({"elrp": "undecided"})


def test_grid_readings_reach_the_listeners_and_a_failing_one_is_said() -> None:
    b, log, _ = book()
    seen: list[tuple[datetime, float]] = []

    def broken(at: datetime, kw: float) -> None:
        raise RuntimeError("report queue full")

    b.grid_listeners += [lambda at, kw: seen.append((at, kw)), broken]
    b.note_grid(T0, 1.5)
    b.note_grid(T0 + timedelta(minutes=1), None)  # no reading: nothing handed on
    assert seen == [(T0, 1.5)]
    assert any("report queue full" in e.message for e in log.recent)
