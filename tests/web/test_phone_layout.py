"""Every page at phone widths (390 and 360 px) and on a desktop, checked from the DOM (issue 15):
no element reaches past the viewport, every tab is on screen, the catalog's columns all fit in
their card, and a plot's axis keeps a few readable ticks. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json

import pytest

from ..api.helpers import Demo
from .cdp import Chromium, Page
from .server import ServerThread
from .test_dashboard import ARTIFACTS, PAGE_READY, in_browser, log_in

OFF_SCREEN = """(() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not shown
    if (e.closest("#js-plotly-tester")) continue;  // plotly's own text measurer, off-screen by design
    if (r.left < -0.5 || r.right > width + 0.5) {
      bad.push(`${e.tagName.toLowerCase()}#${e.id}.${e.getAttribute("class") || ""} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return { width, scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 12) };
})()"""

TABS_SHOWN = """[...document.querySelectorAll(".tabs a")].every((a) => {
  const r = a.getBoundingClientRect();
  return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth;
})"""

CATALOG_FITS = """[...document.querySelectorAll("#catalog-card table")].every((t) =>
  t.scrollWidth <= t.parentElement.clientWidth && t.getBoundingClientRect().right <= t.parentElement.getBoundingClientRect().right + 0.5
)"""

# The x axis' tick labels of every plot do not overlap one another.
TICKS_APART = """[...document.querySelectorAll(".main-svg .xtick text")].map((t) => t.getBoundingClientRect())
  .filter((r) => r.width > 0).sort((a, b) => a.left - b.left)
  .every((r, i, all) => i === 0 || all[i - 1].right <= r.left)"""


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 740), (1280, 900)])
def test_every_page_fits_the_screen(
    chromium: Chromium, served: tuple[ServerThread, Demo], width: int, height: int
) -> None:
    server, _ = served

    async def scenario(page: Page) -> None:
        await page.resize(width, height, mobile=width < 760)
        await page.goto(server.url + "/")
        await log_in(page)
        await page.wait_for(PAGE_READY["/"])  # logged in before the next page is asked for
        docs = {"/docs": "document.querySelectorAll('details.endpoint').length > 10"}
        for path, ready in {**PAGE_READY, **docs}.items():
            await page.goto(server.url + path)
            await page.wait_for(ready)
            if path in ("/plan", "/history"):
                # the chart has drawn its axes (plotly lays them out after the first frame)
                await page.wait_for("document.querySelectorAll('.main-svg .xtick text').length > 1")
            found = await page.evaluate(OFF_SCREEN)
            assert found["bad"] == [] and found["scroll"] <= width, (path, found)
            assert await page.evaluate(TABS_SHOWN), path
            if path == "/catalog":
                assert await page.evaluate(CATALOG_FITS)
            if path in ("/plan", "/history"):
                assert await page.evaluate(TICKS_APART), path
            name = "home" if path == "/" else path.strip("/")
            await page.screenshot(ARTIFACTS / f"page-{name}-{width}.png")
        assert page.errors == [], json.dumps(page.errors)

    in_browser(chromium, scenario)
