"""The event list groups repeats (issue 15): a charger's start-up line after each restart is one
line with "×N", at its newest time, and a live repeat adds to that line instead of a new one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from voltbridge.core.status import ControlEvent, EventCode, EventKind

from ..api.fakes import NOW
from ..api.helpers import Demo
from .cdp import Chromium, Page
from .server import ServerThread
from .test_dashboard import in_browser, log_in

WAITING = "ev9: waiting for the charger to connect"


def restarts(n: int) -> list[dict[str, Any]]:
    """The store's events, newest first, of ``n`` starts that each waited for the charger."""
    rows: list[dict[str, Any]] = []
    for i in range(n):
        at = NOW - timedelta(hours=i)
        rows.append(row(2 * i + 2, at, "fault", WAITING, "ev9", "device-waiting"))
        rows.append(row(2 * i + 1, at - timedelta(minutes=1), "mode", "controller started", None))
    return rows


def row(
    id_: int, at: Any, kind: str, message: str, device: str | None, code: str | None = None
) -> dict[str, Any]:
    iso = at.isoformat().replace("+00:00", "Z")
    data = {"code": code} if code else {}
    return {"id": id_, "at": iso, "kind": kind, "message": message, "device": device, "data": data}


def test_repeated_events_are_one_line_with_a_count(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served
    assert demo.store is not None
    demo.store.events = lambda *a, **kw: restarts(3)  # type: ignore[method-assign]
    items = "document.querySelectorAll('#events li')"
    waiting = "document.querySelector('#events li[data-count]:first-child')"

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/events")
        await log_in(page)
        await page.wait_for(f"{items}.length === 2")
        assert await page.evaluate(f"{waiting}.dataset.count") == "3"
        text = await page.evaluate(f"{waiting}.innerText")
        assert WAITING in text and "×3 since" in text, text
        assert "START-UP · EV9" in text.upper(), text  # not called a fault
        assert "does not answer" not in await page.evaluate("document.body.innerText")
        # the same line again, live: the line at the top counts it, no new line
        await page.wait_for("document.getElementById('live').dataset.state === 'live'")
        code = {"code": EventCode.DEVICE_WAITING.value}
        later = NOW + timedelta(minutes=5)
        demo.handle.publish(ControlEvent(later, EventKind.FAULT, WAITING, "ev9", code))
        await page.wait_for(f"{waiting}.dataset.count === '4'")
        assert await page.evaluate(f"{items}.length") == 2
        assert await page.evaluate(f"{waiting}.querySelector('.message').textContent") == WAITING
        assert page.errors == []

    in_browser(chromium, scenario)
