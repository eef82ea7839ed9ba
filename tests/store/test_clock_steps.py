"""A clock that steps back (NTP, a restart of a sped-up demo) loses no status: a new time line, recorded and flagged.

Every check reads the SQLite file itself (``sqlite3``), not only through the store's own queries.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import ControlEvent, EventKind
from voltbridge.store import SCHEMA_VERSION
from voltbridge.store.schema import migrate

from .builders import T0, at, open_store, status

HOUR_S = 3600


def file_rows(path: Path) -> tuple[list[tuple[int, int]], int, list[tuple[int, int, int]]]:
    """(ticks as (ms after T0, era), raw rows, clock steps as (era, at, previous) in ms after T0)."""
    t0_ms = int(T0.timestamp() * 1000)
    with sqlite3.connect(path) as conn:
        ticks = [
            (ts - t0_ms, era)
            for ts, era in conn.execute("SELECT ts_ms, era FROM ticks ORDER BY era, ts_ms")
        ]
        raw = conn.execute("SELECT COUNT(*) FROM telemetry_raw").fetchone()[0]
        steps = [
            (era, at_ms - t0_ms, prev_ms - t0_ms)
            for era, at_ms, prev_ms in conn.execute(
                "SELECT era, at_ms, previous_ms FROM clock_steps ORDER BY era"
            )
        ]
    return ticks, raw, steps


def test_a_restart_with_the_clock_behind_the_file_keeps_every_status(tmp_path: Path) -> None:
    """As ``voltbridge run --speed 60`` restarted: the first run reached T0 + 1 h, the second starts at T0."""
    path = tmp_path / "restart.db"
    car = {"ev9": (True, 3.0, 40.0)}
    first, _ = open_store(path, VirtualClock(at(HOUR_S)), commit_interval_s=0.0)
    with first:
        for i in range(30):
            first.record_status(status(at(HOUR_S + 10 * i), grid_kw=1.0, cars=car))
        first.record_plan(at(HOUR_S + 290), {"steps": [], "name": "before"})
        first.record_event(ControlEvent(at(HOUR_S + 290), EventKind.PLAN, "before the restart"))

    second, _ = open_store(path, VirtualClock(T0), commit_interval_s=0.0)
    with second:
        for i in range(30):
            second.record_status(status(at(10 * i), grid_kw=2.0, cars=car))
        second.record_plan(at(290), {"steps": [], "name": "after"})
        second.record_event(ControlEvent(at(290), EventKind.PLAN, "after the restart"))

    with sqlite3.connect(path) as conn:  # not one committed status lost
        assert conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 60
    assert second.clock_steps == 1
    ticks, raw, steps = file_rows(path)
    old = [(HOUR_S * 1000 + 10_000 * i, 0) for i in range(30)]
    new = [(10_000 * i, 1) for i in range(30)]
    assert ticks == old + new  # the new ones on time line 1
    assert raw == 60 * 4  # grid, pv, load and the car per status
    assert steps == [(1, 0, (HOUR_S + 290) * 1000)]

    reopened, _ = open_store(path, VirtualClock(at(300)))
    with reopened:
        # the step is told to the household, with how far back the clock went
        [step] = reopened.events(kind="warning")
        assert step["device"] == "clock" and step["at"] == "2026-03-02T00:00:00Z"
        assert step["data"]["stepped_back_s"] == pytest.approx(HOUR_S + 290)
        assert "stepped back" in step["message"]
        # "newest first" and "latest" follow the order things happened, not the clock's labels
        messages = [e["message"] for e in reopened.events(kind="plan")]
        assert messages == ["after the restart", "before the restart"]
        plan = reopened.latest_plan()
        assert plan is not None and plan["name"] == "after"
        # energy flowed on both time lines: both are counted, the step itself is not
        bill = reopened.money(at(0), at(2 * HOUR_S))
        assert bill["import_kwh"] == pytest.approx((1.0 * 290 + 2.0 * 290) / 3600)
        # sessions never end before they start: the step closes the old one where it was last seen
        sessions = sorted(reopened.sessions(), key=lambda s: s["id"])
        assert [(s["start"], s["end"]) for s in sessions] == [
            ("2026-03-02T01:00:00Z", "2026-03-02T01:04:50Z"),
            ("2026-03-02T00:00:00Z", None),
        ]
        assert sessions[0]["charged_kwh"] == pytest.approx(3.0 * 290 / 3600)
        assert sessions[1]["charged_kwh"] == pytest.approx(3.0 * 290 / 3600)


def test_an_ntp_step_inside_a_run_keeps_both_time_lines_and_flags_the_mixed_buckets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ntp.db"
    store, _ = open_store(path, commit_interval_s=1e9)
    with store:
        for s in range(0, 100, 10):  # 0 .. 90 s at 1 kW
            store.record_status(status(at(s), grid_kw=1.0))
        for s in range(50, 130, 10):  # the clock steps back 40 s: 50 .. 120 s at 3 kW
            store.record_status(status(at(s), grid_kw=3.0))
        store.record_status(status(at(120), grid_kw=5.0))  # a clock that did not advance
        store.flush()
        with sqlite3.connect(path) as conn:  # not one status lost
            assert conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 10 + 8 + 1
        assert store.clock_steps == 2

        raw = store.history(at(0), at(130), 10)
        by_second = {int(r["at"][17:19]) + 60 * int(r["at"][14:16]): r for r in raw}
        assert by_second[40]["grid_kw"] == 1.0 and not by_second[40]["clock_stepped"]
        assert by_second[50]["grid_kw"] == 2.0 and by_second[50]["clock_stepped"]  # (1 + 3) / 2
        assert by_second[100]["grid_kw"] == 3.0 and not by_second[100]["clock_stepped"]
        assert by_second[120]["grid_kw"] == 4.0 and by_second[120]["clock_stepped"]  # (3 + 5) / 2
        minute = store.history(at(0), at(120), 60)
        assert [r["clock_stepped"] for r in minute] == [True, True]
        quarter = store.history(at(0), at(900), 900)
        assert [r["clock_stepped"] for r in quarter] == [True]
        assert len(store.events(kind="warning")) == 2

    ticks, raw_rows, steps = file_rows(path)
    assert len(ticks) == 10 + 8 + 1 and raw_rows == 19 * 3
    assert steps == [(1, 50_000, 90_000), (2, 120_000, 120_000)]


def test_a_version_2_file_is_migrated_onto_time_line_0(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=2)
    t0_ms = int(T0.timestamp() * 1000)
    conn.execute("INSERT INTO devices (id, kind, name) VALUES (1, 'grid', 'grid')")
    conn.execute("INSERT INTO ticks VALUES (?, 0, 'auto', NULL, NULL, 0.0)", (t0_ms,))
    conn.execute("INSERT INTO telemetry_raw VALUES (?, 1, 2.5, NULL, NULL)", (t0_ms,))
    conn.execute("INSERT INTO site_1m VALUES (?, 1, 0, 0.0, 0.0, 0.0, 0.0, 0.0)", (t0_ms,))
    conn.close()

    store, _ = open_store(path)
    with store:
        [row] = store.history(at(0), at(60), 1)
        assert row["grid_kw"] == 2.5 and row["clock_stepped"] is False
        assert store.history(at(0), at(60), 60)[0]["clock_stepped"] is False
        store.record_status(status(at(0), grid_kw=1.0))  # the same time again: a new time line
        store.flush()
    ticks, _, steps = file_rows(path)
    assert ticks == [(0, 0), (0, 1)] and steps == [(1, 0, 0)]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
