"""Events: committed at once, newest first, filtered by time and kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from voltbridge.core.status import ControlEvent, EventKind

from .builders import at, open_store


def test_events_newest_first_filtered_by_kind_and_time(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "e.db", commit_interval_s=1e9)
    kinds = [EventKind.GRID, EventKind.FAULT, EventKind.GRID, EventKind.GUARD, EventKind.GRID]
    with store:
        for i, kind in enumerate(kinds):
            store.record_event(
                ControlEvent(
                    at(60 * i),
                    kind,
                    f"event {i}",
                    device="ev9" if i == 1 else None,
                    data={"i": i, "limit_kw": 7.4},
                )
            )
        # committed at once: visible without flush and from another connection
        everything = store.events()
        grid = store.events(kind="grid")
        window = store.events(start=at(60), end=at(240))
        last_two = store.events(limit=2)
    assert [e["message"] for e in everything] == [f"event {i}" for i in (4, 3, 2, 1, 0)]
    assert [e["message"] for e in grid] == ["event 4", "event 2", "event 0"]
    assert [e["message"] for e in window] == ["event 3", "event 2", "event 1"]
    assert [e["message"] for e in last_two] == ["event 4", "event 3"]
    fault = everything[3]
    assert fault == {
        "id": fault["id"],
        "at": "2026-03-02T00:01:00Z",
        "kind": "fault",
        "message": "event 1",
        "device": "ev9",
        "data": {"i": 1, "limit_kw": 7.4},
    }
    assert len({e["id"] for e in everything}) == 5


def test_same_time_events_keep_record_order(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "e.db")
    with store:
        store.record_event(ControlEvent(at(0), EventKind.GRID, "outage"))
        store.record_event(ControlEvent(at(0), EventKind.SHED, "shed pool pump"))
        assert [e["message"] for e in store.events()] == ["shed pool pump", "outage"]


def test_event_data_that_is_not_json_is_kept_as_text(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "e.db")
    with store:
        store.record_event(ControlEvent(at(0), EventKind.PLAN, "new plan", data={"when": at(5)}))
        assert store.events()[0]["data"] == {"when": "2026-03-02 00:00:05+00:00"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"kind": "outage"}, "use one of grid, mode"),
        ({"limit": 0}, "limit"),
        ({"start": at(60), "end": at(0)}, "not after"),
    ],
)
def test_events_refuses_bad_requests(tmp_path: Path, kwargs: dict[str, object], words: str) -> None:
    store, _ = open_store(tmp_path / "e.db")
    with store, pytest.raises(ValueError, match=words):
        store.events(**kwargs)  # type: ignore[arg-type]
