"""The dashboard's grid events: shown with their payment, answered with one click that reaches the
controller's book (and is said in the event list)."""

from __future__ import annotations

from datetime import timedelta

from voltbridge.programs.events import ProgramEvent

from ..api.fakes import NOW
from ..api.helpers import Demo
from .cdp import Chromium, Page
from .server import ServerThread
from .test_dashboard import in_browser, log_in, text_has


def test_an_event_is_shown_and_skipped_from_the_page(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served
    start = NOW + timedelta(hours=4)
    event = ProgramEvent(
        "elrp-7", "elrp", start, start + timedelta(hours=2), "reduce", 5.0, 2.0, source="openadr2"
    )
    assert demo.handle.programs.offer(event, NOW)

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/events")
        await log_in(page)
        row = "document.querySelector('#grid-events li[data-event=\"elrp-7\"]')"
        await page.wait_for(f"{row} !== null")
        shown = await page.evaluate(f"{row}.textContent")
        for needle in (
            "elrp · upcoming",
            "draw less from the grid",
            "$2.00 per kWh",
            "taking part",
        ):
            assert needle in shown, (needle, shown)
        await page.evaluate(
            "document.querySelector('#grid-events button[data-choice=\"skip\"]').click(); true"
        )
        await page.wait_for(text_has("skipping"))
        assert page.errors == []

    in_browser(chromium, scenario)
    assert demo.handle.programs.choice("elrp-7") == "skip"
