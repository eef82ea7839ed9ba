"""Retention: pruning deletes only rows older than each kind's days, by hand and hourly from the record calls."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voltbridge.core.status import ControlEvent, EventKind
from voltbridge.store import Retention

from .builders import at, open_store, status

DAY = 86400


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_prune_deletes_only_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    retention = Retention(
        raw_days=7, one_minute_days=30, fifteen_minute_days=None, events_days=60, plans_days=7
    )
    store, _ = open_store(path, retention=retention)
    ages_days = [100, 40, 10, 3, 0.5]  # one status, event and plan at each age before `now`
    now = at(200 * DAY)
    with store:
        for age in ages_days:
            t = now.timestamp() - age * DAY
            when = at(t - at(0).timestamp())
            store.record_status(status(when, grid_kw=1.0, cars={"ev9": (True, 1.0, 9.0)}))
            store.record_event(ControlEvent(when, EventKind.GRID, f"{age} days old"))
            store.record_plan(when, {"steps": [], "age_days": age})
        store.record_settings(at(0), {"mode": "auto"})
        store.flush()
        deleted = store.prune(now)
        assert (
            count(path, "ticks") == 2 and count(path, "telemetry_raw") == 2 * 4
        )  # grid, pv, load, ev9
        assert count(path, "telemetry_raw") + count(path, "devices") > 0
        assert count(path, "site_1m") == 3  # 10, 3 and 0.5 days old
        assert count(path, "site_15m") == 5  # forever
        assert [e["message"] for e in store.events()] == [
            "0.5 days old",
            "3 days old",
            "10 days old",
            "40 days old",
        ]
        assert count(path, "plans") == 2
        assert store.latest_plan()["age_days"] == 0.5  # type: ignore[index]
        assert count(path, "sessions") == 1 and store.latest_settings() == {"mode": "auto"}
        assert deleted["ticks"] == 3 and deleted["events"] == 1 and deleted["plans"] == 3
        # history still answers from the 15-minute rows for the oldest day
        assert len(store.history(at(0), now, 900)) == 5
        assert len(store.history(at(180 * DAY), now, 60)) == 3


def test_the_newest_plan_is_kept_however_old(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "r.db", retention=Retention(plans_days=1))
    with store:
        store.record_plan(at(0), {"n": 1})
        store.prune(at(30 * DAY))
        assert store.latest_plan() == {"n": 1, "created": "2026-03-02T00:00:00Z"}


def test_record_calls_prune_hourly_by_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store, clock = open_store(path, retention=Retention(raw_days=1 / 24), prune_interval_s=3600)
    with store:
        store.record_status(status(at(0)))  # first record call prunes (nothing yet)
        store.flush()
        clock.advance(7200)
        store.record_status(status(at(7140)))  # two hours on: what is over an hour old goes
        store.flush()
        assert count(path, "ticks") == 1
        store.record_status(status(at(7200 + 3000)))
        store.flush()
        clock.advance(1800)  # under an hour since the last prune: nothing pruned yet
        store.record_status(status(at(7200 + 3060)))
        store.flush()
        assert count(path, "ticks") == 3
        clock.advance(1800)  # an hour since the last prune: the status at 7140 s goes
        store.record_status(status(at(7200 + 3120)))
        store.flush()
        assert count(path, "ticks") == 3


@pytest.mark.parametrize("days", [0, -1, float("nan")])
def test_retention_refuses_nonsense(days: float) -> None:
    with pytest.raises(ValueError, match="raw_days"):
        Retention(raw_days=days)
