"""The dashboard's storm watch card (announce, see it on, cancel), its program income line, and
storm watch and program events named in the event list; the forms hidden from read-only viewers;
nothing wider than a phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voltbridge.core.status import ControlEvent, EventKind, StormWatchStatus
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent

from ..api.fakes import NOW, demo_status
from ..api.helpers import Demo, make_demo
from ..api.income import MONTH_NOW, TelemetryStore, make_income_demo
from .cdp import Chromium, Page
from .server import ServerThread
from .test_dashboard import ARTIFACTS, in_browser, log_in, text_has

LINE = "document.getElementById('storm-line')"


async def fits(page: Page, url: str, ready: str) -> None:
    """The page at ``url`` loaded at a phone's width is no wider than the phone."""
    await page.resize(390, 844, mobile=True)
    await page.goto(url)
    await page.wait_for(ready)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.resize(1280, 900)


def test_an_outage_is_announced_shown_and_cancelled_from_the_home_page(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await log_in(page)
        await page.wait_for(f"{LINE}.textContent.includes('Storm watch is off')")
        await page.wait_for("!document.getElementById('storm-form').hidden")
        # A start in the past is refused on its field, as the settings form does.
        await page.evaluate(
            "document.getElementById('storm-start').value = '2026-06-30T14:00';"
            "document.getElementById('storm-hours').value = '24';"
            "document.getElementById('storm-form').requestSubmit(); true"
        )
        await page.wait_for(
            "document.getElementById('storm-start').getAttribute('aria-invalid') === 'true'"
        )
        assert await page.evaluate(text_has("is not after now"))
        assert demo.handle.announced_outages() == []
        # 14:00 tomorrow in Sacramento (21:00 UTC), for up to 24 h.
        await page.evaluate(
            "document.getElementById('storm-start').value = '2026-07-02T14:00';"
            "document.getElementById('storm-hours').value = '24';"
            "document.getElementById('storm-form').requestSubmit(); true"
        )
        await page.wait_for("document.getElementById('outages').dataset.loaded === '1'")
        assert await page.evaluate(
            "document.getElementById('storm-start').getAttribute('aria-invalid') === null"
        )
        (outage,) = demo.handle.announced_outages()
        assert outage.start == datetime(2026, 7, 2, 21, 0, tzinfo=UTC)
        assert outage.hours == 24 and outage.source == "api"
        assert await page.evaluate(text_has("for up to 24 h"))

        # The controller turns storm watch on: the card says so, with each storage's target.
        on = StormWatchStatus(
            active=True,
            outage_id=outage.outage_id,
            start=outage.start,
            end=outage.end,
            target_kwh={"ev9": 79.8, "battery": 9.45},
            announced=1,
        )
        demo.handle.publish(replace(demo_status(), storm_watch=on))
        await page.wait_for(f"{LINE}.dataset.state === 'on'")
        line = await page.evaluate(f"{LINE}.textContent")
        assert (
            "Storm watch is on: outage expected Thu, Jul 2, 02:00 PM to Fri, Jul 3, 02:00 PM."
            in line
        ), line
        assert "Filling before it." in line
        fill = "document.querySelector('#storm-targets li[data-storage=\"{}\"]').dataset.fill"
        assert await page.evaluate(fill.format("ev9")) == "filling"
        assert await page.evaluate(fill.format("battery")) == "full"
        assert await page.evaluate(text_has("61.9 of 79.8 kWh · filling"))
        await page.screenshot(ARTIFACTS / "storm-watch.png")

        await fits(page, server.url + "/", f"{LINE}.dataset.state === 'on'")
        await page.goto(server.url + "/")
        await page.wait_for("document.getElementById('outages').dataset.loaded === '1'")
        await page.evaluate("document.querySelector('#outages button[data-cancel]').click(); true")
        await page.wait_for("document.getElementById('outages').dataset.loaded === '0'")
        assert await page.evaluate(text_has("Outage cancelled."))
        # Only the refused announcement's 422, which the browser logs as a failed load.
        assert [e for e in page.errors if "status of 422" not in e] == [], page.errors

    in_browser(chromium, scenario)
    assert demo.handle.announced_outages() == []


@pytest.fixture
def public(tmp_path: Path) -> Iterator[tuple[ServerThread, Demo]]:
    demo = make_demo(tmp_path, public_read=True)
    server = ServerThread(demo.app)
    yield server, demo
    server.stop()


def test_read_only_viewers_see_storm_watch_without_its_form(
    chromium: Chromium, public: tuple[ServerThread, Demo]
) -> None:
    server, demo = public
    start = NOW + timedelta(hours=60)  # beyond 48 h: announced, storm watch not on yet
    demo.handle.announce_outage(
        AnnouncedOutage("storm-1", start, start + timedelta(hours=12)), "test"
    )
    event = ProgramEvent("elrp-9", "elrp", start, start + timedelta(hours=2), "reduce", 5.0, 2.0)
    assert demo.handle.programs.offer(event, NOW)

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await page.wait_for("document.getElementById('outages').dataset.loaded === '1'")
        await page.wait_for(f"{LINE}.textContent !== ''")
        assert "starts 48 h before" in await page.evaluate(f"{LINE}.textContent")
        assert await page.evaluate("document.getElementById('storm-form').hidden")
        assert await page.evaluate("document.querySelector('#outages button') === null")
        await page.wait_for("document.querySelector('#grid-events li[data-event]') !== null")
        assert await page.evaluate("document.querySelector('#grid-events button') === null")
        assert page.errors == []

    in_browser(chromium, scenario)


@pytest.fixture
def month(tmp_path: Path) -> Iterator[tuple[ServerThread, Demo]]:
    demo = make_income_demo(tmp_path)
    server = ServerThread(demo.app)
    yield server, demo
    server.stop()


def test_the_money_card_shows_what_the_grid_programs_paid_this_month(
    chromium: Chromium, month: tuple[ServerThread, Demo]
) -> None:
    server, _ = month
    income = "document.getElementById('program-income')"

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/money")
        await log_in(page)
        await page.wait_for(f"{income} !== null")
        shown = await page.evaluate(f"{income}.textContent")
        # 10 kWh delivered at 2 per kWh, less 1.5 for the skipped event (tests/api/income.py).
        assert shown == "Paid by grid programs this month: $18.50 for 10.0 kWh delivered in events"
        assert await page.evaluate(f"{income}.closest('#money-month') !== null")
        await page.screenshot(ARTIFACTS / "program-income.png")
        await fits(page, server.url + "/money", f"{income} !== null")
        assert page.errors == []

    in_browser(chromium, scenario)


def test_income_not_recorded_is_shown_as_unknown(chromium: Chromium, tmp_path: Path) -> None:
    store = TelemetryStore(recorded_until=MONTH_NOW - timedelta(days=60))
    server = ServerThread(make_income_demo(tmp_path, store).app)
    income = "document.getElementById('program-income')"

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/money")
        await log_in(page)
        await page.wait_for(f"{income} !== null")
        shown = await page.evaluate(f"{income}.textContent")
        assert shown.startswith("Paid by grid programs this month: unknown"), shown
        assert "$0.00" not in shown
        assert page.errors == []

    try:
        in_browser(chromium, scenario)
    finally:
        server.stop()


def test_storm_watch_and_program_events_are_named_in_the_event_list(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/events")
        await log_in(page)
        await page.wait_for("document.getElementById('live').dataset.state === 'live'")
        await page.wait_for("document.querySelector('#events li') !== null")
        for kind, code, message in (
            (EventKind.WARNING, "storm-watch", "storm watch on for outage storm-1"),
            (EventKind.PROGRAM, "program-event", "grid event 'elrp-7' received"),
        ):
            demo.handle.publish(ControlEvent(NOW, kind, message, data={"code": code}))
            await page.wait_for(text_has(message))
        kinds = await page.evaluate(
            "[...document.querySelectorAll('#events li .kind')].map((k) => k.textContent)"
        )
        assert kinds[:2] == ["grid program", "storm watch"], kinds
        # The filter's storm watch entry keeps only storm watch's events.
        await page.evaluate(
            "const s = document.getElementById('events-kind'); s.value = 'storm-watch';"
            "s.dispatchEvent(new Event('change')); true"
        )
        await page.wait_for("document.getElementById('events-note').textContent === 'No events.'")
        assert page.errors == []

    in_browser(chromium, scenario)
