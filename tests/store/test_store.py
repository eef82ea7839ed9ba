"""The store as the controller and the API use it: buffering by the clock, latest records, restart, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import ControlEvent, EventKind, NullRecorder, Recorder
from voltbridge.store import Store, StoreError

from .builders import T0, at, open_store, status


def test_store_is_a_recorder(tmp_path: Path) -> None:
    recorders: list[Recorder] = [NullRecorder(), Store(tmp_path / "r.db", VirtualClock(T0))]
    store = recorders[1]
    assert isinstance(store, Store)
    store.close()


def test_statuses_wait_for_the_commit_interval_of_the_clock(tmp_path: Path) -> None:
    store, clock = open_store(tmp_path / "b.db", commit_interval_s=5.0)
    with store:
        store.record_status(status(at(0), grid_kw=1.0))
        clock.advance(4)
        store.record_status(status(at(4), grid_kw=2.0))
        assert store.latest_status() is None  # 4 s on the clock: still buffered
        clock.advance(1)
        store.record_status(status(at(5), grid_kw=3.0))  # 5 s: committed with this call
        latest = store.latest_status()
        assert latest is not None and latest["power_kw"]["grid"] == 3.0
        assert len(store.history(at(0), at(10), 1)) == 3
        store.record_status(status(at(6), grid_kw=4.0))
        store.record_event(ControlEvent(at(6), EventKind.MODE, "charge now"))  # commits all
        assert store.latest_status()["power_kw"]["grid"] == 4.0  # type: ignore[index]


def test_close_commits_and_a_reopened_store_resumes(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    s = status(at(0), grid_kw=2.5, cars={"ev9": (True, 7.0, 42.0)}, price_import=0.3)
    plan = {"start": "2026-03-02T00:00:00Z", "steps": [{"grid_kw": 1.0}], "warnings": []}
    store, clock = open_store(path, commit_interval_s=1e9)
    with store:
        store.record_status(s)
        store.record_plan(at(1), plan)
        store.record_settings(at(2), {"mode": "charge-now", "backup_reserve_pct": 30})
        store.record_settings(at(3), {"mode": "auto", "backup_reserve_pct": 40})
    store, _ = open_store(path, clock)
    with store:
        assert store.latest_status() == s.to_dict()
        assert store.latest_plan() == {**plan, "created": "2026-03-02T00:00:01Z"}
        assert store.latest_settings() == {"mode": "auto", "backup_reserve_pct": 40}
        # money continues from the stored status across the restart
        store.record_status(status(at(30), price_import=0.3))
        store.flush()
        assert store.money(at(0), at(60))["import_kwh"] == pytest.approx(2.5 * 30 / 3600)


def test_a_fresh_store_has_nothing(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "b.db")
    with store:
        assert store.latest_status() is None and store.latest_plan() is None
        assert store.latest_settings() is None and store.events() == []
        assert store.sessions() == [] and store.history(at(0), at(60), 60) == []
        assert store.money(at(0), at(60))["net_cost"] == 0.0


def test_statuses_that_go_back_in_time_are_kept_on_new_time_lines(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "b.db")
    with store:
        store.record_status(status(at(10), grid_kw=1.0))
        store.record_status(status(at(10), grid_kw=9.0))
        store.record_status(status(at(5), grid_kw=9.0))
        store.flush()
        assert store.clock_steps == 2
        rows = store.history(at(0), at(20), 1)
        assert [(r["grid_kw"], r["clock_stepped"]) for r in rows] == [(9.0, False), (5.0, True)]


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "b.db")
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.record_status(status(at(0)))
    with pytest.raises(StoreError, match="closed"):
        store.events()


def test_constructor_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="commit_interval_s"):
        Store(tmp_path / "x.db", VirtualClock(T0), commit_interval_s=-1)
    with pytest.raises(ValueError, match="max_gap_s"):
        Store(tmp_path / "x.db", VirtualClock(T0), max_gap_s=0)


def test_readers_in_threads_while_the_controller_writes(tmp_path: Path) -> None:
    store, clock = open_store(tmp_path / "t.db", commit_interval_s=0.0)
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                rows = store.history(at(0), at(3600), 60)
                # a consistent snapshot: every minute bucket is whole or absent
                assert all(r["grid_kw"] == 2.0 for r in rows)
                store.money(at(0), at(3600))
                store.events(limit=5)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    with store:
        for r in readers:
            r.start()
        for i in range(150):
            store.record_status(status(at(10 * i), grid_kw=2.0))
            if i % 50 == 0:
                store.record_event(ControlEvent(at(10 * i), EventKind.PLAN, "replanned"))
            clock.advance(10)
        done.set()
        for r in readers:
            r.join()
        assert errors == []
        assert len(store.history(at(0), at(1500), 60)) == 25


def test_storage_trouble_is_kept_and_retried_not_raised_into_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, clock = open_store(tmp_path / "b.db", commit_interval_s=0.0)
    with store:
        write = store._telemetry.write
        failing = {"left": 1}

        def flaky(*args: object) -> None:
            if failing["left"]:
                failing["left"] -= 1
                raise sqlite3.OperationalError("disk I/O error")
            write(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(store._telemetry, "write", flaky)
        store.record_status(status(at(0), grid_kw=3.6, price_import=1.0))  # commit fails quietly
        store.record_event(ControlEvent(at(0), EventKind.FAULT, "meter stale"))  # retried: works
        clock.advance(1)
        store.record_status(status(at(30), grid_kw=0.0, price_import=1.0))
        store.flush()
        assert [e["message"] for e in store.events()] == ["meter stale"]
        assert len(store.history(at(0), at(60), 1)) == 2
        assert store.money(at(0), at(60))["import_kwh"] == pytest.approx(3.6 * 30 / 3600)
