"""Program income in ``/api/money``: settled from the recorded grid power and the known events,
checked against figures worked out from the recorded flows themselves (never by settling again)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from voltbridge.api import ApiConfig, create_app
from voltbridge.control.program_income import ProgramTerms
from voltbridge.core.clock import VirtualClock
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.models import Program
from voltbridge.store import Store

from .fakes import NOW, PASSWORD, FakeHandle, demo_plan, demo_status
from .helpers import run
from .income import (
    EVENT,
    MONTH_NOW,
    SKIPPED,
    TelemetryStore,
    local,
    make_income_demo,
)

BASELINE_DAYS = (1, 2, 3, 6, 7, 8, 9, 10, 13, 14)
"""The 10 working days before Wednesday 15 July 2026 (4 July is a Saturday)."""


def recorded_kwh(rows: list[dict[str, Any]], start: datetime, end: datetime) -> float:
    """Net import [kWh] in ``[start, end)`` from 5-minute rows of the store."""
    total = 0.0
    for row in rows:
        at = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
        if start <= at < end:
            total += row["grid_kw"] * 5 / 60
    return total


def month(demo_dir: Path, **kw: Any) -> dict[str, Any]:
    demo = make_income_demo(demo_dir, **kw)

    async def body(c: httpx.AsyncClient) -> dict[str, Any]:
        answer = await c.get("/api/money", params={"period": "month"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    return run(demo.app, body)


def test_the_months_income_is_what_the_meter_recorded_against_the_baseline(
    tmp_path: Path,
) -> None:
    store = TelemetryStore()
    answer = month(tmp_path, store=store)
    rows = store.history(local(1, 0), MONTH_NOW, 300)
    actual_kwh = recorded_kwh(rows, EVENT.start, EVENT.end)
    baseline_kwh = sum(recorded_kwh(rows, local(d, 16), local(d, 18)) for d in BASELINE_DAYS) / 10
    delivered_kwh = baseline_kwh - actual_kwh
    assert actual_kwh == pytest.approx(-6.0)  # 2 h exporting 3 kW
    assert baseline_kwh == pytest.approx(4.0)  # 2 h at 2 kW on each of the 10 days
    income = answer["program_income"]
    assert income["delivered_kwh"] == pytest.approx(delivered_kwh)
    # Paid at the event's 2 per kWh; the skipped event costs the program's 1.5.
    assert income["total"] == pytest.approx(2.0 * delivered_kwh - 1.5)
    (program,) = income["programs"]
    assert program["program"] == "elrp-home"
    assert program["event_payment"] == pytest.approx(2.0 * delivered_kwh)
    assert program["penalties"] == pytest.approx(1.5)
    shown = {e["event_id"]: e for e in program["events"]}
    assert set(shown) == {EVENT.event_id, SKIPPED.event_id}  # June's event is last month's
    assert shown[EVENT.event_id]["baseline_kwh"] == pytest.approx(baseline_kwh)
    assert shown[SKIPPED.event_id]["took_part"] is False
    # The bill's own figures are still there, beside the income.
    assert answer["net_cost"] == 2.8 and answer["currency"] == "USD"
    history = next(c for c in store.calls if c[0] == "history")[1]
    assert history["start"] <= local(1, 0) - timedelta(days=14)  # baselines reach back


def test_nothing_recorded_is_unknown_never_zero(tmp_path: Path) -> None:
    store = TelemetryStore(recorded_until=datetime(2026, 6, 1, tzinfo=UTC))
    income = month(tmp_path, store=store)["program_income"]
    assert income["total"] is None and income["delivered_kwh"] is None
    assert "not known" in income["note"]
    assert income["programs"][0]["income"] is None


def test_a_gap_in_the_events_window_makes_the_income_unknown(tmp_path: Path) -> None:
    gap = (EVENT.start + timedelta(minutes=30), EVENT.start + timedelta(minutes=45))
    income = month(tmp_path, store=TelemetryStore(gap=gap))["program_income"]
    assert income["total"] is None
    assert "gap" in income["note"]
    event = next(e for e in income["programs"][0]["events"] if e["event_id"] == EVENT.event_id)
    assert event["delivered_kwh"] is None and event["payment"] is None


def test_a_site_without_programs_earns_nothing_from_them(tmp_path: Path) -> None:
    income = month(tmp_path, programs=False)["program_income"]
    assert income == {
        "total": 0.0,
        "delivered_kwh": 0.0,
        "programs": [],
        "note": "no grid program is configured for this site",
    }


def test_today_counts_only_todays_events(tmp_path: Path) -> None:
    demo = make_income_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> dict[str, Any]:
        answer = await c.get("/api/money", params={"period": "today"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    income = run(demo.app, body)["program_income"]
    assert income["total"] == 0.0 and income["programs"][0]["events"] == []


def test_program_income_needs_a_login(tmp_path: Path) -> None:
    demo = make_income_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> int:
        return (await c.get("/api/money", params={"period": "month"})).status_code

    assert run(demo.app, body, logged_in=False) == 401


def test_income_from_what_the_real_store_recorded(tmp_path: Path) -> None:
    """The controller's statuses recorded by the SQLite store, a zero-export event in them: the
    income is the exported energy of the window at the event's price."""
    zero = Program.model_validate(
        {
            "id": "v2g-pilot",
            "currency": "USD",
            "event": {"per_kwh": 0.5, "baseline": {"rule": "zero-export"}, "kind": "export"},
            "window": {"start_hour": 0, "end_hour": 24},
        }
    )
    start = NOW - timedelta(hours=3)  # 09:00-10:00 in Sacramento, 1 July
    event = ProgramEvent(
        "pilot-1", "v2g-pilot", start, start + timedelta(hours=1), "export", 5.0, 2.0
    )
    clock = VirtualClock(start - timedelta(minutes=10))
    store = Store(tmp_path / "voltbridge.db", clock)
    flows = demo_status().power
    for minute in range(81):  # a status a minute from 08:50 to 10:10
        at = start + timedelta(minutes=minute - 10)
        grid_kw = -3.0 if start <= at < event.end else 0.5
        store.record_status(replace(demo_status(at=at), power=replace(flows, grid_kw=grid_kw)))
    store.flush()
    clock.advance(3 * 3600 + 600)  # noon
    handle = FakeHandle(demo_status(), demo_plan(), clock)
    assert handle.programs.offer(event, start - timedelta(hours=1))
    config = ApiConfig(
        data_dir=tmp_path,
        password=PASSWORD,
        timezone="America/Los_Angeles",
        clock=clock,
        programs=(ProgramTerms(zero),),
    )
    app = create_app(handle, store, config)

    async def body(c: httpx.AsyncClient) -> dict[str, Any]:
        answer = await c.get("/api/money", params={"period": "today"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    try:
        income = run(app, body)["program_income"]
    finally:
        store.close()
    # 3 kW sent to the grid for the whole hour against a baseline of 0 kW, at 2 per kWh.
    assert income["delivered_kwh"] == pytest.approx(3.0)
    assert income["total"] == pytest.approx(6.0)


class UnreadableStore(TelemetryStore):
    """A recording the settlement cannot read (a bucket time that is not ISO 8601)."""

    def history(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        return [{"at": "yesterday", "grid_kw": 1.0, "vehicles": {}}]


def test_an_unreadable_recording_is_said_and_the_bill_still_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    answer = month(tmp_path, store=UnreadableStore())
    assert answer["net_cost"] == 2.8
    income = answer["program_income"]
    assert income["total"] is None
    assert income["note"].startswith("program income could not be settled")
    assert "program income could not be settled" in caplog.text
