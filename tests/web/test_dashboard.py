"""The dashboard in headless chromium: loads cleanly, shows the live home, changes settings, screenshots."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from voltbridge.api import PAGES
from voltbridge.control.settings import Settings, SettingsUpdate
from voltbridge.core.status import Mode, PowerFlows
from voltbridge.core.types import GridState

from ..api.fakes import PASSWORD, demo_event, demo_status
from ..api.helpers import Demo
from .cdp import Chromium, Connection, Page
from .server import ServerThread

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def in_browser(chromium: Chromium, scenario: Callable[[Page], Awaitable[None]]) -> None:
    """Run ``scenario`` on a fresh tab with its own cookies."""

    async def main() -> None:
        conn = await Connection.open(chromium.ws_url)
        try:
            page = await Page.open(conn)
            try:
                await scenario(page)
            finally:
                await page.close()
        finally:
            await conn.close()

    asyncio.run(main())


async def log_in(page: Page, password: str = PASSWORD) -> None:
    await page.wait_for("!document.getElementById('login').hidden")
    await page.evaluate(
        f"document.getElementById('password').value = {json.dumps(password)};"
        "document.getElementById('login-form').requestSubmit(); true"
    )


def text_has(needle: str) -> str:
    return f"document.body.innerText.includes({json.dumps(needle)})"


def test_dashboard_shows_the_live_home_without_errors(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, _ = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await log_in(page)
        await page.wait_for("document.getElementById('soc-ev9')?.textContent === '62%'")
        await page.wait_for("document.getElementById('live').dataset.state === 'live'")
        await page.wait_for("document.querySelector('#plan-chart .main-svg') !== null")
        await page.wait_for("document.querySelector('#money-today') !== null")
        for needle in (
            "On grid",
            "11.5 h",
            "For driving",
            "Kept for backup",
            "238 km range",
            "fridge",
            "Saved $2.30",
            "ev9 plugged in",
            "target 80%",
        ):
            assert await page.evaluate(text_has(needle)), needle
        flow = await page.evaluate("document.getElementById('flow').getAttribute('aria-label')")
        assert "Grid exporting 0.2 kW" in flow and "ev9 charging 3.1 kW" in flow
        await page.settle()  # painted, before the picture
        await page.screenshot(ARTIFACTS / "dashboard.png")

        # A phone: the same session, the page loaded at its width.
        await page.resize(390, 844, mobile=True)
        await page.goto(server.url + "/")
        await page.wait_for("document.getElementById('soc-ev9')?.textContent === '62%'")
        await page.wait_for("document.querySelector('#plan-chart .main-svg') !== null")
        await page.settle()  # painted, before the picture
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.screenshot(ARTIFACTS / "dashboard-phone.png")
        assert page.errors == []

    in_browser(chromium, scenario)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    assert (ARTIFACTS / "dashboard-phone.png").stat().st_size > 10_000


def test_live_status_and_events_arrive_over_the_stream(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await log_in(page)
        await page.wait_for("document.getElementById('live').dataset.state === 'live'")
        await page.wait_for("document.getElementById('soc-ev9')?.textContent === '62%'")
        restoring = replace(
            demo_status(soc_pct=71.0), grid_state=GridState.RESTORING, restoring_remaining_s=200.0
        )
        demo.handle.publish(restoring)
        demo.handle.publish(demo_event(message="grid is back, waiting to reconnect"))
        await page.wait_for("document.getElementById('soc-ev9')?.textContent === '71%'")
        await page.wait_for(text_has("Grid is back: reconnecting in 3:"))
        await page.wait_for(text_has("grid is back, waiting to reconnect"))
        assert page.errors == []

    in_browser(chromium, scenario)


def test_unknown_flows_and_grid_state_are_shown_as_no_data(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await log_in(page)
        await page.wait_for("document.getElementById('live').dataset.state === 'live'")
        await page.wait_for("document.getElementById('soc-ev9')?.textContent === '62%'")
        base = demo_status(soc_pct=55.0)
        silent = replace(
            base,
            grid_state=GridState.UNKNOWN,
            power=PowerFlows(None, None, None, None, {"ev9": None}),
            vehicles={"ev9": replace(base.vehicles["ev9"], plugged_in=None, power_kw=None)},
        )
        demo.handle.publish(silent)
        await page.wait_for("document.getElementById('soc-ev9')?.textContent === '55%'")
        await page.wait_for(text_has("Grid state unknown: no data from the meter"))
        flow = await page.evaluate("document.getElementById('flow').getAttribute('aria-label')")
        assert "Grid no data" in flow and "0.0 kW" not in flow, flow
        assert page.errors == []

    in_browser(chromium, scenario)


def test_a_settings_change_in_the_page_reaches_the_controller(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/settings")
        await log_in(page)
        await page.wait_for("!document.getElementById('settings-card').hidden")
        await page.wait_for("document.getElementById('set-mode').value === 'auto'")
        await page.wait_for("document.getElementById('settings-form').dataset.loaded === 'true'")
        await page.wait_for("!document.getElementById('settings-save').disabled")
        await page.evaluate(
            "const mode = document.getElementById('set-mode');"
            "mode.value = 'backup-only'; mode.dispatchEvent(new Event('change'));"
            "document.getElementById('settings-save').click(); true"
        )
        await page.wait_for("document.getElementById('settings-result').textContent === 'Saved.'")
        assert page.errors == []

    in_browser(chromium, scenario)
    update, source = demo.handle.updates[-1]
    assert source == "api"
    assert update.mode is Mode.BACKUP_ONLY
    assert update.model_fields_set == {"mode"}
    assert demo.handle.settings.mode is Mode.BACKUP_ONLY


def test_a_refused_setting_is_shown_on_its_field(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, demo = served

    def refuse(update: SettingsUpdate, source: str) -> Settings:
        raise ValueError("vehicles.ev9.outage_reserve_pct: only during an outage")

    demo.handle.apply_settings = refuse  # type: ignore[method-assign]

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/settings")
        await log_in(page)
        await page.wait_for("document.getElementById('settings-form').dataset.loaded === 'true'")
        # Out-of-range values never leave the page: the browser checks min and max first.
        await page.evaluate(
            "document.getElementById('set-ev9-target_soc_pct').value = '130';"
            "document.getElementById('settings-form').requestSubmit(); true"
        )
        await page.evaluate(
            "document.getElementById('set-ev9-target_soc_pct').value = '';"
            "document.getElementById('set-ev9-outage_reserve_pct').value = '10';"
            "document.getElementById('settings-form').requestSubmit(); true"
        )
        field = "document.getElementById('set-ev9-outage_reserve_pct')"
        await page.wait_for(f"{field}.getAttribute('aria-invalid') === 'true'")
        message = await page.evaluate("document.getElementById('settings-result').textContent")
        assert message == "vehicles.ev9.outage_reserve_pct: only during an outage"

    in_browser(chromium, scenario)
    assert demo.handle.updates == []


def test_a_wrong_password_is_said_so(chromium: Chromium, served: tuple[ServerThread, Demo]) -> None:
    server, _ = served

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await log_in(page, "not the password")
        await page.wait_for(
            "document.getElementById('login-error').textContent === 'Wrong password.'"
        )
        assert await page.evaluate("document.getElementById('flow-card').hidden")

    in_browser(chromium, scenario)


PAGE_READY = {
    "/": "document.getElementById('soc-ev9') !== null",
    "/plan": "document.querySelector('#plan-chart .main-svg') !== null",
    "/history": "document.querySelector('#history-chart .main-svg') !== null",
    "/money": "document.querySelector('#sessions tbody tr') !== null && document.querySelector('#money-month') !== null",
    "/events": "document.querySelectorAll('#events li').length === 2",
    "/settings": "document.querySelector('#car-settings fieldset') !== null",
    "/catalog": "document.querySelectorAll('#catalog-vehicles tbody tr').length > 3",
}


def test_every_page_and_the_docs_load_without_errors(
    chromium: Chromium, served: tuple[ServerThread, Demo]
) -> None:
    server, _ = served
    assert set(PAGE_READY) == set(PAGES)

    async def scenario(page: Page) -> None:
        await page.goto(server.url + "/")
        await log_in(page)
        await page.wait_for(PAGE_READY["/"])
        for path, ready in PAGE_READY.items():
            await page.goto(server.url + path)
            await page.wait_for(ready)
            twin = await page.evaluate("document.getElementById('twin-link').getAttribute('href')")
            assert twin == PAGES[path]
        await page.goto(server.url + "/docs")
        await page.wait_for("document.querySelectorAll('details.endpoint').length > 10")
        assert await page.evaluate(text_has("/api/settings"))
        assert page.errors == []

    in_browser(chromium, scenario)
