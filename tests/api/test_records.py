"""History, events, sessions and money: passed through from the store, 503 without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from .fakes import NOW
from .helpers import make_demo, run

RECORDS = ["/api/history", "/api/events", "/api/sessions", "/api/money"]


def get(tmp_path: Path, path: str, **params: Any) -> tuple[httpx.Response, Any]:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(path, params=params)

    return run(demo.app, body), demo.store


def test_history_defaults_to_the_last_24_hours_at_5_minutes(tmp_path: Path) -> None:
    answer, store = get(tmp_path, "/api/history")
    assert answer.status_code == 200
    body = answer.json()
    assert body["resolution_s"] == 300
    assert body["end"] == "2026-07-01T19:00:00Z"
    assert body["start"] == "2026-06-30T19:00:00Z"
    assert len(body["rows"]) == 288
    assert body["rows"][0]["vehicles"]["ev9"]["plugged_in"] is True
    assert store.calls == [
        ("history", {"start": NOW - timedelta(hours=24), "end": NOW, "resolution_s": 300})
    ]


def test_history_passes_the_range_in_utc(tmp_path: Path) -> None:
    answer, store = get(
        tmp_path,
        "/api/history",
        start="2026-07-01T06:00:00-07:00",
        end="2026-07-01T15:00:00Z",
        resolution=900,
    )
    assert answer.status_code == 200, answer.text
    [(_, args)] = store.calls
    assert args == {
        "start": datetime(2026, 7, 1, 13, tzinfo=UTC),
        "end": datetime(2026, 7, 1, 15, tzinfo=UTC),
        "resolution_s": 900,
    }
    assert args["start"].tzinfo is UTC


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-07-01T06:00:00"}, "start"),
        ({"start": "2026-07-01T06:00Z", "end": "2026-07-01T05:00Z"}, "end"),
        ({"resolution": 0}, "resolution"),
        ({"resolution": "fine"}, "resolution"),
        # The store's own refusal (here: a bucket longer than the range) names the field too.
        (
            {"start": "2026-07-01T06:00Z", "end": "2026-07-01T06:10Z", "resolution": 900},
            "resolution",
        ),
    ],
)
def test_history_refuses_bad_queries_naming_the_field(
    tmp_path: Path, params: dict[str, Any], field: str
) -> None:
    answer, _ = get(tmp_path, "/api/history", **params)
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["detail"]] == [field]


def test_events_pass_kind_and_limit(tmp_path: Path) -> None:
    answer, store = get(tmp_path, "/api/events", kind="plug", limit=5)
    assert answer.status_code == 200
    assert [e["message"] for e in answer.json()] == ["ev9 plugged in"]
    assert store.calls == [("events", {"start": None, "end": None, "kind": "plug", "limit": 5})]


@pytest.mark.parametrize(
    ("params", "field"), [({"kind": "gossip"}, "kind"), ({"limit": 0}, "limit")]
)
def test_events_refuse_bad_queries(tmp_path: Path, params: dict[str, Any], field: str) -> None:
    answer, _ = get(tmp_path, "/api/events", **params)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == field


def test_sessions_pass_through(tmp_path: Path) -> None:
    answer, store = get(tmp_path, "/api/sessions", limit=10, start="2026-06-01T00:00Z")
    assert answer.status_code == 200
    assert answer.json()[0]["vehicle"] == "ev9"
    assert store.calls == [
        ("sessions", {"start": datetime(2026, 6, 1, tzinfo=UTC), "end": None, "limit": 10})
    ]


@pytest.mark.parametrize(
    ("period", "start"),
    [
        ("today", datetime(2026, 7, 1, 7, tzinfo=UTC)),  # midnight in Sacramento (UTC-7)
        ("month", datetime(2026, 7, 1, 7, tzinfo=UTC)),
    ],
)
def test_money_periods_are_local(tmp_path: Path, period: str, start: datetime) -> None:
    answer, store = get(tmp_path, "/api/money", period=period)
    assert answer.status_code == 200
    body = answer.json()
    assert body["period"] == period and body["currency"] == "USD"
    assert body["savings"] == 2.3 and body["net_cost"] == 2.8
    assert store.calls == [("money", {"start": start, "end": NOW})]


def test_money_refuses_an_unknown_period(tmp_path: Path) -> None:
    answer, _ = get(tmp_path, "/api/money", period="year")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "period"


@pytest.mark.parametrize("path", RECORDS)
def test_records_are_503_without_a_store(tmp_path: Path, path: str) -> None:
    demo = make_demo(tmp_path, with_store=False)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(path)

    answer = run(demo.app, body)
    assert answer.status_code == 503
    assert "no storage configured" in answer.json()["detail"]


def test_history_hours_is_a_window_ending_at_the_controllers_now(tmp_path: Path) -> None:
    """The dashboard sends only ``hours``: the window is the controller's, whatever the
    browser's clock says (the demo runs its clock faster than the browser's)."""
    answer, store = get(tmp_path, "/api/history", hours=6, resolution=300)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["start"], body["end"]) == ("2026-07-01T13:00:00Z", "2026-07-01T19:00:00Z")
    assert store.calls == [
        ("history", {"start": NOW - timedelta(hours=6), "end": NOW, "resolution_s": 300})
    ]


@pytest.mark.parametrize("params", [{"hours": 0}, {"hours": 6, "start": "2026-07-01T06:00Z"}])
def test_history_hours_is_refused_when_empty_or_beside_a_start(
    tmp_path: Path, params: dict[str, Any]
) -> None:
    answer, _ = get(tmp_path, "/api/history", **params)
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["detail"]] == ["hours"]
