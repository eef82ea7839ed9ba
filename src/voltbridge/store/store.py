"""The SQLite store: records the controller's statuses, events and plans (a ``Recorder``) and answers the API's queries.

Durability: write-ahead logging with ``synchronous=FULL`` (see ``schema.SYNCHRONOUS``). Statuses
are buffered and committed together at least every ``commit_interval_s`` of the injected clock
(checked on each record call), on ``flush()`` and on ``close()``; events, plans and settings are
committed at once. A killed process (even ``kill -9``) loses at most the uncommitted buffer and
never what was committed; the file is never left damaged.

Threads: one writer connection behind a lock (record calls, ``flush``, ``prune``, ``close``), so
the controller may write from any one thread; reads take a connection of their own from a small
pool and run inside one read transaction (a consistent snapshot), so the API can read from its
threads while the controller writes. Reads see what is committed, at most ``commit_interval_s``
behind the live status.

Clock steps: a status whose time is not after the last one's (the clock stepped back: NTP, a
restart of a demo whose clock runs faster than real time) is kept, never dropped. It starts a
new time line (see ``schema``), recorded in ``clock_steps`` and told in a warning event; history
buckets that mix time lines say so, money counts the energy of both, sessions open across the
step end at their last status and start again.

Storage trouble in a record call (disk full, a lock held too long) is logged and the batch kept
for the next try, never raised into the control loop; ``flush()`` and ``close()`` raise it.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from voltbridge.core.clock import Clock
from voltbridge.core.status import ControlEvent, ControlStatus
from voltbridge.core.timegrid import ensure_utc
from voltbridge.store import records
from voltbridge.store.codec import to_ms
from voltbridge.store.errors import StoreError
from voltbridge.store.history import history_between
from voltbridge.store.money import money_between, money_pieces
from voltbridge.store.retention import Retention, prune
from voltbridge.store.sample import Sample, sample_from_dict, sample_from_status
from voltbridge.store.schema import connect, migrate
from voltbridge.store.sessions import SessionTracker, sessions_between
from voltbridge.store.telemetry import DeviceIds, TelemetryBuffer

log = logging.getLogger(__name__)

MAX_PENDING_STATUSES = 36_000
"""Raw rows of at most this many statuses wait while commits fail (10 h at one a second); older
ones are dropped (their rollups and money are kept)."""


DEFAULT_RETENTION = Retention()
"""Raw 7 days, 1-minute 90 days, 15-minute forever, events 365 days, plans 7 days."""


class Store:
    """Telemetry, sessions, money, events, plans and settings in one SQLite file.

    Args:
        path: the database file; its folder is created. One process writes it at a time.
        clock: decides when to commit and prune (statuses carry their own times).
        retention: how long each kind of record is kept.
        commit_interval_s: most time buffered statuses wait before a commit [s].
        max_gap_s: longest time between two statuses that is integrated into energy and money;
            longer gaps count as missing data [s].
        prune_interval_s: time between two prunes run from the record calls [s].

    Raises:
        StoreError: the file cannot be opened or is not a voltbridge store.
        StoreVersionError: the file was written by a newer voltbridge.
    """

    def __init__(
        self,
        path: Path,
        clock: Clock,
        retention: Retention = DEFAULT_RETENTION,
        commit_interval_s: float = 1.0,
        *,
        max_gap_s: float = 60.0,
        prune_interval_s: float = 3600.0,
    ) -> None:
        for name, value in (
            ("commit_interval_s", commit_interval_s),
            ("prune_interval_s", prune_interval_s),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"Store {name} is {value!r}; give a number of seconds >= 0")
        if not (math.isfinite(max_gap_s) and max_gap_s > 0):
            raise ValueError(f"Store max_gap_s is {max_gap_s!r}; give a number of seconds > 0")
        self.path = Path(path)
        self.retention = retention
        self._clock = clock
        self._commit_interval_s = commit_interval_s
        self._max_gap_ms = round(max_gap_s * 1000)
        self._prune_interval_s = prune_interval_s
        self._lock = threading.RLock()
        self._pool_lock = threading.Lock()
        self._idle_readers: list[sqlite3.Connection] = []
        self._closed = False

        self._telemetry = TelemetryBuffer()
        self._device_ids = DeviceIds()
        self._sessions = SessionTracker(self._max_gap_ms)
        self._events: list[tuple[int, str, str, str | None, str]] = []
        self._plans: list[tuple[int, str]] = []
        self._settings: list[tuple[int, str]] = []
        self._steps: list[tuple[int, int, int]] = []
        self._latest_status: tuple[int, dict[str, Any]] | None = None
        self._held: Sample | None = None
        self._era = 0
        self._last_ms: int | None = None
        self.clock_steps = 0
        """Backward clock steps seen by this store object (each one a new time line)."""

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder {self.path.parent} for the store: {exc}. Create it, or "
                f"choose another path."
            ) from exc
        self._writer = connect(self.path)
        try:
            migrate(self._writer, self.path)
            self._sessions.load_open(self._writer)
            last = records.latest_status(self._writer)
            self._held = None if last is None else sample_from_dict(last)
            self._era, self._last_ms = records.last_era(self._writer)
            if self._held is not None:
                self._last_ms = max(self._held.at_ms, self._last_ms or self._held.at_ms)
        except sqlite3.Error as exc:
            self._writer.close()
            raise StoreError(
                f"{self.path} could not be prepared as a voltbridge store ({exc}). If it belongs to "
                f"something else, choose another path; if it is damaged, move it aside."
            ) from exc
        except BaseException:
            self._writer.close()
            raise
        self._last_commit = clock.now()
        self._last_prune: datetime | None = None

    # -- Recorder --------------------------------------------------------------------------------

    def record_status(self, status: ControlStatus) -> None:
        """Buffer one tick's telemetry, money and session changes; commit when the interval has passed."""
        with self._lock:
            self._check_open()
            sample = sample_from_status(status)
            held = self._held
            stepped = self._last_ms is not None and sample.at_ms <= self._last_ms
            if stepped:
                self._start_time_line(sample.at_ms)
            self._telemetry.add_status(status, sample.at_ms, self._era)
            if not stepped and held is not None and sample.at_ms - held.at_ms <= self._max_gap_ms:
                for minute_ms, delta in money_pieces(held, sample.at_ms):
                    self._telemetry.add_money(minute_ms, delta)
            self._sessions.observe(held, sample, clock_stepped=stepped)
            self._held = sample
            self._last_ms = sample.at_ms
            self._latest_status = (sample.at_ms, status.to_dict())
            if stepped:
                self._commit_quietly()  # the step's event, like every event, at once
            self._after_record()

    def record_event(self, event: ControlEvent) -> None:
        """Store one event, committed at once (with whatever is buffered)."""
        with self._lock:
            self._check_open()
            self._events.append(records.event_row(event))
            self._commit_quietly()
            self._after_record()

    def record_plan(self, at: datetime, plan: dict[str, Any]) -> None:
        """Store a plan (``plan_to_dict``'s shape) made at ``at``, committed at once."""
        with self._lock:
            self._check_open()
            self._plans.append(records.plan_row(to_ms(at), plan))
            self._commit_quietly()
            self._after_record()

    def record_settings(self, at: datetime, settings: dict[str, Any]) -> None:
        """Store the household's settings (JSON-ready) as changed at ``at``, committed at once.

        Like every record call this does not raise for storage trouble (it is retried with the
        next commit); call ``flush()`` after it to be told.
        """
        with self._lock:
            self._check_open()
            self._settings.append(records.settings_row(to_ms(at), settings))
            self._commit_quietly()

    # -- Writing ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Commit everything buffered now; StoreError when it cannot (the buffer is kept)."""
        with self._lock:
            self._check_open()
            self._commit_or_raise()

    def prune(self, now: datetime) -> dict[str, int]:
        """Delete what is older than the retention at ``now``; returns rows deleted per table."""
        now_ms = to_ms(now)
        with self._lock:
            self._check_open()
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                deleted = prune(conn, self.retention, now_ms)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(
                    f"could not delete old records from {self.path}: {exc}. Check the disk; "
                    f"pruning is tried again within the hour."
                ) from exc
            self._last_prune = self._clock.now()
            return deleted

    def close(self) -> None:
        """Commit what is buffered and close every connection; StoreError if that last commit fails."""
        with self._lock:
            if self._closed:
                return
            error: StoreError | None = None
            try:
                self._commit_or_raise()
            except StoreError as exc:
                error = exc
            self._closed = True
            try:
                self._writer.execute("PRAGMA optimize")
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # housekeeping only; the next open does the same
            self._writer.close()
            with self._pool_lock:
                for conn in self._idle_readers:
                    conn.close()
                self._idle_readers.clear()
            if error is not None:
                raise error

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- Queries ---------------------------------------------------------------------------------

    def history(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        """Telemetry per bucket of ``resolution_s`` seconds overlapping ``[start, end)``, oldest first.

        Each row: ``{"at", "grid_kw", "pv_kw", "load_kw", "battery_kw", "battery_soc_kwh",
        "vehicles": {name: {"kw", "soc_kwh", "plugged_in"}}, "grid_state", "clock_stepped"}``;
        power [kW] is the mean over the bucket, SoC [kWh] and plugged-in the last known, grid
        state the worst; None where a device has no data; ``clock_stepped`` True when the bucket
        holds statuses of two time lines (the clock stepped back into it). Buckets without data are left out. See ``history``'s
        module for which table serves which resolution.

        Raises:
            ValueError: ``resolution_s`` < 1, ``end`` <= ``start``, a naive datetime, or too
                many buckets.
        """
        if isinstance(resolution_s, bool) or not isinstance(resolution_s, int) or resolution_s < 1:
            raise ValueError(
                f"resolution_s is {resolution_s!r}; give a whole number of seconds >= 1"
            )
        start_ms, end_ms = _range_ms(start, end)
        with self._reading() as conn:
            return history_between(conn, start_ms, end_ms, resolution_s)

    def events(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Events in ``[start, end)`` newest first (by record order): ``ControlEvent.to_dict()`` plus ``"id"``.

        Raises:
            ValueError: an unknown kind, ``limit`` < 1, a naive datetime, or ``end`` <= ``start``.
        """
        records.check_kind(kind)
        _check_limit(limit)
        start_ms, end_ms = _open_range_ms(start, end)
        with self._reading() as conn:
            return records.events_between(conn, start_ms, end_ms, kind, limit)

    def sessions(
        self, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Sessions overlapping ``[start, end)``, newest first.

        Each: ``{"id", "vehicle", "start", "end", "charged_kwh", "discharged_kwh", "cost",
        "value"}``; ``end`` is None while the car is plugged in (as of the last commit).
        """
        _check_limit(limit)
        start_ms, end_ms = _open_range_ms(start, end)
        with self._reading() as conn:
            return sessions_between(conn, start_ms, end_ms, limit)

    def money(self, start: datetime, end: datetime) -> dict[str, float]:
        """The bill of ``[start, end)`` in whole minutes [currency, kWh].

        ``{"import_cost", "export_revenue", "net_cost", "baseline_cost", "savings",
        "import_kwh", "export_kwh"}``; ``net_cost = import_cost - export_revenue`` and
        ``savings = baseline_cost - net_cost``. Minutes count when their start lies in the
        range; ask on minute boundaries for exact figures.
        """
        start_ms, end_ms = _range_ms(start, end)
        with self._reading() as conn:
            return money_between(conn, start_ms, end_ms)

    def latest_plan(self) -> dict[str, Any] | None:
        """The plan recorded last, with its ``"created"`` time, or None."""
        with self._reading() as conn:
            return records.latest_plan(conn)

    def latest_status(self) -> dict[str, Any] | None:
        """The last committed status (``ControlStatus.to_dict()``), or None."""
        with self._reading() as conn:
            return records.latest_status(conn)

    def latest_settings(self) -> dict[str, Any] | None:
        """The settings recorded last, or None."""
        with self._reading() as conn:
            return records.latest_settings(conn)

    # -- Inside ----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store at {self.path} is closed; open a new Store to use it")

    def _start_time_line(self, at_ms: int) -> None:
        """The clock stepped back to ``at_ms``: a new era, its step row and a warning event."""
        previous_ms = self._last_ms if self._last_ms is not None else at_ms
        self._era += 1
        self.clock_steps += 1
        self._steps.append((self._era, at_ms, previous_ms))
        event = records.clock_step_event_row(self._era, at_ms, previous_ms)
        self._events.append(event)
        log.warning("store %s: %s", self.path, event[2])

    def _after_record(self) -> None:
        now = self._clock.now()
        if (now - self._last_commit).total_seconds() >= self._commit_interval_s:
            self._commit_quietly()
        if (
            self._last_prune is None
            or (now - self._last_prune).total_seconds() >= self._prune_interval_s
        ):
            try:
                self.prune(now)
            except StoreError as exc:
                self._last_prune = now
                log.warning("%s", exc)

    def _has_pending(self) -> bool:
        return bool(
            self._telemetry
            or self._sessions.dirty
            or self._events
            or self._steps
            or self._plans
            or self._settings
            or self._latest_status
        )

    def _commit(self) -> None:
        """Write everything pending in one transaction; on failure roll back and keep it."""
        self._last_commit = self._clock.now()
        if not self._has_pending():
            return
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._telemetry.write(conn, self._device_ids)
            new_ids = self._sessions.write(conn)
            records.write_events(conn, self._events)
            records.write_clock_steps(conn, self._steps)
            records.write_plans(conn, self._plans)
            records.write_settings(conn, self._settings)
            if self._latest_status is not None:
                records.write_latest_status(conn, *self._latest_status)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._device_ids.forget()
            raise
        self._telemetry.clear()
        self._sessions.committed(new_ids)
        self._events.clear()
        self._steps.clear()
        self._plans.clear()
        self._settings.clear()
        self._latest_status = None

    def _commit_or_raise(self) -> None:
        try:
            self._commit()
        except sqlite3.Error as exc:
            raise StoreError(
                f"could not commit to {self.path}: {exc}. Check that the disk has room and that "
                f"no other program holds the file; what is buffered is kept and tried again."
            ) from exc

    def _commit_quietly(self) -> None:
        try:
            self._commit_or_raise()
        except StoreError as exc:
            dropped = self._telemetry.drop_oldest_raw(MAX_PENDING_STATUSES)
            log.warning("%s%s", exc, f" ({dropped} raw statuses dropped)" if dropped else "")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            self._check_open()
            conn = self._idle_readers.pop() if self._idle_readers else None
        if conn is None:
            conn = connect(self.path, read_only=True)
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"could not read {self.path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        with self._pool_lock:
            if self._closed:
                conn.close()
            else:
                self._idle_readers.append(conn)


def _range_ms(start: datetime, end: datetime) -> tuple[int, int]:
    start_ms, end_ms = to_ms(ensure_utc(start)), to_ms(ensure_utc(end))
    if end_ms <= start_ms:
        raise ValueError(f"end {end.isoformat()} is not after start {start.isoformat()}")
    return start_ms, end_ms


def _open_range_ms(start: datetime | None, end: datetime | None) -> tuple[int | None, int | None]:
    start_ms = None if start is None else to_ms(start)
    end_ms = None if end is None else to_ms(end)
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        raise ValueError(f"end {end!s} is not after start {start!s}")
    return start_ms, end_ms


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit is {limit!r}; give a whole number >= 1")
