"""Events, plans, settings and the last status: rows written as they come and read back as JSON-ready dicts.

Also each backward clock step (``clock_steps``, see ``schema``), and the event that tells the
household about it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from voltbridge.core.status import ControlEvent, EventKind
from voltbridge.store.codec import iso, to_ms


def _dumps(value: Any) -> str:
    # Anything not JSON-ready (a datetime slipped into ``data``) is kept as text, never refused:
    # the recorder must not fail the control loop over a detail.
    return json.dumps(value, default=str, separators=(",", ":"))


def event_row(event: ControlEvent) -> tuple[int, str, str, str | None, str]:
    """The ``events`` row of an event."""
    return (
        to_ms(event.at),
        event.kind.value,
        event.message,
        event.device,
        _dumps(event.data),
    )


def write_events(
    conn: sqlite3.Connection, rows: list[tuple[int, str, str, str | None, str]]
) -> None:
    conn.executemany(
        "INSERT INTO events (ts_ms, kind, message, device, data_json) VALUES (?, ?, ?, ?, ?)", rows
    )


def check_kind(kind: str | None) -> None:
    """ValueError naming the known kinds when ``kind`` is not one of them."""
    known = [k.value for k in EventKind]
    if kind is not None and kind not in known:
        raise ValueError(f"unknown event kind {kind!r}; use one of {', '.join(known)}")


def events_between(
    conn: sqlite3.Connection,
    start_ms: int | None,
    end_ms: int | None,
    kind: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Events in ``[start_ms, end_ms)`` (either bound may be open), of one kind or all, newest first.

    Newest by record order (the row id), not by time: after the clock stepped back, an event
    recorded later may carry an earlier time, and it is still the newer one.
    """
    where = []
    params: list[Any] = []
    if start_ms is not None:
        where.append("ts_ms >= ?")
        params.append(start_ms)
    if end_ms is not None:
        where.append("ts_ms < ?")
        params.append(end_ms)
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    sql = (
        "SELECT id, ts_ms, kind, message, device, data_json FROM events"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY id DESC LIMIT ?"
    )
    return [
        {
            "id": row[0],
            "at": iso(row[1]),
            "kind": row[2],
            "message": row[3],
            "device": row[4],
            "data": json.loads(row[5]),
        }
        for row in conn.execute(sql, (*params, limit)).fetchall()
    ]


def write_plans(conn: sqlite3.Connection, rows: list[tuple[int, str]]) -> None:
    conn.executemany("INSERT INTO plans (created_ms, plan_json) VALUES (?, ?)", rows)


def plan_row(created_ms: int, plan: dict[str, Any]) -> tuple[int, str]:
    return (created_ms, _dumps(plan))


def latest_plan(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The plan recorded last (by record order: after a backward clock step its ``created`` may
    be earlier than an older plan's) with its ``created`` time, or None."""
    row = conn.execute(
        "SELECT created_ms, plan_json FROM plans ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    plan: dict[str, Any] = json.loads(row[1])
    plan["created"] = iso(row[0])
    return plan


def write_settings(conn: sqlite3.Connection, rows: list[tuple[int, str]]) -> None:
    conn.executemany("INSERT INTO settings (at_ms, settings_json) VALUES (?, ?)", rows)


def settings_row(at_ms: int, settings: dict[str, Any]) -> tuple[int, str]:
    return (at_ms, _dumps(settings))


def latest_settings(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The settings recorded last (by record order, not by their time), or None."""
    row = conn.execute("SELECT settings_json FROM settings ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    settings: dict[str, Any] = json.loads(row[0])
    return settings


def write_latest_status(conn: sqlite3.Connection, at_ms: int, status: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO status_latest (id, ts_ms, status_json) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET ts_ms = excluded.ts_ms, status_json = excluded.status_json",
        (at_ms, _dumps(status)),
    )


def latest_status(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The last committed status (``ControlStatus.to_dict()``), or None."""
    row = conn.execute("SELECT status_json FROM status_latest WHERE id = 1").fetchone()
    if row is None:
        return None
    status: dict[str, Any] = json.loads(row[0])
    return status


def write_clock_steps(conn: sqlite3.Connection, rows: list[tuple[int, int, int]]) -> None:
    """``(era, at_ms, previous_ms)`` rows of the steps that started new time lines."""
    conn.executemany("INSERT INTO clock_steps (era, at_ms, previous_ms) VALUES (?, ?, ?)", rows)


def last_era(conn: sqlite3.Connection) -> tuple[int, int | None]:
    """The current time line and the time of its last stored status [ms], or None when it has none."""
    era = int(conn.execute("SELECT COALESCE(MAX(era), 0) FROM clock_steps").fetchone()[0])
    last = conn.execute("SELECT MAX(ts_ms) FROM ticks WHERE era = ?", (era,)).fetchone()[0]
    return era, None if last is None else int(last)


def clock_step_event_row(
    era: int, at_ms: int, previous_ms: int
) -> tuple[int, str, str, str | None, str]:
    """The ``events`` row telling that the clock stepped back (a warning from device "clock")."""
    back_s = (previous_ms - at_ms) / 1000
    if back_s > 0:
        what = f"the clock stepped back {back_s:g} s (from {iso(previous_ms)} to {iso(at_ms)})"
    else:
        what = f"the clock did not advance (status at {iso(at_ms)} again)"
    message = (
        f"{what}: every status is kept, on time line {era}; history buckets holding both "
        f"time lines are marked clock_stepped. Check the computer's time source (NTP)."
    )
    data = {"stepped_back_s": back_s, "previous": iso(previous_ms), "era": era}
    return (at_ms, EventKind.WARNING.value, message, "clock", _dumps(data))
