"""Program income at home: what the site's programs pay for a period so far, settled from the
recorded telemetry (the store's grid power history) and the events the controller knows.

The dashboard asks "what did the grid programs pay this month?". The answer is the simulator's
settlement (``programs.settle``) run on what the meter recorded: grid power per bucket from the
store, the events of the controller's book with the household's answer, and the site's program
definitions. The history starts ``LOOKBACK`` before the period so that day-matching baselines
("10 of 10") find their past days.

What is not known is said, never counted as 0: no grid reading in the period, or an event taken
part in whose window or baseline days have a gap in the recording, make the total unknown
(``None``) with a note saying why. Known limits: the yearly caps of a program are counted over
the events the controller still keeps (the last ``KEEP_PAST``), not the whole year; a baseline
day with a gap in the event's hours makes that event unknown rather than being passed over.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.models import Program
from voltbridge.programs.settle import EventSettlement, settle_events, settle_program

LOOKBACK = timedelta(days=28)
"""History read before the period for the baselines: 10 eligible working days (or 4 weekend
days), events' days excluded, fit in four weeks."""

RESOLUTION_S = 300
"""Bucket of the grid power history settled on [s]: events start on the minute, mostly on the
hour; five minutes keeps a window's edges within a bucket of the truth."""


@dataclass(frozen=True)
class ProgramTerms:
    """One of the site's programs as the income is settled: its definition and the capacity
    offered to it [kW] (``[[programs]]`` ``capacity_kw``; 0 when it pays no capacity)."""

    program: Program
    capacity_kw: float = 0.0


@dataclass(frozen=True)
class MeteredGrid:
    """Recorded grid power on a regular grid: NaN where nothing was recorded.

    Attributes:
        grid: the buckets (the last one ends at the period's end).
        grid_kw: mean net import per bucket [kW], NaN in a gap.
        plugged_in: per bucket, whether any car was recorded plugged in.
    """

    grid: TimeGrid
    grid_kw: FloatArray
    plugged_in: np.ndarray

    def recorded_between(self, start: datetime, end: datetime) -> bool:
        """Whether any grid reading lies in ``[start, end)``."""
        starts = self.grid.edges_s[:-1]
        inside = (starts >= int(start.timestamp())) & (starts < int(end.timestamp()))
        return bool(np.any(np.isfinite(self.grid_kw[inside])))

    def part(self, start: datetime, end: datetime) -> MeteredGrid | None:
        """The buckets starting in ``[start, end)``, or None when there are none."""
        starts = self.grid.edges_s[:-1]
        idx = np.flatnonzero((starts >= int(start.timestamp())) & (starts < int(end.timestamp())))
        if idx.size == 0:
            return None
        edges = self.grid.edges_s[idx[0] : idx[-1] + 2]
        return MeteredGrid(TimeGrid(edges), self.grid_kw[idx].copy(), self.plugged_in[idx].copy())


def metered_grid(
    rows: Iterable[Mapping[str, Any]], start: datetime, end: datetime, resolution_s: int
) -> MeteredGrid | None:
    """The store's history rows (``StoreReader.history``'s shape) on buckets of
    ``resolution_s`` from ``start`` (floored to a bucket) to ``end``; None for an empty range."""
    res = int(resolution_s)
    lo = int(start.timestamp()) // res * res
    hi = int(end.timestamp())
    if hi <= lo:
        return None
    inner = np.arange(lo, hi, res, dtype=np.int64)
    edges = np.concatenate((inner, [hi])).astype(np.int64)
    grid_kw = np.full(inner.size, np.nan)
    plugged = np.zeros(inner.size, dtype=bool)
    for row in rows:
        at = int(datetime.fromisoformat(str(row["at"]).replace("Z", "+00:00")).timestamp())
        i = (at - lo) // res
        if at % res or not 0 <= i < inner.size:
            continue  # a bucket of another resolution or outside the range: not ours to guess
        kw = row.get("grid_kw")
        if kw is not None and math.isfinite(float(kw)):
            grid_kw[i] = float(kw)
        cars = row.get("vehicles") or {}
        plugged[i] = any(bool(car.get("plugged_in")) for car in cars.values())
    return MeteredGrid(TimeGrid(edges), grid_kw, plugged)


def _event_json(e: EventSettlement, known: bool) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "start": e.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "took_part": e.took_part,
        "counted": e.counted,
        "note": e.note if known else "the recording has a gap in its window or baseline days",
        "baseline_kwh": round(e.baseline_kwh, 4) if known else None,
        "actual_kwh": round(e.actual_kwh, 4) if known else None,
        "delivered_kwh": round(e.delivered_kwh, 4) if known else None,
        "payment": round(e.payment, 4) if known else None,
        "penalty": round(e.penalty, 4),
    }


def settle_period(
    terms: Sequence[ProgramTerms],
    rows: Iterable[Mapping[str, Any]],
    events: Sequence[ProgramEvent],
    timezone: str,
    start: datetime,
    end: datetime,
    resolution_s: int = RESOLUTION_S,
) -> dict[str, Any]:
    """Program income of ``[start, end)`` for the API [currency, kWh].

    Args:
        terms: the site's programs.
        rows: grid power history from ``start - LOOKBACK`` to ``end`` in buckets of
            ``resolution_s``.
        events: the known events, each with the household's answer resolved (``take_part``
            or ``skip``; ``undecided`` is settled as taken part in).
        timezone: the site's IANA zone (a program's own wins).

    Returns ``{"total", "delivered_kwh", "programs": [...], "note"}``; ``total`` and
    ``delivered_kwh`` are None when unknown (see the module docstring). Events are those that
    start in the period; capacity and credits count the share of the period's months elapsed.
    """
    out: dict[str, Any] = {"total": 0.0, "delivered_kwh": 0.0, "programs": [], "note": ""}
    if not terms:
        out["note"] = "no grid program is configured for this site"
        return out
    metered = metered_grid(rows, start - LOOKBACK, end, resolution_s)
    if metered is None or not metered.recorded_between(start, end):
        return {
            "total": None,
            "delivered_kwh": None,
            "programs": [
                {"program": t.program.id, "title": t.program.title, "income": None} for t in terms
            ],
            "note": "no grid power recorded in this period: program income is not known",
        }
    period = metered.part(start, end)
    assert period is not None  # a reading lies in the period
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    unknown_events = 0
    programs: list[dict[str, Any]] = []
    for t in terms:
        settled = [
            e
            for e in settle_events(t.program, metered.grid, metered.grid_kw, list(events), timezone)
            if lo <= e.start < hi and e.counted
        ]
        known = [
            not e.took_part or (math.isfinite(e.baseline_kwh) and math.isfinite(e.actual_kwh))
            for e in settled
        ]
        fixed = settle_program(
            t.program,
            period.grid,
            period.grid_kw,
            [],
            timezone,
            plugged_in=period.plugged_in,
            capacity_kw=t.capacity_kw,
        )
        payment = sum(e.payment for e, ok in zip(settled, known, strict=True) if e.took_part and ok)
        penalties = sum(e.penalty for e in settled)
        delivered = sum(
            e.delivered_kwh for e, ok in zip(settled, known, strict=True) if e.took_part and ok
        )
        all_known = all(known)
        unknown_events += known.count(False)
        income = payment + fixed.capacity_payment + fixed.credit - penalties
        programs.append(
            {
                "program": t.program.id,
                "title": t.program.title,
                "currency": t.program.currency,
                "income": round(income, 4) if all_known else None,
                "event_payment": round(payment, 4) if all_known else None,
                "capacity_payment": round(fixed.capacity_payment, 4),
                "credit": round(fixed.credit, 4),
                "penalties": round(penalties, 4),
                "delivered_kwh": round(delivered, 4) if all_known else None,
                "events": [_event_json(e, ok) for e, ok in zip(settled, known, strict=True)],
            }
        )
    out["programs"] = programs
    if unknown_events:
        out["total"] = out["delivered_kwh"] = None
        out["note"] = (
            f"{unknown_events} event(s) taken part in have a gap in the recording of their window "
            "or baseline days: program income is not known"
        )
    else:
        out["total"] = round(sum(p["income"] for p in programs), 4)
        out["delivered_kwh"] = round(sum(p["delivered_kwh"] for p in programs), 4)
    return out


def answered(
    events: Iterable[ProgramEvent], taking_part: Callable[[ProgramEvent], bool]
) -> list[ProgramEvent]:
    """``events`` with each undecided answer resolved by ``taking_part(event)`` (the book's
    default for its program), as they are settled."""
    return [
        e
        if e.choice != "undecided"
        else replace(e, choice="take_part" if taking_part(e) else "skip")
        for e in events
    ]
