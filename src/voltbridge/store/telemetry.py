"""Telemetry waiting to be committed: raw rows per device, and the 1-minute and 15-minute rollups they add to.

Rollups keep power sums and sample counts, so a batch adds to the stored rows and a bucket's
mean is exact however many batches fed it; state of charge and plugged-in are the last values
seen in the bucket (state of charge the last known one: an unknown reading keeps the previous).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from voltbridge.core.status import ControlStatus
from voltbridge.store.codec import GRID_STATE_CODES, MINUTE_MS, QUARTER_HOUR_MS, floor_to
from voltbridge.store.money import MoneyDelta
from voltbridge.store.sample import vehicle_power_kw

DeviceKey = tuple[str, str]
"""(kind, name): kind is grid, pv, load, battery or vehicle; name is the vehicle's, else the kind."""

ROLLUP_PERIODS_MS = (MINUTE_MS, QUARTER_HOUR_MS)
TELEMETRY_TABLES = {MINUTE_MS: "telemetry_1m", QUARTER_HOUR_MS: "telemetry_15m"}
SITE_TABLES = {MINUTE_MS: "site_1m", QUARTER_HOUR_MS: "site_15m"}


@dataclass(frozen=True)
class Reading:
    """One device in one status: power [kW] (+ into the device; grid + import), SoC [kWh], plugged in."""

    device: DeviceKey
    power_kw: float
    soc_kwh: float | None = None
    plugged_in: bool | None = None


def device_readings(status: ControlStatus) -> list[Reading]:
    """The per-device rows of a status; the battery only when the site has one (or it draws
    power). A power that is unknown (a silent or stale device) gets no row: never a zero."""
    power = status.power
    rows: list[tuple[DeviceKey, float | None, float | None, bool | None]] = [
        (("grid", "grid"), power.grid_kw, None, None),
        (("pv", "pv"), power.pv_kw, None, None),
        (("load", "load"), power.load_kw, None, None),
    ]
    if status.battery is not None or power.battery_kw not in (0.0, None):
        soc = None if status.battery is None else status.battery.soc_kwh
        rows.append((("battery", "battery"), power.battery_kw, soc, None))
    for name in dict.fromkeys([*status.vehicles, *power.vehicles_kw]):
        vehicle = status.vehicles.get(name)
        rows.append(
            (
                ("vehicle", name),
                vehicle_power_kw(status, name),
                None if vehicle is None else vehicle.soc_kwh,
                None if vehicle is None else vehicle.plugged_in,
            )
        )
    return [
        Reading(key, float(kw), soc, plugged) for key, kw, soc, plugged in rows if kw is not None
    ]


@dataclass
class RollupDelta:
    """What a batch adds to one device's rollup bucket."""

    power_sum_kw: float = 0.0
    samples: int = 0
    soc_kwh: float | None = None
    plugged_in: bool | None = None


@dataclass
class SiteDelta:
    """What a batch adds to one site rollup bucket: samples, worst grid state, money."""

    samples: int = 0
    grid_state: int | None = None
    money: MoneyDelta | None = None
    first_era: int | None = None
    last_era: int | None = None

    def saw_era(self, era: int) -> None:
        """A status of time line ``era`` falls in the bucket."""
        self.first_era = era if self.first_era is None else min(self.first_era, era)
        self.last_era = era if self.last_era is None else max(self.last_era, era)


class DeviceIds:
    """The ``devices`` table's ids, cached; forget them when a transaction rolls back."""

    def __init__(self) -> None:
        self._ids: dict[DeviceKey, int] = {}

    def id_for(self, conn: sqlite3.Connection, device: DeviceKey) -> int:
        known = self._ids.get(device)
        if known is not None:
            return known
        conn.execute("INSERT OR IGNORE INTO devices (kind, name) VALUES (?, ?)", device)
        row = conn.execute("SELECT id FROM devices WHERE kind = ? AND name = ?", device).fetchone()
        self._ids[device] = int(row[0])
        return self._ids[device]

    def forget(self) -> None:
        self._ids.clear()


_ROLLUP_UPSERT = """
INSERT INTO {table} (bucket_ms, device_id, power_sum_kw, samples, soc_kwh, plugged_in)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (bucket_ms, device_id) DO UPDATE SET
    power_sum_kw = power_sum_kw + excluded.power_sum_kw,
    samples = samples + excluded.samples,
    soc_kwh = COALESCE(excluded.soc_kwh, soc_kwh),
    plugged_in = COALESCE(excluded.plugged_in, plugged_in)
"""

_SITE_UPSERT = """
INSERT INTO {table} (bucket_ms, samples, grid_state, import_kwh, export_kwh, import_cost,
                     export_revenue, baseline_cost, first_era, last_era)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (bucket_ms) DO UPDATE SET
    samples = samples + excluded.samples,
    first_era = CASE WHEN excluded.samples > 0 AND samples > 0
                     THEN MIN(first_era, excluded.first_era)
                     WHEN excluded.samples > 0 THEN excluded.first_era ELSE first_era END,
    last_era = CASE WHEN excluded.samples > 0 AND samples > 0
                    THEN MAX(last_era, excluded.last_era)
                    WHEN excluded.samples > 0 THEN excluded.last_era ELSE last_era END,
    grid_state = COALESCE(MAX(grid_state, excluded.grid_state), grid_state, excluded.grid_state),
    import_kwh = import_kwh + excluded.import_kwh,
    export_kwh = export_kwh + excluded.export_kwh,
    import_cost = import_cost + excluded.import_cost,
    export_revenue = export_revenue + excluded.export_revenue,
    baseline_cost = baseline_cost + excluded.baseline_cost
"""


class TelemetryBuffer:
    """Statuses and money not yet committed, as rows ready to write."""

    def __init__(self) -> None:
        self.ticks: list[tuple[int, int, int, str, float | None, float | None, float]] = []
        self.raw: list[list[tuple[int, int, Reading]]] = []
        """Per tick (parallel to ``ticks``): its devices' rows as (time [ms], era, reading)."""
        self.rollups: dict[tuple[int, int, DeviceKey], RollupDelta] = {}
        self.site: dict[tuple[int, int], SiteDelta] = {}

    def __bool__(self) -> bool:
        return bool(self.ticks or self.raw or self.rollups or self.site)

    def add_status(self, status: ControlStatus, at_ms: int, era: int) -> None:
        """Add a status of time line ``era`` (its raw rows, and its samples to the rollups)."""
        grid_state = GRID_STATE_CODES[status.grid_state]
        self.ticks.append(
            (
                at_ms,
                era,
                grid_state,
                status.mode.value,
                status.price_import,
                status.price_export,
                float(status.baseline_grid_kw),
            )
        )
        for period_ms in ROLLUP_PERIODS_MS:
            site = self._site(period_ms, floor_to(at_ms, period_ms))
            site.samples += 1
            site.saw_era(era)
            site.grid_state = (
                grid_state if site.grid_state is None else max(site.grid_state, grid_state)
            )
        rows: list[tuple[int, int, Reading]] = []
        self.raw.append(rows)
        for reading in device_readings(status):
            rows.append((at_ms, era, reading))
            for period_ms in ROLLUP_PERIODS_MS:
                key = (period_ms, floor_to(at_ms, period_ms), reading.device)
                delta = self.rollups.setdefault(key, RollupDelta())
                delta.power_sum_kw += reading.power_kw
                delta.samples += 1
                if reading.soc_kwh is not None:
                    delta.soc_kwh = float(reading.soc_kwh)
                if reading.plugged_in is not None:
                    delta.plugged_in = reading.plugged_in

    def add_money(self, minute_ms: int, delta: MoneyDelta) -> None:
        """Add money integrated over a piece of the minute starting at ``minute_ms``."""
        for period_ms in ROLLUP_PERIODS_MS:
            site = self._site(period_ms, floor_to(minute_ms, period_ms))
            if site.money is None:
                site.money = MoneyDelta()
            site.money.add(delta)

    def drop_oldest_raw(self, keep_ticks: int) -> int:
        """Keep only the newest ``keep_ticks`` statuses' raw rows (rollups stay whole); returns how many were dropped."""
        excess = len(self.ticks) - keep_ticks
        if excess <= 0:
            return 0
        # By position, not by time: after a clock step an older status may carry a later time.
        self.ticks = self.ticks[excess:]
        self.raw = self.raw[excess:]
        return excess

    def write(self, conn: sqlite3.Connection, device_ids: DeviceIds) -> None:
        """Write everything inside the caller's transaction (the buffer is cleared by the caller)."""
        # Plain INSERT: (time, era) is new by construction (the store starts a new era whenever
        # a time is not after the last one of the current era), and a clash must fail the commit
        # loudly rather than overwrite a committed row.
        conn.executemany(
            "INSERT INTO ticks (ts_ms, era, grid_state, mode, price_import, price_export, "
            "baseline_grid_kw) VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.ticks,
        )
        conn.executemany(
            "INSERT INTO telemetry_raw (ts_ms, era, device_id, power_kw, soc_kwh, plugged_in) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    at_ms,
                    era,
                    device_ids.id_for(conn, r.device),
                    r.power_kw,
                    r.soc_kwh,
                    r.plugged_in,
                )
                for rows in self.raw
                for at_ms, era, r in rows
            ],
        )
        for period_ms, table in TELEMETRY_TABLES.items():
            conn.executemany(
                _ROLLUP_UPSERT.format(table=table),
                [
                    (
                        bucket_ms,
                        device_ids.id_for(conn, device),
                        d.power_sum_kw,
                        d.samples,
                        d.soc_kwh,
                        d.plugged_in,
                    )
                    for (period, bucket_ms, device), d in self.rollups.items()
                    if period == period_ms
                ],
            )
        for period_ms, table in SITE_TABLES.items():
            rows = []
            for (period, bucket_ms), s in self.site.items():
                if period != period_ms:
                    continue
                m = s.money or MoneyDelta()
                rows.append(
                    (
                        bucket_ms,
                        s.samples,
                        s.grid_state,
                        m.import_kwh,
                        m.export_kwh,
                        m.import_cost,
                        m.export_revenue,
                        m.baseline_cost,
                        s.first_era or 0,
                        s.last_era or 0,
                    )
                )
            conn.executemany(_SITE_UPSERT.format(table=table), rows)

    def clear(self) -> None:
        self.ticks.clear()
        self.raw.clear()
        self.rollups.clear()
        self.site.clear()

    def _site(self, period_ms: int, bucket_ms: int) -> SiteDelta:
        return self.site.setdefault((period_ms, bucket_ms), SiteDelta())
