"""FaultBook: read faults taken fresh from every snapshot (stale data included), write faults until
a write succeeds, one event when a device's fault starts and one when it ends, and a driver bug's
traceback logged once per device and kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.control.fakes import FAST_ENOUGH, codes
from voltbridge.control.events import EventLog
from voltbridge.control.faults import FaultBook
from voltbridge.control.io import Snapshot
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventCode, EventKind, NullRecorder
from voltbridge.core.types import Measurement

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
STALE_S = 30.0  # storages
GRID_STALE_S = 10.0  # the grid meter


def book() -> tuple[FaultBook, EventLog]:
    log = EventLog(VirtualClock(T0), NullRecorder())
    return FaultBook(log), log


def snap(
    faults: dict[str, str] | None = None,
    *,
    ev_age_s: float | None = 0.0,
    grid_age_s: float | None = 0.0,
    bugs: dict[str, BaseException] | None = None,
) -> Snapshot:
    """A snapshot read at T0: the car's and the meter's readings ``*_age_s`` old (None: no reading)."""
    ev = (
        None
        if ev_age_s is None
        else Measurement("ev", T0 - timedelta(seconds=ev_age_s), -2.0, soc_kwh=30.0)
    )
    grid = None
    if grid_age_s is not None:
        grid = Measurement("meter", T0 - timedelta(seconds=grid_age_s), 1.0, voltage_v=240.0)
    return Snapshot(grid=grid, storages={"ev": ev}, faults=dict(faults or {}), bugs=bugs or {})


def note(b: FaultBook, s: Snapshot) -> set[str]:
    return b.note(s, T0, STALE_S, GRID_STALE_S)


def test_a_read_fault_is_one_event_while_it_lasts_and_one_when_it_ends() -> None:
    b, log = book()
    for _ in range(3):
        assert note(b, snap({"ev": "no answer within 5 s"}, ev_age_s=None)) == set()
    assert b.has("ev") and b.all() == {"ev": "no answer within 5 s"}
    [start] = log.recent
    assert (start.code, start.kind, start.device) == (EventCode.DEVICE_FAULT, EventKind.FAULT, "ev")
    assert start.message == "ev: no answer within 5 s"
    assert note(b, snap()) == {"ev"}
    assert note(b, snap()) == set()  # recovered once, not every tick
    assert not b.has("ev") and b.all() == {}
    assert [e.message for e in log.recent][1:] == ["ev: answering again with fresh data"]
    assert codes(log.recent) == [EventCode.DEVICE_FAULT, EventCode.DEVICE_RECOVERED]


def test_stale_readings_are_faults_beyond_their_limits_only() -> None:
    b, _ = book()
    note(b, snap(ev_age_s=STALE_S, grid_age_s=GRID_STALE_S))  # exactly at the limits: fresh
    assert b.all() == {}
    note(b, snap(ev_age_s=31.0, grid_age_s=11.0))
    assert b.all() == {
        "ev": "stale data: last reading 31 s old",
        "meter": "stale data: last reading 11 s old",
    }


def test_a_driver_bug_is_a_software_fault_with_one_traceback_per_device_and_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    b, log = book()
    bug = snap({"ev": "driver error: KeyError: 'soc'"}, ev_age_s=None, bugs={"ev": KeyError("soc")})
    note(b, bug)
    note(b, bug)
    note(b, snap())  # it answers again ...
    note(b, bug)  # ... and fails the same way: a new fault, but the traceback is known
    other = {"ev": "driver error: OverflowError: x"}
    note(b, snap(other, ev_age_s=None, bugs={"ev": OverflowError("x")}))
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert [r.exc_info[0] for r in tracebacks if r.exc_info] == [KeyError, OverflowError]
    assert all(r.getMessage() == "driver error reading ev" for r in tracebacks)
    soft = [e for e in log.recent if e.code is EventCode.SOFTWARE_FAULT]
    assert [e.message for e in soft] == ["ev: driver error: KeyError: 'soc'; please report it"] * 2


def test_a_write_fault_lasts_until_a_write_succeeds() -> None:
    b, log = book()
    assert b.add("ev", "write failed: refused") is True  # starts a fault: the caller records it
    assert b.add("ev", "write failed: timeout") is False
    assert b.all() == {"ev": "write failed: timeout"}
    note(b, snap())  # fresh readings do not end a write fault
    assert b.has("ev") and list(log.recent) == []
    b.wrote("ev")
    b.wrote("ev")  # a second success says nothing more
    assert not b.has("ev")
    [end] = log.recent
    assert (end.code, end.device, end.message) == (
        EventCode.DEVICE_RECOVERED,
        "ev",
        "ev: takes commands again",
    )


def test_a_write_that_succeeds_during_a_read_fault_ends_nothing_yet() -> None:
    b, log = book()
    note(b, snap({"ev": "bad data: SoC -1"}, ev_age_s=None))
    assert b.add("ev", "write failed: refused") is False  # already at fault
    b.wrote("ev")
    assert b.has("ev") and codes(log.recent) == [EventCode.DEVICE_FAULT]
    assert b.all() == {"ev": "bad data: SoC -1"}


def test_read_faults_win_over_write_faults_in_the_list() -> None:
    b, _ = book()
    b.add("ev", "write failed: refused")
    note(b, snap({"ev": "no answer within 5 s"}, ev_age_s=None))
    assert b.all() == {"ev": "no answer within 5 s"}


# One tick of one device: (read fault?, write: None (no write), True (taken) or False (failed)).
TICK = st.tuples(st.booleans(), st.sampled_from([None, True, False]))
STARTS = {EventCode.DEVICE_FAULT, EventCode.SOFTWARE_FAULT, EventCode.WRITE_FAILED}


@FAST_ENOUGH
@given(st.lists(TICK, max_size=30))
def test_fault_events_alternate_start_and_end_and_match_has(
    ticks: list[tuple[bool, bool | None]],
) -> None:
    """Whatever reads and writes do, a device's events go start, end, start, ... and the last one
    says whether it is at fault now."""
    b, log = book()
    for read_fault, write in ticks:
        note(b, snap({"ev": "no answer"}, ev_age_s=None) if read_fault else snap())
        if write is True:
            b.wrote("ev")
        elif write is False and b.add("ev", "write failed"):
            log.emit(EventKind.FAULT, EventCode.WRITE_FAILED, "ev: write failed", device="ev")
        kinds = ["start" if c in STARTS else "end" for c in codes(log.recent)]
        assert kinds == ["start", "end"] * (len(kinds) // 2) + ["start"] * (len(kinds) % 2)
        assert b.has("ev") == (kinds[-1:] == ["start"])
