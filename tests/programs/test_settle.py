"""Settlement on a 12-day hourly series checked on paper, and against an independent recount.

Days 1-12 June 2026 (UTC, 1 June a Monday); net import is 1 kW everywhere except in 17:00-19:00,
where day d draws V[d] kW. An event on Friday 12 June 17:00-19:00 meets -1 kW (the car exports),
an earlier event on Wednesday 3 June is skipped. Eligible days for 12 June: the weekdays before it
but 3 June: 1, 2, 4, 5, 8, 9, 10, 11 June, with window use 1..8 kW.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbridge.core.timegrid import TimeGrid
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.models import Program
from voltbridge.programs.settle import month_fractions, settle_events, settle_program

START = datetime(2026, 6, 1, tzinfo=UTC)
V = {1: 1.0, 2: 2.0, 3: 9.0, 4: 3.0, 5: 4.0, 6: 20.0, 7: 20.0, 8: 5.0, 9: 6.0, 10: 7.0, 11: 8.0}


def series() -> tuple[TimeGrid, np.ndarray]:
    grid = TimeGrid.regular(START, 24 * 12, 60)
    kw = np.ones(grid.n)
    for day in range(1, 13):
        at = (day - 1) * 24 + 17
        kw[at : at + 2] = V.get(day, -1.0)
    return grid, kw


def event(day: int, choice: str = "take_part", **change: Any) -> ProgramEvent:
    start = START + timedelta(days=day - 1, hours=17)
    fields: dict[str, Any] = {
        "event_id": f"e{day}",
        "program": "p",
        "start": start,
        "end": start + timedelta(hours=2),
        "kind": "reduce",
        "choice": choice,
    }
    fields.update(change)
    return ProgramEvent(**fields)


def program(rule: str = "10-of-10", cap: float | None = None, **change: Any) -> Program:
    table: dict[str, Any] = {
        "id": "p",
        "currency": "USD",
        "timezone": "UTC",
        "event": {"per_kwh": 2.0, "baseline": {"rule": rule, "same_day_adjustment_cap_pct": cap}},
        "window": {"start_hour": 16, "end_hour": 21},
    }
    table.update(change)
    return Program.model_validate(table)


EVENTS = [event(3, "skip"), event(12)]


def twelfth(rule: str, cap: float | None = None) -> Any:
    grid, kw = series()
    return settle_events(program(rule, cap), grid, kw, EVENTS, "UTC")[1]


def test_ten_of_ten_by_hand() -> None:
    e = twelfth("10-of-10")
    # baseline mean(1..8) = 4.5 kW; delivered (4.5 - (-1)) x 2 h = 11 kWh, paid 2 USD/kWh.
    assert e.baseline_days == 8
    assert e.baseline_kwh == pytest.approx(9.0)
    assert e.actual_kwh == pytest.approx(-2.0)
    assert e.delivered_kwh == pytest.approx(11.0)
    assert e.payment == pytest.approx(22.0)


def test_five_of_ten_by_hand() -> None:
    # the five highest of 1..8 are 4..8: mean 6 kW; (6 + 1) x 2 h = 14 kWh.
    assert twelfth("5-of-10").delivered_kwh == pytest.approx(14.0)


def test_zero_export_by_hand() -> None:
    assert twelfth("zero-export").delivered_kwh == pytest.approx(2.0)


def test_same_day_adjustment_by_hand() -> None:
    grid, kw = series()
    # 13:00-16:00 on 12 June draws 1.5 kW against 1 kW on the baseline days: factor 1.5.
    at = 11 * 24 + 13
    kw[at : at + 3] = 1.5
    uncapped = settle_events(program("10-of-10", 100.0), grid, kw, EVENTS, "UTC")[1]
    assert uncapped.adjustment == pytest.approx(1.5)
    assert uncapped.delivered_kwh == pytest.approx((4.5 * 1.5 + 1) * 2)
    capped = settle_events(program("10-of-10", 40.0), grid, kw, EVENTS, "UTC")[1]
    assert capped.adjustment == pytest.approx(1.4)
    assert capped.delivered_kwh == pytest.approx((4.5 * 1.4 + 1) * 2)


def test_a_skipped_event_earns_nothing_and_costs_the_penalty() -> None:
    grid, kw = series()
    opt = {"penalty_per_event": 5.0, "penalty_per_kwh_short": 0.5}
    requested = [event(3, "skip", requested_kw=3.0), event(12, requested_kw=10.0)]
    result = settle_program(program(opt_out=opt), grid, kw, requested, "UTC")
    skipped, kept = result.events
    assert not skipped.took_part and skipped.payment == 0.0
    assert skipped.penalty == pytest.approx(5.0 + 0.5 * 6.0)
    # 20 kWh asked, 11 delivered: 9 kWh short.
    assert kept.penalty == pytest.approx(0.5 * 9.0)
    assert result.total == pytest.approx(22.0 - 8.0 - 4.5)
    assert result.delivered_kwh == pytest.approx(11.0)


def test_yearly_caps_stop_paying() -> None:
    grid, kw = series()
    capped = program(limits={"max_events_per_year": 1})
    first, second = settle_events(capped, grid, kw, EVENTS, "UTC")
    assert first.counted and not second.counted and second.payment == 0.0
    assert "1 events a year" in second.note
    hours = program(limits={"max_hours_per_year": 3.0})
    assert not settle_events(hours, grid, kw, EVENTS, "UTC")[1].counted


def test_events_of_other_programs_and_outside_the_meter_are_not_paid() -> None:
    grid, kw = series()
    other = event(12, program="q")
    late = event(20)
    settled = settle_events(program(), grid, kw, [other, late], "UTC")
    assert [e.event_id for e in settled] == ["e20"]
    assert not settled[0].counted and "metered" in settled[0].note


def test_cap_at_requested_pays_only_what_was_asked() -> None:
    grid, kw = series()
    p = program(event={"per_kwh": 2.0, "cap_at_requested": True, "baseline": {"rule": "10-of-10"}})
    e = settle_events(p, grid, kw, [event(3, "skip"), event(12, requested_kw=2.0)], "UTC")[1]
    assert e.delivered_kwh == pytest.approx(4.0)


def test_capacity_and_monthly_credit_by_hand() -> None:
    grid, kw = series()
    p = program(
        event=None,
        window=None,
        capacity={"per_kw_month": 10.0, "months": [6]},
        credit={"amount": 30.0, "min_plugged_in_h_per_day": 6.0, "min_qualifying_days_pct": 90.0},
    )
    plugged = np.zeros(grid.n, bool)
    for day in range(11):  # 11 of 12 days plugged in 00:00-06:00: 91.7 % >= 90 %
        plugged[day * 24 : day * 24 + 6] = True
    result = settle_program(p, grid, kw, [], "UTC", plugged_in=plugged, capacity_kw=5.0)
    # 12 of June's 30 days are covered.
    assert month_fractions(grid, "UTC") == {"2026-06": pytest.approx(0.4)}
    assert result.capacity_payment == pytest.approx(10.0 * 5.0 * 0.4)
    assert result.credit == pytest.approx(30.0 * 0.4)
    plugged[2:6] = False  # one more day short: 10 of 12 is 83 %
    none = settle_program(p, grid, kw, [], "UTC", plugged_in=plugged, capacity_kw=5.0)
    assert none.credit == 0.0
    assert none.monthly == {"2026-06": pytest.approx(20.0)}


@settings(max_examples=60, deadline=None)
@given(
    flows=st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=24 * 3, max_size=24 * 3),
    start_hour=st.integers(16, 19),
    hours=st.integers(1, 2),
)
def test_zero_export_settlement_matches_an_independent_recount(
    flows: list[float], start_hour: int, hours: int
) -> None:
    grid = TimeGrid.regular(START, 24 * 3, 60)
    kw = np.array(flows)
    start = START + timedelta(days=2, hours=start_hour)
    e = ProgramEvent("x", "p", start, start + timedelta(hours=hours), "export")
    got = settle_program(program("zero-export"), grid, kw, [e], "UTC")
    exported = -sum(flows[48 + start_hour + h] for h in range(hours))
    assert got.events[0].delivered_kwh >= 0.0
    assert got.events[0].delivered_kwh == pytest.approx(max(0.0, exported), abs=1e-9)
    assert got.total == pytest.approx(2.0 * max(0.0, exported), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(0, 11), min_size=1, max_size=12, unique=True),
    hours=st.integers(1, 4),
    max_events=st.integers(0, 5),
    max_hours=st.floats(0.0, 20.0),
)
def test_caps_are_never_exceeded(
    days: list[int], hours: int, max_events: int, max_hours: float
) -> None:
    grid, kw = series()
    p = program(limits={"max_events_per_year": max_events, "max_hours_per_year": max_hours})
    events = [
        ProgramEvent(
            f"d{d}",
            "p",
            START + timedelta(days=d, hours=16),
            START + timedelta(days=d, hours=16 + hours),
            "reduce",
        )
        for d in days
    ]
    counted = [e for e in settle_events(p, grid, kw, events, "UTC") if e.counted]
    assert len(counted) <= max_events
    assert sum((e.end - e.start).total_seconds() / 3600 for e in counted) <= max_hours + 1e-9
    assert all(e.delivered_kwh >= 0.0 for e in counted)
