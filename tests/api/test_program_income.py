"""Program income in ``/api/money``: settled from the recorded grid power and the known events,
checked against figures worked out from the recorded flows themselves (never by settling again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

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
