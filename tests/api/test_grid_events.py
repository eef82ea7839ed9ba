"""``/api/grid-events``: list, enter by hand, answer, withdraw; every change needs a login and is
in the event list; bad input gets a 4xx that says why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from voltbridge.core.status import EventKind

from .fakes import NOW
from .helpers import make_demo, run

START = NOW + timedelta(hours=4)


def body(**change: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_id": "elrp-2026-07-01",
        "program": "elrp",
        "start": START.isoformat(),
        "end": (START + timedelta(hours=2)).isoformat(),
        "kind": "reduce",
        "requested_kw": 5.0,
        "payment_per_kwh": 2.0,
    }
    out.update(change)
    return out


def test_enter_answer_list_and_withdraw(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def steps(c: httpx.AsyncClient) -> None:
        made = await c.post("/api/grid-events", json=body())
        assert made.status_code == 201, made.text
        shown = made.json()
        assert shown["state"] == "upcoming" and shown["taking_part"] is True
        assert shown["hours"] == 2.0 and shown["start"].endswith("Z") and shown["metered"] is None
        listed = (await c.get("/api/grid-events")).json()["events"]
        assert [e["event_id"] for e in listed] == ["elrp-2026-07-01"]
        skipped = await c.put("/api/grid-events/elrp-2026-07-01/choice", json={"choice": "skip"})
        assert skipped.status_code == 200
        assert skipped.json()["choice"] == "skip" and skipped.json()["taking_part"] is False
        gone = await c.delete("/api/grid-events/elrp-2026-07-01")
        assert gone.status_code == 200
        assert (await c.get("/api/grid-events")).json()["events"] == []
        assert (await c.delete("/api/grid-events/elrp-2026-07-01")).status_code == 404
        answer = await c.put("/api/grid-events/nope/choice", json={"choice": "skip"})
        assert answer.status_code == 404

    run(demo.app, steps)
    said = [e.message for e in demo.handle.programs.log.recent if e.kind is EventKind.PROGRAM]
    assert any("received" in m for m in said)
    assert any("skipping it (api)" in m for m in said)
    assert any("cancelled (api)" in m for m in said)


def test_changes_need_a_login(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def steps(c: httpx.AsyncClient) -> list[int]:
        return [
            (await c.post("/api/grid-events", json=body())).status_code,
            (await c.put("/api/grid-events/x/choice", json={"choice": "skip"})).status_code,
            (await c.delete("/api/grid-events/x")).status_code,
        ]

    assert run(demo.app, steps, logged_in=False) == [401, 401, 401]
    assert demo.handle.programs.all(NOW) == []


def test_bad_events_are_refused_with_reasons(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def steps(c: httpx.AsyncClient) -> list[tuple[int, str]]:
        out = []
        for change in (
            {"end": START.isoformat()},  # not after start
            {"start": "2026-07-01T23:00:00", "end": "2026-07-02T01:00:00"},  # no offset
            {"kind": "import"},
            {"requested_kw": -1},
            {"event_id": "has spaces"},
            {
                "start": (NOW - timedelta(hours=5)).isoformat(),
                "end": (NOW - timedelta(hours=3)).isoformat(),
            },
        ):
            answer = await c.post("/api/grid-events", json=body(**change))
            out.append((answer.status_code, answer.text))
        await c.post("/api/grid-events", json=body())
        clash = await c.post("/api/grid-events", json=body(event_id="other"))
        out.append((clash.status_code, clash.text))
        return out

    answers = run(demo.app, steps)
    assert [code for code, _ in answers] == [422, 422, 422, 422, 422, 409, 409]
    assert "not after start" in answers[0][1]
    assert "timezone" in answers[1][1].lower()
    assert "ended" in answers[5][1]
    assert "overlaps" in answers[6][1]
