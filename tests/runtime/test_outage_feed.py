"""Announced outages from a feed: a real HTTP server on 127.0.0.1 serves the JSON the test
changes; outages reach storm watch once, leave it when they leave the feed, stay off when the
household calls one off, and every bad answer is one warning, never an exception."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from tests.control.harness import T0, rig
from voltbridge.config.models import OutageFeed
from voltbridge.core.status import EventCode
from voltbridge.runtime.outage_feed import OutageFeedReader

START = T0 + timedelta(hours=20)


class Feed:
    """An HTTP server answering ``body`` (JSON text) with ``status``."""

    def __init__(self) -> None:
        self.body: str = json.dumps({"outages": []})
        self.status = 200
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/outages.json", self._answer)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        return web.Response(text=self.body, status=self.status, content_type="application/json")

    def outages(self, *items: dict[str, Any]) -> None:
        self.body = json.dumps({"outages": list(items)})


def outage(oid: str, start_h: float = 20.0, hours: float = 24.0) -> dict[str, Any]:
    start = T0 + timedelta(hours=start_h)
    return {
        "id": oid,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
    }


def test_the_feed_drives_storm_watch() -> None:
    r = rig()
    c = r.controller

    async def go() -> list[str]:
        feed = Feed()
        await feed.start()
        reader = OutageFeedReader(
            OutageFeed(url=f"http://127.0.0.1:{feed.port}/outages.json"), c, r.clock
        )
        try:
            feed.outages(outage("psps-1"))
            await reader.step()
            assert [o.outage_id for o in c.announced_outages()] == ["psps-1"]
            await reader.step()  # unchanged: not announced again
            feed.outages(outage("psps-1", hours=36.0))
            await reader.step()  # its window moved: updated
            assert c.announced_outages()[0].hours == 36.0
            c.cancel_outage("psps-1", "dashboard")  # the household calls it off
            await reader.step()
            assert c.announced_outages() == []  # and it stays off
            feed.outages(outage("psps-2"))
            await reader.step()  # psps-1 left the feed, psps-2 came
            assert [o.outage_id for o in c.announced_outages()] == ["psps-2"]
            feed.outages()
            await reader.step()  # the utility withdrew it
            assert c.announced_outages() == []
            # trouble: not JSON, an error status, bad entries, a past window; each said once
            feed.body = "<html>maintenance</html>"
            await reader.step()
            await reader.step()
            feed.status = 503
            await reader.step()
            feed.status, feed.body = 200, json.dumps({"outages": []})
            await reader.step()  # answers again
            feed.outages(
                {"id": "x", "start": "2026-07-09T10:00:00"},  # no end, no offset
                outage("old", start_h=-10.0, hours=2.0),
                outage("psps-3"),
            )
            await reader.step()
            await reader.step()
            assert [o.outage_id for o in c.announced_outages()] == ["psps-3"]
        finally:
            await reader.close()
            await feed.stop()
        return [e.message for e in c.events if e.data.get("code") == EventCode.STORM_WATCH]

    said = asyncio.run(go())
    feed_said = [m for m in said if m.startswith("outage feed:")]
    assert sum("could not be read" in m for m in feed_said) == 2  # not JSON, then 503
    assert sum("answers again" in m for m in feed_said) == 1
    assert sum("entry skipped" in m for m in feed_said) == 1
    assert sum("'old' skipped" in m for m in feed_said) == 1
    announced = [m for m in said if "announced by outage feed" in m]
    assert len(announced) == 3  # psps-1, psps-2, psps-3: each once


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://alerts.utility.example/psps.json", True),
        ("http://127.0.0.1:8000/outages.json", True),
        ("http://alerts.utility.example/psps.json", False),
        ("ftp://127.0.0.1/x", False),
    ],
)
def test_a_feed_must_be_https_unless_on_this_machine(url: str, ok: bool) -> None:
    from pydantic import ValidationError

    if ok:
        assert OutageFeed(url=url).url == url
    else:
        with pytest.raises(ValidationError, match="https://"):
            OutageFeed(url=url)
