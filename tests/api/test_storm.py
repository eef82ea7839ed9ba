"""Storm watch over the API: announce, list and cancel outages; bad input gets a 4xx naming the
field; unauthenticated changes are refused; over a real controller and store, each change is in
the event list and the status shows storm watch.

The demo's "now" is 2026-07-01T19:00Z (``fakes.NOW``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from voltbridge.api import ApiConfig, create_app
from voltbridge.core.clock import VirtualClock
from voltbridge.store import Store

from ..control.harness import T0, loop_config, rig
from .fakes import PASSWORD
from .helpers import client, login, make_demo, run

PSPS = {"start": "2026-07-02T14:00:00-07:00", "hours": 48, "outage_id": "psps-7"}
"""Outage expected at 14:00 tomorrow (California) for up to 48 h."""


def test_announce_list_and_cancel(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> list[Any]:
        made = await c.post("/api/outages", json=PSPS)
        listed = await c.get("/api/outages")
        cancelled = await c.delete("/api/outages/psps-7")
        after = await c.get("/api/outages")
        again = await c.delete("/api/outages/psps-7")
        return [made, listed, cancelled, after, again]

    made, listed, cancelled, after, again = run(demo.app, body)
    assert made.status_code == 201, made.text
    want = {
        "outage_id": "psps-7",
        "start": "2026-07-02T21:00:00Z",
        "end": "2026-07-04T21:00:00Z",
        "hours": 48.0,
        "source": "api",
        "announced_at": "2026-07-01T19:00:00Z",
    }
    assert made.json() == want
    assert listed.json() == [want]
    assert cancelled.status_code == 200 and cancelled.json() == want
    assert after.json() == []
    assert again.status_code == 404
    assert "no announced outage 'psps-7'" in again.json()["detail"]
    actions = [e.data["action"] for e in demo.handle.storm.log.recent]
    assert actions == ["announced", "cancelled"]


def test_an_end_may_be_given_instead_of_hours_and_an_id_is_made(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    window = {"start": "2026-07-02T21:00:00Z", "end": "2026-07-03T03:00:00Z"}

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/api/outages", json=window)

    answer = run(demo.app, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["hours"] == 6.0
    assert answer.json()["outage_id"].startswith("api-")


@pytest.mark.parametrize(
    ("announcement", "field", "says"),
    [
        ({"start": "2026-07-01T18:00:00Z", "hours": 4}, "start", "is not after now"),
        ({"start": "2026-07-02T21:00:00Z", "end": "2026-07-02T20:00:00Z"}, "end", "not after"),
        ({"start": "2026-07-02T21:00:00Z", "hours": 400}, "hours", "less than or equal"),
        ({"start": "2026-07-02T21:00:00Z", "end": "2026-07-20T21:00:00Z"}, "end", "more than"),
        ({"start": "2026-07-02T21:00:00Z", "hours": 0}, "hours", "greater than 0"),
        ({"start": "2026-07-02T21:00:00Z", "hours": -3}, "hours", "greater than 0"),
        ({"start": "2026-07-02T21:00:00Z"}, "hours", "either hours"),
        ({"start": "2026-07-02T21:00:00Z", "hours": 2, "end": "2026-07-03T03:00:00Z"}, "hours", ""),
        ({"start": "2026-07-02T14:00", "hours": 4}, "start", "timezone"),
        ({"start": "tomorrow", "hours": 4}, "start", "ISO 8601"),
        ({"start": "2026-07-02T21:00:00Z", "hours": "4"}, "hours", ""),
        ({"start": "2026-08-01T21:00:00Z", "hours": 4}, "start", "days ahead"),
        ({"start": "2026-07-02T21:00:00Z", "hours": 4, "outage_id": "a b"}, "outage_id", ""),
        ({"start": "2026-07-02T21:00:00Z", "hours": 4, "why": "wind"}, "why", ""),
    ],
)
def test_bad_announcements_are_refused_naming_the_field(
    tmp_path: Path, announcement: dict[str, Any], field: str, says: str
) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/api/outages", json=announcement)

    answer = run(demo.app, body)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert [p["field"] for p in problems] == [field], problems
    assert says in problems[0]["msg"], problems
    assert demo.handle.announced_outages() == []


def test_changes_need_a_login_and_listing_too(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> list[int]:
        return [
            (await c.post("/api/outages", json=PSPS)).status_code,
            (await c.get("/api/outages")).status_code,
            (await c.delete("/api/outages/psps-7")).status_code,
        ]

    assert run(demo.app, body, logged_in=False) == [401, 401, 401]
    assert demo.handle.announced_outages() == []


def test_over_the_real_controller_each_change_is_in_the_event_list(tmp_path: Path) -> None:
    store = Store(tmp_path / "voltbridge.db", VirtualClock(T0))
    r = rig(car_soc_kwh=40.0, config=loop_config(tick_s=5.0), recorder=store)
    config = ApiConfig(data_dir=tmp_path, password=PASSWORD, timezone="UTC", clock=r.clock)
    app = create_app(r.controller, store, config)
    start = (T0 + timedelta(hours=20)).isoformat()

    async def main() -> list[Any]:
        async with client(app) as c:
            await login(c)
            made = await c.post("/api/outages", json={"start": start, "hours": 12})
            oid = made.json()["outage_id"]
            await r.controller.tick()
            on = (await c.get("/api/status")).json()["storm_watch"]
            cancelled = await c.delete(f"/api/outages/{oid}")
            await r.controller.tick()
            off = (await c.get("/api/status")).json()["storm_watch"]
            events = (await c.get("/api/events", params={"kind": "mode"})).json()
            return [made, on, cancelled, off, events, oid]

    try:
        made, on, cancelled, off, events, oid = asyncio.run(main())
    finally:
        store.close()
    assert made.status_code == 201 and cancelled.status_code == 200
    assert on == {
        "active": True,
        "outage_id": oid,
        "start": "2026-07-08T21:00:00Z",
        "end": "2026-07-09T09:00:00Z",
        "target_kwh": {"ev": 48.0},
        "announced": 1,
    }
    assert off["active"] is False and off["announced"] == 0
    messages = [e["message"] for e in events]
    assert f"announced outage {oid} cancelled by api; storm watch off" in messages
    assert any(
        m.startswith("outage announced by api: expected 2026-07-08T21:00:00Z") for m in messages
    )
