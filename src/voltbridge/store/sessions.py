"""Charging and discharging sessions: one per car from plug-in to unplug, derived from the status stream, with energy and money.

Between two statuses the first one holds (as in ``money``): while a car is plugged in, over
``dt_h`` hours at AC power ``p`` [kW] with grid power ``g`` [kW],

    charged_kwh += max(p, 0) * dt_h             cost  += max(p, 0) * dt_h * price_import
    discharged_kwh += d * dt_h,  d = max(-p, 0)
    value += (min(d, max(-g, 0)) * price_export + (d - min(d, max(-g, 0))) * price_import) * dt_h

so discharge counts as exported up to what the home exported (at the export price) and the rest
as displacing imports (at the import price). With several storages discharging at once this
credits the export to each of them: a simple upper bound, not an allocation. Unknown prices count
as nothing. Intervals longer than the store's gap limit are not integrated.

A session starts at the first status that sees the car plugged in and ends at the first that sees
it unplugged (or absent), or, when data is missing in between, at the last status that saw it
plugged in. Open sessions are stored with ``end_ms`` NULL and resumed after a restart.

When the clock steps back (see ``schema``) the open sessions end where they were last seen and
new ones start at the first status of the new time line: a session never ends before it starts.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from voltbridge.store.codec import HOUR_MS, iso
from voltbridge.store.sample import Sample


@dataclass
class Session:
    """One plug-in of one car; energy [kWh] and money [currency] so far."""

    vehicle: str
    start_ms: int
    last_at_ms: int
    end_ms: int | None = None
    charged_kwh: float = 0.0
    discharged_kwh: float = 0.0
    cost: float = 0.0
    value: float = 0.0
    id: int | None = None


class SessionTracker:
    """Open sessions per car, and those changed since the last commit."""

    def __init__(self, max_gap_ms: int) -> None:
        self.max_gap_ms = max_gap_ms
        self.open: dict[str, Session] = {}
        self.dirty: list[Session] = []

    def load_open(self, conn: sqlite3.Connection) -> None:
        """Resume the sessions left open by a previous run."""
        rows = conn.execute(
            "SELECT id, vehicle, start_ms, last_at_ms, charged_kwh, discharged_kwh, cost, value "
            "FROM sessions WHERE end_ms IS NULL ORDER BY start_ms"
        ).fetchall()
        for row in rows:
            self.open[row[1]] = Session(
                vehicle=row[1],
                start_ms=row[2],
                last_at_ms=row[3],
                charged_kwh=row[4],
                discharged_kwh=row[5],
                cost=row[6],
                value=row[7],
                id=row[0],
            )

    def observe(self, held: Sample | None, current: Sample, clock_stepped: bool = False) -> None:
        """Integrate ``[held, current)`` into the open sessions, then open or close them at ``current``.

        ``clock_stepped``: ``current`` starts a new time line (the clock stepped back); every
        open session ends at its last status and plugged-in cars start new ones.
        """
        if clock_stepped:
            for name, session in list(self.open.items()):
                session.end_ms = session.last_at_ms
                del self.open[name]
                self._touch(session)
        elif held is not None and 0 < current.at_ms - held.at_ms <= self.max_gap_ms:
            dt_h = (current.at_ms - held.at_ms) / HOUR_MS
            exported_kw = 0.0 if held.grid_kw is None else max(-held.grid_kw, 0.0)
            price_import = held.price_import or 0.0
            price_export = held.price_export or 0.0
            for name, session in self.open.items():
                car = held.vehicles.get(name)
                if car is None or not car.plugged_in or car.power_kw is None:
                    continue  # not there, or its power unknown: nothing is counted
                charge_kw = max(car.power_kw, 0.0)
                discharge_kw = max(-car.power_kw, 0.0)
                exported_share_kw = min(discharge_kw, exported_kw)
                session.charged_kwh += charge_kw * dt_h
                session.discharged_kwh += discharge_kw * dt_h
                session.cost += charge_kw * dt_h * price_import
                session.value += (
                    exported_share_kw * price_export
                    + (discharge_kw - exported_share_kw) * price_import
                ) * dt_h
                self._touch(session)
        for name in list(self.open):
            car = current.vehicles.get(name)
            session = self.open[name]
            if car is not None and car.plugged_in:
                session.last_at_ms = current.at_ms
                self._touch(session)
                continue
            seen_recently = current.at_ms - session.last_at_ms <= self.max_gap_ms
            session.end_ms = current.at_ms if seen_recently else session.last_at_ms
            del self.open[name]
            self._touch(session)
        for name, car in current.vehicles.items():
            if car.plugged_in and name not in self.open:
                self.open[name] = Session(name, current.at_ms, current.at_ms)
                self._touch(self.open[name])

    def write(self, conn: sqlite3.Connection) -> list[tuple[Session, int]]:
        """Write the changed sessions in the caller's transaction; returns the new rows' ids to set after commit."""
        new_ids = []
        for s in self.dirty:
            values = (
                s.end_ms,
                s.last_at_ms,
                s.charged_kwh,
                s.discharged_kwh,
                s.cost,
                s.value,
            )
            if s.id is None:
                cursor = conn.execute(
                    "INSERT INTO sessions (vehicle, start_ms, end_ms, last_at_ms, charged_kwh, "
                    "discharged_kwh, cost, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (s.vehicle, s.start_ms, *values),
                )
                new_ids.append((s, int(cursor.lastrowid or 0)))
            else:
                conn.execute(
                    "UPDATE sessions SET end_ms = ?, last_at_ms = ?, charged_kwh = ?, "
                    "discharged_kwh = ?, cost = ?, value = ? WHERE id = ?",
                    (*values, s.id),
                )
        return new_ids

    def committed(self, new_ids: list[tuple[Session, int]]) -> None:
        """After the commit: the new rows' ids are known and nothing is dirty."""
        for session, row_id in new_ids:
            session.id = row_id
        self.dirty.clear()

    def _touch(self, session: Session) -> None:
        if not any(s is session for s in self.dirty):
            self.dirty.append(session)


def sessions_between(
    conn: sqlite3.Connection, start_ms: int | None, end_ms: int | None, limit: int
) -> list[dict[str, Any]]:
    """Sessions overlapping ``[start_ms, end_ms)`` (either bound may be open), newest start first."""
    where = []
    params: list[Any] = []
    if end_ms is not None:
        where.append("start_ms < ?")
        params.append(end_ms)
    if start_ms is not None:
        where.append("(end_ms IS NULL OR end_ms > ?)")
        params.append(start_ms)
    sql = (
        "SELECT id, vehicle, start_ms, end_ms, charged_kwh, discharged_kwh, cost, value "
        "FROM sessions"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY start_ms DESC, id DESC LIMIT ?"
    )
    rows = conn.execute(sql, (*params, limit)).fetchall()
    return [
        {
            "id": row[0],
            "vehicle": row[1],
            "start": iso(row[2]),
            "end": None if row[3] is None else iso(row[3]),
            "charged_kwh": row[4],
            "discharged_kwh": row[5],
            "cost": row[6],
            "value": row[7],
        }
        for row in rows
    ]
