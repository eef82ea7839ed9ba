"""EventLog: typed events on the injected clock, a bounded in-memory list, recording that never
raises into the loop, and publishing to subscribers that drop their oldest item when full."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.control.fakes import FAST_ENOUGH, ListRecorder
from voltbridge.control.events import EventLog
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventCode, EventKind, NullRecorder

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_an_event_carries_its_code_the_clocks_time_and_the_callers_data() -> None:
    clock, recorder = VirtualClock(T0), ListRecorder()
    log = EventLog(clock, recorder)
    clock.advance(90)
    data: dict[str, object] = {"exception": "KeyError"}
    event = log.emit(EventKind.FAULT, EventCode.SOFTWARE_FAULT, "ev: bug", device="ev", data=data)
    assert event.at == datetime(2026, 3, 1, 12, 1, 30, tzinfo=UTC)
    assert (event.kind, event.message, event.device) == (EventKind.FAULT, "ev: bug", "ev")
    assert event.data == {"exception": "KeyError", "code": "software-fault"}
    assert event.code is EventCode.SOFTWARE_FAULT
    assert data == {"exception": "KeyError"}  # the caller's dict is not changed
    assert list(log.recent) == [event] and recorder.events == [event]


def test_the_code_wins_over_a_code_in_the_data() -> None:
    log = EventLog(VirtualClock(T0), NullRecorder())
    event = log.emit(EventKind.PLAN, EventCode.PLAN, "new plan", data={"code": "made-up"})
    assert event.code is EventCode.PLAN


def test_a_recorder_that_raises_is_logged_and_the_event_still_kept_and_published(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = EventLog(VirtualClock(T0), ListRecorder(fail=True))
    queue = log.subscribe()
    event = log.emit(EventKind.GRID, EventCode.GRID, "grid on_grid → islanded")
    assert list(log.recent) == [event] and queue.get_nowait() is event
    assert [r.getMessage() for r in caplog.records if r.exc_info] == ["recording an event failed"]


def test_keep_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="keep is 0"):
        EventLog(VirtualClock(T0), NullRecorder(), keep=0)


@FAST_ENOUGH
@given(keep=st.integers(1, 20), n=st.integers(0, 60))
def test_the_list_never_holds_more_than_keep_and_holds_the_latest_in_order(
    keep: int, n: int
) -> None:
    log = EventLog(VirtualClock(T0), NullRecorder(), keep=keep)
    for i in range(n):
        log.emit(EventKind.MODE, EventCode.SETTINGS, f"event {i}")
        assert len(log.recent) <= keep
    assert [e.message for e in log.recent] == [f"event {i}" for i in range(max(0, n - keep), n)]


def test_every_subscriber_gets_every_item_and_a_full_queue_drops_its_oldest() -> None:
    log = EventLog(VirtualClock(T0), NullRecorder())
    a, b = log.subscribe(), log.subscribe()
    events = [log.emit(EventKind.MODE, EventCode.SETTINGS, f"e{i}") for i in range(105)]
    assert a.maxsize == 100 and a.qsize() == b.qsize() == 100
    seen = [a.get_nowait() for _ in range(100)]
    assert seen == events[5:]  # the 5 oldest were dropped, the rest kept in order
    assert b.get_nowait() is events[5]


def test_an_unsubscribed_queue_gets_nothing_more_and_unsubscribing_twice_is_harmless() -> None:
    log = EventLog(VirtualClock(T0), NullRecorder())
    q = log.subscribe()
    log.unsubscribe(q)
    log.unsubscribe(q)
    log.emit(EventKind.MODE, EventCode.SETTINGS, "after")
    assert q.empty()
