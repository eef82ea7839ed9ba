"""The dashboard under the demo's ``--speed 60``: the controller's clock runs ahead of the
browser's, and every figure the page shows must still be the controller's.

The browser's clock is pinned six hours behind the controller's (what six minutes at 60x
make) by a script that runs before the page's own; the store records only the controller's
time line, so a window taken from the browser's clock finds nothing. Screenshots go to
``tests/artifacts/`` at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from voltbridge.core.types import PlanCost

from ..api.fakes import NOW, FakeStore, demo_plan
from ..api.helpers import Demo, make_demo
from .cdp import Chromium, Page
from .server import ServerThread
from .test_dashboard import ARTIFACTS, in_browser, log_in, text_has

BROWSER_BEHIND = timedelta(hours=6)
"""How far the browser's clock is behind the controller's in these tests."""

RECORDED = timedelta(hours=3)
"""How much the controller has recorded before its now."""

WIDTHS = (("desktop", 1280, 900, False), ("phone", 390, 844, True))


class RecordedStore(FakeStore):
    """The canned store, but with telemetry only where the controller recorded it: the three
    hours before its now, as a demo started three minutes ago at 60x (a window from the
    browser's clock finds nothing, as it did at home)."""

    def history(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        rows = super().history(start, end, resolution_s)
        first = NOW - RECORDED
        return [r for r in rows if first <= datetime.fromisoformat(r["at"]) <= NOW]


@pytest.fixture
def ahead(tmp_path: Path) -> Iterator[tuple[ServerThread, Demo]]:
    demo = make_demo(tmp_path, store=RecordedStore())
    server = ServerThread(demo.app)
    yield server, demo
    server.stop()


async def pin_browser_clock(page: Page, at: datetime) -> None:
    """From the next page on, the browser's ``Date`` starts at ``at`` and runs at real speed."""
    at_ms = int(at.timestamp() * 1000)
    script = (
        "(() => { const Real = Date; const shift = AT_MS - Real.now();"
        " class Shifted extends Real {"
        "  constructor(...a) { if (a.length === 0) super(Real.now() + shift); else super(...a); }"
        "  static now() { return Real.now() + shift; } }"
        " window.Date = Shifted; })();"
    ).replace("AT_MS", str(at_ms))
    await page.send("Page.addScriptToEvaluateOnNewDocument", {"source": script})


async def at_width(page: Page, width: int, height: int, mobile: bool) -> None:
    await page.resize(width, height, mobile=mobile)


def test_history_shows_the_controllers_window_when_the_browser_clock_is_behind(
    chromium: Chromium, ahead: tuple[ServerThread, Demo]
) -> None:
    server, demo = ahead

    async def scenario(page: Page) -> None:
        await pin_browser_clock(page, NOW - BROWSER_BEHIND)
        await page.goto(server.url + "/history")
        await log_in(page)
        assert (
            await page.evaluate("new Date().getTime()")
            < (NOW - BROWSER_BEHIND / 2).timestamp() * 1000
        )
        for name, width, height, mobile in WIDTHS:
            await at_width(page, width, height, mobile)
            await page.goto(server.url + "/history")
            await page.wait_for("document.querySelector('#history-chart .main-svg') !== null")
            await page.wait_for(
                "document.querySelectorAll('#history-chart .scatterlayer .trace').length > 0"
            )
            note = await page.evaluate("document.getElementById('history-note').textContent")
            assert note == "", note
            # the chart's lines carry points: plotly draws a path with segments per trace
            drawn = await page.evaluate(
                "[...document.querySelectorAll('#history-chart .scatterlayer .js-line')]"
                ".filter((p) => (p.getAttribute('d') || '').includes('L')).length"
            )
            assert drawn >= 5, drawn
            await page.settle()  # painted, before the picture
            await page.screenshot(ARTIFACTS / f"history-controller-clock-{name}.png")
        assert page.errors == []

    in_browser(chromium, scenario)
    calls = [args for kind, args in demo.store.calls if kind == "history"] if demo.store else []
    assert calls and all(args["end"] == NOW for args in calls), calls


SHORT = (
    "ev9: departure at 2026-07-02 14:45 UTC with 60.1 kWh instead of the 79.8 kWh target "
    "(short by 19.7 kWh): not enough time plugged in at the allowed power."
)
PENALISED = PlanCost(
    total=3414.81,
    import_cost=30.52,
    export_revenue=2.83,
    degradation=0.50,
    demand_charge=0.0,
    penalties=3386.62,
    terminal_value=0.0,
)
"""The issue's plan: $3,414.81 of which $3,386.62 penalty; the bill is 30.52 - 2.83 = $27.69."""


def test_the_home_page_reads_as_set_with_the_controller_ahead(
    chromium: Chromium, ahead: tuple[ServerThread, Demo]
) -> None:
    """The departure as the household set it (07:45 local: 14:45 UTC), backup hours from storage
    alone with the sun's figure apart, and the plan's bill without its penalties, which are
    said in words instead; at desktop and phone widths."""
    server, demo = ahead
    demo.handle._plan = replace(demo_plan(), cost=PENALISED, warnings=(SHORT,))

    async def scenario(page: Page) -> None:
        await pin_browser_clock(page, NOW - BROWSER_BEHIND)
        await page.goto(server.url + "/")
        await log_in(page)
        for name, width, height, mobile in WIDTHS:
            await at_width(page, width, height, mobile)
            await page.goto(server.url + "/")
            await page.wait_for("document.getElementById('soc-ev9')?.textContent === '62%'")
            await page.wait_for("document.querySelector('#plan-chart .main-svg') !== null")
            await page.wait_for(text_has("expected bill over the horizon"))
            car = await page.evaluate("document.getElementById('car-ev9').innerText")
            assert "Leaves Thu 07:45" in car, car
            hours = await page.evaluate("document.getElementById('backup-hours').textContent")
            assert hours == "11.5 h"
            card = await page.evaluate("document.getElementById('backup-card').innerText")
            assert "of essential loads from storage alone" in card, card
            assert "30.0 h with the expected sun" in card, card
            note = await page.evaluate("document.getElementById('plan-note').textContent")
            assert "expected bill over the horizon $27.69" in note, note
            assert "3,414.81" not in note and "3,386.62" not in note, note
            unmet = await page.evaluate(
                "document.getElementById('plan-unmet').textContent + ' ' +"
                " document.getElementById('plan-warnings').innerText"
            )
            assert "One target cannot be met:" in unmet and "short by 19.7 kWh" in unmet, unmet
            assert await page.evaluate("document.documentElement.scrollWidth") <= width
            await page.settle()  # painted, before the picture
            await page.screenshot(ARTIFACTS / f"home-controller-clock-{name}.png")
        assert page.errors == []

    in_browser(chromium, scenario)
