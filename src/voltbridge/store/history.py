"""Telemetry history in buckets of any size, read from the raw, 1-minute or 15-minute tables.

Buckets are aligned on the epoch (UTC) and ``resolution_s`` long; a request covers every bucket
that overlaps ``[start, end)``, whole. The source is the coarsest table whose period divides the
resolution (15 minutes, else 1 minute, else raw), so each bucket is an exact union of source
buckets: a 90 s resolution reads raw rows, 5 minutes reads 1-minute rows, an hour 15-minute rows.
A source holds only what its retention keeps (raw 7 days by default). Power is the mean of the
samples in the bucket, state of charge and plugged-in the last known value, the grid state the
worst seen. Buckets without any data are left out: a gap, not a zero.

After the clock stepped back (see ``schema``), a bucket may hold statuses of two time lines:
its power is the mean of all of them, its last values those recorded last (``(era, ts_ms)``
order), and ``clock_stepped`` is True so that the reader knows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from voltbridge.store.codec import GRID_STATES, MINUTE_MS, QUARTER_HOUR_MS, ceil_to, floor_to, iso

MAX_BUCKETS = 100_000
"""The most buckets one request may span (a year at 5 minutes is about 105,000)."""

ERA_STRIDE_MS = 2**42
"""Raw rows are ordered by ``era * ERA_STRIDE_MS + ts_ms``, i.e. by (era, time), for any time
from 1970 to 2109 (2**42 ms) and any number of eras SQLite's 64-bit integers can hold (2**21)."""


def _source(resolution_ms: int) -> tuple[str, str, str, str, str, str | None]:
    """(telemetry table, time column, order expression, power-sum expression, sample-count
    expression, site table)."""
    if resolution_ms % QUARTER_HOUR_MS == 0:
        return "telemetry_15m", "bucket_ms", "bucket_ms", "power_sum_kw", "samples", "site_15m"
    if resolution_ms % MINUTE_MS == 0:
        return "telemetry_1m", "bucket_ms", "bucket_ms", "power_sum_kw", "samples", "site_1m"
    order = f"(era * {ERA_STRIDE_MS} + ts_ms)"
    return "telemetry_raw", "ts_ms", order, "power_kw", "1", None


def history_between(
    conn: sqlite3.Connection, start_ms: int, end_ms: int, resolution_s: int
) -> list[dict[str, Any]]:
    """One dict per bucket with data, oldest first (the shape ``Store.history`` documents)."""
    r = resolution_s * 1000
    lo, hi = floor_to(start_ms, r), ceil_to(end_ms, r)
    if (hi - lo) // r > MAX_BUCKETS:
        coarser_s = -(-(end_ms - start_ms) // (MAX_BUCKETS * 1000))
        raise ValueError(
            f"{(hi - lo) // r} buckets of {resolution_s} s asked for; at most {MAX_BUCKETS} are "
            f"served at once: ask for a shorter period or a resolution of at least {coarser_s} s"
        )
    table, t, order, power_sum, count, site_table = _source(r)
    bucket = f"({t} - {t} % {r})"
    names = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT id, kind, name FROM devices")}
    rows: dict[int, dict[str, Any]] = {}

    def row_at(b: int) -> dict[str, Any]:
        if b not in rows:
            rows[b] = {
                "at": iso(b),
                "grid_kw": None,
                "pv_kw": None,
                "load_kw": None,
                "battery_kw": None,
                "battery_soc_kwh": None,
                "vehicles": {},
                "grid_state": None,
                "clock_stepped": False,
            }
        return rows[b]

    # SQLite's bare columns: with one MAX() aggregate, plugged_in / soc_kwh come from the row
    # where the maximum occurred, i.e. the bucket's last value in the order things happened.
    power_sql = (
        f"SELECT {bucket} AS b, device_id, SUM({power_sum}), SUM({count}), MAX({order}), "
        f"plugged_in FROM {table} WHERE {t} >= ? AND {t} < ? GROUP BY b, device_id"
    )
    soc_sql = (
        f"SELECT {bucket} AS b, device_id, MAX({order}), soc_kwh FROM {table} "
        f"WHERE {t} >= ? AND {t} < ? AND soc_kwh IS NOT NULL GROUP BY b, device_id"
    )
    for b, device_id, total_kw, samples, _, plugged_in in conn.execute(power_sql, (lo, hi)):
        kind, name = names[device_id]
        mean_kw = total_kw / samples if samples else None
        row = row_at(b)
        if kind == "vehicle":
            row["vehicles"][name] = {
                "kw": mean_kw,
                "soc_kwh": None,
                "plugged_in": None if plugged_in is None else bool(plugged_in),
            }
        else:
            row[f"{kind}_kw"] = mean_kw
    for b, device_id, _, soc_kwh in conn.execute(soc_sql, (lo, hi)):
        kind, name = names[device_id]
        row = row_at(b)
        if kind == "vehicle" and name in row["vehicles"]:
            row["vehicles"][name]["soc_kwh"] = soc_kwh
        elif kind == "battery":
            row["battery_soc_kwh"] = soc_kwh
    if site_table is None:
        site_sql = (
            f"SELECT {bucket} AS b, MAX(grid_state), MIN(era), MAX(era) FROM ticks "
            f"WHERE ts_ms >= ? AND ts_ms < ? GROUP BY b"
        )
    else:
        site_sql = (
            f"SELECT {bucket} AS b, MAX(grid_state), MIN(first_era), MAX(last_era) "
            f"FROM {site_table} WHERE bucket_ms >= ? AND bucket_ms < ? AND samples > 0 GROUP BY b"
        )
    for b, grid_state, first_era, last_era in conn.execute(site_sql, (lo, hi)):
        row = row_at(b)
        if grid_state is not None:
            row["grid_state"] = GRID_STATES[int(grid_state)].value
        row["clock_stepped"] = first_era != last_era
    return [rows[b] for b in sorted(rows)]
