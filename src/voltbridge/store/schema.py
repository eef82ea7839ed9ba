"""The store's tables, the ordered migrations that build them, and opening a connection with the right pragmas.

Layout (why): telemetry is *long*, one row per device per tick (``telemetry_raw``), keyed by a
small integer device id, so a second car or a new battery needs no migration and a row is a few
bytes; site-wide values of a tick (grid state, mode, prices, baseline) are one row in ``ticks``.
Rollups keep sums and sample counts (not means) so they are maintained by adding each batch
(``INSERT ... ON CONFLICT DO UPDATE``) and merge exactly into any coarser bucket: the mean of a
bucket is ``SUM(power_sum_kw) / SUM(samples)``. ``site_*`` rollups carry the worst grid state and
the money integrated over each bucket, so a month's history or bill reads a few thousand rows.

Clock steps (why): the time of a status is what the controller's clock said. When that clock
steps back (NTP, a restart of a demo whose clock runs faster than real time), later statuses
carry times already used. They are kept, never dropped: each backward step starts a new time
line, ``era`` (0 at first), and raw rows are keyed by ``(ts_ms, era)``. The order in which things
happened is ``(era, ts_ms)`` for telemetry and the row id for events, plans and settings; time
ranges are asked on ``ts_ms``. ``clock_steps`` keeps each step (kept for good, a row a step), and
``first_era``/``last_era`` of a site rollup bucket tell whether it mixes time lines.

Times are integers, milliseconds since 1970 UTC (``*_ms``); power in kW, energy in kWh, money in
the tariff's currency. ``PRAGMA user_version`` is the schema version: migration ``i`` (0-based)
takes a database from version ``i`` to ``i + 1``, all in one transaction.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from voltbridge.store.errors import StoreError, StoreVersionError

BUSY_TIMEOUT_MS = 5_000
"""How long a connection waits for another's lock before giving up [ms]."""

SYNCHRONOUS = "FULL"
"""``FULL``: each commit is on disk before it returns, so a power cut (the very event this house
plans for, and one the computer running voltbridge may not be spared) loses nothing committed.
``NORMAL`` in WAL mode survives a killed process but may roll back the last commits on power loss.
Commits are batched (``commit_interval_s``), so FULL costs about one fsync a second."""

_ROLLUP_COLUMNS = """
    bucket_ms INTEGER NOT NULL,            -- bucket start [ms since 1970 UTC]
    device_id INTEGER NOT NULL REFERENCES devices (id),
    power_sum_kw REAL NOT NULL,            -- sum of the samples' power [kW]; mean = sum / samples
    samples INTEGER NOT NULL,
    soc_kwh REAL,                          -- last known state of charge in the bucket [kWh]
    plugged_in INTEGER,                    -- last plugged-in flag (vehicles), else NULL
    PRIMARY KEY (bucket_ms, device_id)
"""

_SITE_COLUMNS = """
    bucket_ms INTEGER PRIMARY KEY,         -- bucket start [ms since 1970 UTC]
    samples INTEGER NOT NULL,              -- statuses whose time lies in the bucket
    grid_state INTEGER,                    -- worst grid state (0 on grid, 1 restoring, 2 islanded)
    import_kwh REAL NOT NULL,              -- energy imported in the bucket [kWh]
    export_kwh REAL NOT NULL,              -- energy exported [kWh]
    import_cost REAL NOT NULL,             -- [currency]
    export_revenue REAL NOT NULL,          -- [currency]
    baseline_cost REAL NOT NULL            -- the uncontrolled baseline's net cost [currency]
"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: telemetry, rollups, events, plans, sessions.
    (
        """CREATE TABLE devices (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,            -- grid, pv, load, battery, vehicle
            name TEXT NOT NULL,            -- the vehicle's name; the kind for the others
            UNIQUE (kind, name)
        )""",
        """CREATE TABLE ticks (
            ts_ms INTEGER PRIMARY KEY,
            grid_state INTEGER NOT NULL,
            mode TEXT NOT NULL,
            price_import REAL,             -- [currency/kWh]
            price_export REAL,             -- [currency/kWh]
            baseline_grid_kw REAL NOT NULL
        )""",
        """CREATE TABLE telemetry_raw (
            ts_ms INTEGER NOT NULL,
            device_id INTEGER NOT NULL REFERENCES devices (id),
            power_kw REAL NOT NULL,        -- + into the device from the AC bus (grid: + import)
            soc_kwh REAL,
            plugged_in INTEGER,
            PRIMARY KEY (ts_ms, device_id)
        ) WITHOUT ROWID""",
        f"CREATE TABLE telemetry_1m ({_ROLLUP_COLUMNS}) WITHOUT ROWID",
        f"CREATE TABLE telemetry_15m ({_ROLLUP_COLUMNS}) WITHOUT ROWID",
        f"CREATE TABLE site_1m ({_SITE_COLUMNS})",
        f"CREATE TABLE site_15m ({_SITE_COLUMNS})",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts_ms INTEGER NOT NULL,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            device TEXT,
            data_json TEXT NOT NULL
        )""",
        "CREATE INDEX events_ts ON events (ts_ms)",
        "CREATE INDEX events_kind_ts ON events (kind, ts_ms)",
        """CREATE TABLE plans (
            id INTEGER PRIMARY KEY,
            created_ms INTEGER NOT NULL,
            plan_json TEXT NOT NULL
        )""",
        "CREATE INDEX plans_created ON plans (created_ms)",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            vehicle TEXT NOT NULL,
            start_ms INTEGER NOT NULL,
            end_ms INTEGER,                -- NULL while plugged in
            last_at_ms INTEGER NOT NULL,   -- last status that saw it plugged in
            charged_kwh REAL NOT NULL,     -- AC energy in [kWh]
            discharged_kwh REAL NOT NULL,  -- AC energy out [kWh]
            cost REAL NOT NULL,            -- charged energy at the import price [currency]
            value REAL NOT NULL            -- discharged energy at the price it displaced [currency]
        )""",
        "CREATE INDEX sessions_start ON sessions (start_ms)",
        "CREATE INDEX sessions_open ON sessions (vehicle) WHERE end_ms IS NULL",
    ),
    # 1 -> 2: household settings, and the last status for resuming after a restart.
    (
        """CREATE TABLE settings (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            settings_json TEXT NOT NULL
        )""",
        """CREATE TABLE status_latest (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            ts_ms INTEGER NOT NULL,
            status_json TEXT NOT NULL
        )""",
    ),
    # 2 -> 3: a clock that steps back (NTP, a restart of a sped-up demo) starts a new time line
    # (an "era") instead of dropping statuses: raw rows are keyed by (time, era), each step is
    # kept in clock_steps, and each site rollup bucket knows which eras fed it.
    (
        """CREATE TABLE ticks_v3 (
            ts_ms INTEGER NOT NULL,
            era INTEGER NOT NULL,          -- time line: 0, then one more at each backward step
            grid_state INTEGER NOT NULL,
            mode TEXT NOT NULL,
            price_import REAL,             -- [currency/kWh]
            price_export REAL,             -- [currency/kWh]
            baseline_grid_kw REAL NOT NULL,
            PRIMARY KEY (ts_ms, era)
        ) WITHOUT ROWID""",
        "INSERT INTO ticks_v3 (ts_ms, era, grid_state, mode, price_import, price_export, "
        "baseline_grid_kw) SELECT ts_ms, 0, grid_state, mode, price_import, price_export, "
        "baseline_grid_kw FROM ticks",
        "DROP TABLE ticks",
        "ALTER TABLE ticks_v3 RENAME TO ticks",
        """CREATE TABLE telemetry_raw_v3 (
            ts_ms INTEGER NOT NULL,
            era INTEGER NOT NULL,
            device_id INTEGER NOT NULL REFERENCES devices (id),
            power_kw REAL NOT NULL,        -- + into the device from the AC bus (grid: + import)
            soc_kwh REAL,
            plugged_in INTEGER,
            PRIMARY KEY (ts_ms, era, device_id)
        ) WITHOUT ROWID""",
        "INSERT INTO telemetry_raw_v3 (ts_ms, era, device_id, power_kw, soc_kwh, plugged_in) "
        "SELECT ts_ms, 0, device_id, power_kw, soc_kwh, plugged_in FROM telemetry_raw",
        "DROP TABLE telemetry_raw",
        "ALTER TABLE telemetry_raw_v3 RENAME TO telemetry_raw",
        """CREATE TABLE clock_steps (
            era INTEGER PRIMARY KEY,       -- the time line this step starts
            at_ms INTEGER NOT NULL,        -- time of its first status
            previous_ms INTEGER NOT NULL   -- time of the status before, on the old time line
        )""",
        "ALTER TABLE site_1m ADD COLUMN first_era INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE site_1m ADD COLUMN last_era INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE site_15m ADD COLUMN first_era INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE site_15m ADD COLUMN last_era INTEGER NOT NULL DEFAULT 0",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code writes."""


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's ``PRAGMA user_version`` (0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path, target: int = SCHEMA_VERSION) -> int:
    """Bring the database at ``path`` to version ``target``, one transaction per step; returns the old version.

    Raises StoreVersionError when the file is newer than this code knows.
    """
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise StoreVersionError(
            f"{path} has store schema version {current}, but this voltbridge knows versions up to "
            f"{SCHEMA_VERSION}: it was written by a newer voltbridge. Upgrade voltbridge, or move "
            f"the file aside to start a new history."
        )
    for version in range(current, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with WAL and the busy timeout set."""
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
    except sqlite3.Error as exc:
        raise StoreError(
            f"cannot open the store at {path}: {exc}. Check that its folder exists and is writable."
        ) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if read_only:
            conn.execute("PRAGMA query_only = ON")
            return conn
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(
                f"cannot use write-ahead logging for {path} (journal mode stays {mode!r}); put the "
                f"store on a local disk, not a network share."
            )
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"{path} is not a voltbridge store or is damaged ({exc}). Move it aside; voltbridge "
            f"starts a new history in its place."
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn
