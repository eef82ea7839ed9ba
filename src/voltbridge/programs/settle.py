"""Settlement: what a household delivered in a program's events and what the program pays for a
period, from the metered grid power (import +, export -) [kW] on a time grid.

Per event: delivered energy is the program's baseline minus the metered net import over the
window (``programs.baseline``), paid at the event's price (the program's when the event names
none). Events beyond the program's yearly caps (events, hours, counted in the order they were
called) are not paid; a skipped event earns nothing and costs the program's opt-out penalties.
Capacity payments and monthly credits are counted per local calendar month, a part month earning
its share. Pure functions: the same inputs always give the same settlement.

Choices and limits of the model: an ``undecided`` event is settled as taken part in (the meter
decides; ELRP-like programs enrol by default). Eligible baseline days are told apart as working
days and weekend days; public holidays are not excluded. A past day counts for the baseline only
when it has metered steps at exactly the event's local times (a day with a gap, or the repeated
hour of a fall-back night, is passed over for an older one). Without any eligible past day the
baseline is 0 kW (the zero-export rule), as for a new meter with no history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.programs import baseline as bl
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.models import Baseline, Program
from voltbridge.tariffs.localclock import (
    civil_year,
    local_day_and_second,
    weekday,
    zone_offsets,
)

DAY_S = 86_400


@dataclass(frozen=True)
class EventSettlement:
    """One event as settled.

    Attributes:
        event_id, program, start, end: the event.
        took_part: False when the household skipped it.
        counted: False when the event fell outside the metered period or beyond a yearly cap.
        note: why an event was not counted or paid, "" otherwise.
        baseline_kwh: the baseline's energy over the window [kWh].
        actual_kwh: metered net import over the window [kWh] (negative: net export).
        delivered_kwh: what counts as delivered (after the program's floor and cap) [kWh].
        payment: paid for it [currency].
        penalty: charged for it [currency].
        baseline_days: past days the baseline averaged (0 for the zero-export rule).
        adjustment: the same-day adjustment factor applied (1 without one) [-].
    """

    event_id: str
    program: str
    start: datetime
    end: datetime
    took_part: bool
    counted: bool
    note: str
    baseline_kwh: float
    actual_kwh: float
    delivered_kwh: float
    payment: float
    penalty: float
    baseline_days: int = 0
    adjustment: float = 1.0


@dataclass(frozen=True)
class ProgramSettlement:
    """What one program pays over a period.

    Attributes:
        program: its id.
        currency: ISO 4217 code of every amount.
        events: each of its events in the period, in start order.
        event_payment: paid for delivered energy [currency].
        capacity_payment: paid for capacity offered [currency].
        credit: monthly credits earned [currency].
        penalties: opt-out and shortfall penalties [currency].
        monthly: net income per local month ``YYYY-MM`` [currency].
    """

    program: str
    currency: str
    events: tuple[EventSettlement, ...] = ()
    event_payment: float = 0.0
    capacity_payment: float = 0.0
    credit: float = 0.0
    penalties: float = 0.0
    monthly: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Net income: payments and credits less penalties [currency]."""
        return self.event_payment + self.capacity_payment + self.credit - self.penalties

    @property
    def delivered_kwh(self) -> float:
        """Energy delivered in the counted events the household took part in [kWh]."""
        return sum(e.delivered_kwh for e in self.events if e.counted and e.took_part)


@dataclass(frozen=True)
class _Clock:
    """Local day and second of every step start, and lookups on them."""

    day: np.ndarray
    second: np.ndarray
    key: np.ndarray

    @classmethod
    def of(cls, grid: TimeGrid, timezone: str) -> _Clock:
        starts = grid.edges_s[:-1]
        zone = zone_offsets(timezone, int(grid.edges_s[0]), int(grid.edges_s[-1]))
        day, second = local_day_and_second(zone, starts)
        return cls(day, second, day * DAY_S + second)

    def steps(self, day: int, seconds: np.ndarray) -> np.ndarray | None:
        """Indices of the steps of local ``day`` at ``seconds``; None if any is missing."""
        wanted = day * DAY_S + seconds
        pos = np.searchsorted(self.key, wanted)
        if np.any(pos >= self.key.size):
            return None
        if not np.array_equal(self.key[pos], wanted):
            return None
        return pos


def _baseline_kw(
    rule: Baseline,
    clock: _Clock,
    grid_kw: FloatArray,
    window: np.ndarray,
    excluded: np.ndarray,
) -> tuple[FloatArray, int, float]:
    """Baseline per step of ``window`` [kW], the days it used, and its adjustment factor."""
    if rule.rule == "zero-export":
        return bl.zero_export_baseline_kw(window.size), 0, 1.0
    event_day = int(clock.day[window[0]])
    seconds = clock.second[window]
    days = np.unique(clock.day)
    off = weekday(days) >= 5
    off_event = bool(weekday(np.array([event_day]))[0] >= 5)
    count = rule.weekend_days if off_event else 10
    highest = count if off_event or rule.rule == "10-of-10" else 5
    rows: list[FloatArray] = []
    used: list[int] = []
    # Walk back over eligible days until enough have metered data at the event's hours.
    for day in bl.eligible_days(event_day, days, off, excluded, days.size)[::-1]:
        idx = clock.steps(int(day), seconds)
        if idx is not None:
            rows.append(grid_kw[idx])
            used.append(int(day))
        if len(rows) == count:
            break
    if not rows:
        return bl.zero_export_baseline_kw(window.size), 0, 1.0
    history = np.array(rows[::-1])
    chosen = bl.selected_rows(history, count, highest)
    base = np.asarray(history[chosen].mean(axis=0), dtype=np.float64)
    ratio = 1.0
    if rule.same_day_adjustment_cap_pct is not None:
        days_used = [used[::-1][int(i)] for i in chosen]
        ratio = _adjustment(rule, clock, grid_kw, event_day, int(seconds[0]), days_used)
    return base * ratio, len(rows), ratio


def _adjustment(
    rule: Baseline,
    clock: _Clock,
    grid_kw: FloatArray,
    event_day: int,
    start_second: int,
    days_used: list[int],
) -> float:
    """The capped same-day factor over the ``adjustment_hours`` ending one hour before the event;
    the baseline there is the mean of the same days the event's baseline averaged."""
    assert rule.same_day_adjustment_cap_pct is not None
    hi = start_second - 3600
    lo = hi - rule.adjustment_hours * 3600
    if lo < 0:
        return 1.0
    today = np.flatnonzero((clock.day == event_day) & (clock.second >= lo) & (clock.second < hi))
    if today.size == 0:
        return 1.0
    seconds = clock.second[today]
    before_rows = []
    for day in days_used:
        idx = clock.steps(day, seconds)
        if idx is not None:
            before_rows.append(grid_kw[idx])
    if not before_rows:
        return 1.0
    before_kw = np.asarray(np.array(before_rows).mean(axis=0), dtype=np.float64)
    return bl.adjustment_ratio(grid_kw[today], before_kw, rule.same_day_adjustment_cap_pct)


def _month_labels(day: np.ndarray) -> np.ndarray:
    return np.asarray(day.astype("datetime64[D]").astype("datetime64[M]").astype(str))


def settle_events(
    program: Program,
    grid: TimeGrid,
    grid_kw: FloatArray,
    events: list[ProgramEvent],
    timezone: str,
) -> list[EventSettlement]:
    """Each of ``program``'s events among ``events`` settled on the metered ``grid_kw`` [kW]."""
    if program.event is None:
        return []
    pay = program.event
    tz = program.timezone or timezone
    clock = _Clock.of(grid, tz)
    starts = grid.edges_s[:-1]
    dt_h = grid.dt_h
    own = sorted((e for e in events if e.program == program.id), key=lambda e: e.start)
    zone = zone_offsets(tz, int(grid.edges_s[0]) - 400 * DAY_S, int(grid.edges_s[-1]))
    event_days = np.array(
        sorted(
            {
                int(local_day_and_second(zone, np.array([int(e.start.timestamp())]))[0][0])
                for e in own
            }
        ),
        dtype=np.int64,
    )
    year_events: dict[int, int] = {}
    year_hours: dict[int, float] = {}
    out: list[EventSettlement] = []
    for event in own:
        lo, hi = int(event.start.timestamp()), int(event.end.timestamp())
        day = int(local_day_and_second(zone, np.array([lo]))[0][0])
        year = int(civil_year(np.array([day]))[0])
        called = year_events.get(year, 0) + 1
        hours = year_hours.get(year, 0.0) + event.hours
        year_events[year], year_hours[year] = called, hours
        took_part = event.choice != "skip"
        window = np.flatnonzero((starts >= lo) & (starts < hi))

        def unpaid(note: str, event: ProgramEvent = event, took_part: bool = took_part) -> None:
            out.append(
                EventSettlement(
                    event.event_id,
                    program.id,
                    event.start,
                    event.end,
                    took_part,
                    False,
                    note,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                )
            )

        limits = program.limits
        if limits.max_events_per_year is not None and called > limits.max_events_per_year:
            unpaid(f"beyond the program's {limits.max_events_per_year} events a year")
            continue
        if limits.max_hours_per_year is not None and hours > limits.max_hours_per_year + 1e-9:
            unpaid(f"beyond the program's {limits.max_hours_per_year:g} h a year")
            continue
        if window.size == 0:
            unpaid("outside the metered period")
            continue
        base_kw, n_days, ratio = _baseline_kw(pay.baseline, clock, grid_kw, window, event_days)
        actual_kw = grid_kw[window]
        step_kw = base_kw - actual_kw
        if pay.cap_at_requested and event.requested_kw > 0:
            step_kw = np.minimum(step_kw, event.requested_kw)
        delivered = float(np.sum(step_kw * dt_h[window]))
        if pay.floor_at_zero:
            delivered = max(0.0, delivered)
        requested_kwh = event.requested_kw * event.hours
        price = event.payment_per_kwh if event.payment_per_kwh > 0 else pay.per_kwh
        short_rate = program.opt_out.penalty_per_kwh_short
        if took_part:
            payment = price * delivered
            penalty = short_rate * max(0.0, requested_kwh - delivered)
            note = ""
        else:
            payment = 0.0
            penalty = program.opt_out.penalty_per_event + short_rate * requested_kwh
            note = "skipped by the household"
        out.append(
            EventSettlement(
                event.event_id,
                program.id,
                event.start,
                event.end,
                took_part,
                True,
                note,
                float(np.sum(base_kw * dt_h[window])),
                float(np.sum(actual_kw * dt_h[window])),
                delivered,
                payment,
                penalty,
                n_days,
                ratio,
            )
        )
    return out


def month_fractions(grid: TimeGrid, timezone: str) -> dict[str, float]:
    """Share of each local calendar month ``YYYY-MM`` the grid covers [-].

    >>> from datetime import UTC, datetime
    >>> g = TimeGrid.regular(datetime(2026, 6, 1, tzinfo=UTC), 24 * 15, 60)
    >>> month_fractions(g, "UTC")
    {'2026-06': 0.5}
    """
    clock = _Clock.of(grid, timezone)
    labels = _month_labels(clock.day)
    out: dict[str, float] = {}
    for label in np.unique(labels):
        start = np.datetime64(str(label), "M")
        length = int(
            ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(int)
        )
        hours = float(np.sum(grid.dt_h[labels == label]))
        out[str(label)] = hours / (24.0 * length)
    return out


def settle_program(
    program: Program,
    grid: TimeGrid,
    grid_kw: FloatArray,
    events: list[ProgramEvent],
    timezone: str,
    *,
    plugged_in: np.ndarray | None = None,
    capacity_kw: float = 0.0,
) -> ProgramSettlement:
    """Everything ``program`` pays over ``grid``: events, capacity and monthly credits.

    Args:
        grid_kw: metered net import per step [kW] (import +, export -).
        events: grid events (other programs' are ignored).
        timezone: the site's IANA timezone (the program's own wins).
        plugged_in: per step, whether a car was plugged in (for a monthly credit's condition);
            None counts as never.
        capacity_kw: capacity offered to the program [kW], for a capacity payment.
    """
    if grid_kw.shape != (grid.n,):
        raise ValueError(f"grid_kw has shape {grid_kw.shape}, the grid has {grid.n} steps")
    tz = program.timezone or timezone
    settled = settle_events(program, grid, grid_kw, events, timezone)
    clock = _Clock.of(grid, tz)
    labels = _month_labels(clock.day)
    fractions = month_fractions(grid, tz)
    monthly = dict.fromkeys(fractions, 0.0)
    zone = zone_offsets(tz, int(grid.edges_s[0]), int(grid.edges_s[-1]) + DAY_S)
    for e in settled:
        if not e.counted:
            continue
        day = local_day_and_second(zone, np.array([int(e.start.timestamp())]))[0]
        label = str(_month_labels(day)[0])
        monthly[label] = monthly.get(label, 0.0) + e.payment - e.penalty
    capacity = 0.0
    if program.capacity is not None and capacity_kw > 0:
        for label, share in fractions.items():
            if int(label[5:7]) in program.capacity.months:
                amount = program.capacity.per_kw_month * capacity_kw * share
                capacity += amount
                monthly[label] += amount
    credit = 0.0
    if program.credit is not None:
        plugged = np.zeros(grid.n, bool) if plugged_in is None else np.asarray(plugged_in, bool)
        for label, share in fractions.items():
            mask = labels == label
            days = np.unique(clock.day[mask])
            plugged_h = np.array(
                [float(np.sum(grid.dt_h[mask & (clock.day == d) & plugged])) for d in days]
            )
            qualifying = float(np.mean(plugged_h >= program.credit.min_plugged_in_h_per_day - 1e-9))
            if 100.0 * qualifying >= program.credit.min_qualifying_days_pct - 1e-9:
                amount = program.credit.amount * share
                credit += amount
                monthly[label] += amount
    return ProgramSettlement(
        program=program.id,
        currency=program.currency,
        events=tuple(settled),
        event_payment=sum(e.payment for e in settled),
        capacity_payment=capacity,
        credit=credit,
        penalties=sum(e.penalty for e in settled),
        monthly=monthly,
    )
