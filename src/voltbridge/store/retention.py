"""How long each kind of record is kept, and deleting what is older."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, fields

from voltbridge.store.codec import DAY_MS


@dataclass(frozen=True)
class Retention:
    """Days each kind of record is kept [days]; None keeps it forever.

    Sessions, settings and clock steps are always kept (a few rows a day at most), as is the
    plan recorded last.

    Attributes:
        raw_days: per-tick telemetry and site values [days].
        one_minute_days: 1-minute rollups, and the per-minute money the edges of a bill use [days].
        fifteen_minute_days: 15-minute rollups and money [days].
        events_days: events [days].
        plans_days: plans other than the newest [days].
    """

    raw_days: float | None = 7.0
    one_minute_days: float | None = 90.0
    fifteen_minute_days: float | None = None
    events_days: float | None = 365.0
    plans_days: float | None = 7.0

    def __post_init__(self) -> None:
        for f in fields(self):
            days = getattr(self, f.name)
            if days is not None and not (math.isfinite(days) and days > 0):
                raise ValueError(
                    f"Retention.{f.name} is {days!r}; give a number of days above 0, or None to keep forever"
                )


def prune(conn: sqlite3.Connection, retention: Retention, now_ms: int) -> dict[str, int]:
    """Delete rows older than their retention, in the caller's transaction; returns rows deleted per table."""
    rules = (
        ("ticks", "ts_ms", retention.raw_days),
        ("telemetry_raw", "ts_ms", retention.raw_days),
        ("telemetry_1m", "bucket_ms", retention.one_minute_days),
        ("site_1m", "bucket_ms", retention.one_minute_days),
        ("telemetry_15m", "bucket_ms", retention.fifteen_minute_days),
        ("site_15m", "bucket_ms", retention.fifteen_minute_days),
        ("events", "ts_ms", retention.events_days),
    )
    deleted: dict[str, int] = {}
    for table, column, days in rules:
        if days is None:
            continue
        cutoff_ms = now_ms - round(days * DAY_MS)
        deleted[table] = conn.execute(
            f"DELETE FROM {table} WHERE {column} < ?", (cutoff_ms,)
        ).rowcount
    if retention.plans_days is not None:
        cutoff_ms = now_ms - round(retention.plans_days * DAY_MS)
        deleted["plans"] = conn.execute(
            "DELETE FROM plans WHERE created_ms < ? AND id != (SELECT MAX(id) FROM plans)",
            (cutoff_ms,),
        ).rowcount
    return deleted
