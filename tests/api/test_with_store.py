"""The API over the real SQLite store: what the controller records comes back through the endpoints."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from voltbridge.api import ApiConfig, StoreReader, create_app
from voltbridge.core.clock import VirtualClock
from voltbridge.store import Store

from .fakes import NOW, PASSWORD, FakeHandle, demo_event, demo_plan, demo_status
from .helpers import client, login


def test_recorded_telemetry_events_and_money_come_back(tmp_path: Path) -> None:
    clock = VirtualClock(NOW - timedelta(minutes=30))
    store = Store(tmp_path / "voltbridge.db", clock)
    for minute in range(31):
        at = NOW - timedelta(minutes=30 - minute)
        store.record_status(demo_status(at=at))
    store.record_event(demo_event(at=NOW - timedelta(minutes=5)))
    store.flush()
    reader: StoreReader = store  # mypy checks that Store satisfies the protocol
    config = ApiConfig(
        data_dir=tmp_path, password=PASSWORD, timezone="America/Los_Angeles", clock=clock
    )
    clock.advance(30 * 60)
    app = create_app(FakeHandle(demo_status(), demo_plan()), reader, config)

    async def main() -> dict[str, Any]:
        async with client(app) as c:
            await login(c)
            found = {}
            for path in ("/api/history", "/api/events", "/api/sessions", "/api/money"):
                answer = await c.get(path)
                assert answer.status_code == 200, (path, answer.text)
                found[path] = answer.json()
            return found

    try:
        found = asyncio.run(main())
    finally:
        store.close()
    rows = found["/api/history"]["rows"]
    assert rows and rows[-1]["pv_kw"] == 6.0
    assert rows[-1]["vehicles"]["ev9"]["plugged_in"] is True
    assert [e["message"] for e in found["/api/events"]] == ["ev9 plugged in"]
    money = found["/api/money"]
    assert set(money) >= {"import_cost", "export_revenue", "net_cost", "savings", "baseline_cost"}
    assert isinstance(found["/api/sessions"], list)
