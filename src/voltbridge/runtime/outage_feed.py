"""Announced outages from a feed (``[outage_feed]``): read every ``poll_s`` on the injected clock,
each new or changed outage handed to storm watch, each one that left the feed called off.

The feed answers JSON ``{"outages": [{"id": ..., "start": ..., "end": ...}]}`` with times in ISO
8601 with their offset. Nothing from it is trusted blindly: a malformed answer, an entry that is
not an outage, a window over already or too far ahead is an event in the log and is skipped; a
feed that does not answer is one warning (and one when it answers again), and storm watch keeps
what it had. Nothing raises out of the loop.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from voltbridge.config.models import OutageFeed
from voltbridge.control.controller import Controller
from voltbridge.core.clock import Clock
from voltbridge.core.status import EventCode, EventKind
from voltbridge.programs.events import AnnouncedOutage, EventError
from voltbridge.programs.storm import StormError

log = logging.getLogger("voltbridge.runtime")

SOURCE = "outage feed"
MAX_BYTES = 1_000_000
"""A feed answer larger than this is refused (a feed of outages is a few hundred bytes)."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    start: AwareDatetime
    end: AwareDatetime


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    outages: list[dict[str, object]] = Field(max_length=100)


class OutageFeedReader:
    """Polls one feed for one controller (see the module docstring)."""

    def __init__(
        self,
        feed: OutageFeed,
        controller: Controller,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.feed, self.controller, self.clock = feed, controller, clock
        self._client = httpx.AsyncClient(timeout=feed.timeout_s, transport=transport)
        self._mine: dict[str, AnnouncedOutage] = {}
        """What this feed announced and storm watch still holds, by id."""
        self._failing: str | None = None
        self._warned: set[str] = set()
        self._running = False

    async def run(self) -> None:
        """Read now and every ``poll_s`` until :meth:`stop`; never raises."""
        self._running = True
        try:
            while self._running:
                await self.step()
                if self._running:
                    await self.clock.sleep(self.feed.poll_s)
        finally:
            await self.close()

    def stop(self) -> None:
        self._running = False

    async def close(self) -> None:
        await self._client.aclose()

    async def step(self) -> None:
        """One read; every trouble becomes an event."""
        try:
            answer = await self._client.get(self.feed.url, headers={"Accept": "application/json"})
            answer.raise_for_status()
            if len(answer.content) > MAX_BYTES:
                raise ValueError(f"the answer is {len(answer.content)} bytes; at most {MAX_BYTES}")
            entries = _Answer.model_validate_json(answer.content).outages
        except (httpx.HTTPError, ValueError, ValidationError) as err:
            self._trouble(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
            return
        if self._failing is not None:
            self._failing = None
            self._say(EventKind.MODE, f"{SOURCE}: {self.feed.url} answers again")
        self._take(entries, self.clock.now())

    def _take(self, entries: list[dict[str, object]], now: datetime) -> None:
        seen: set[str] = set()
        for raw in entries:
            try:
                e = _Entry.model_validate(raw)
                outage = AnnouncedOutage(e.id, e.start, e.end, source="feed")
            except (ValidationError, EventError) as err:
                self._once(f"{SOURCE}: entry skipped ({_first_line(err)})")
                continue
            seen.add(outage.outage_id)
            known = self._mine.get(outage.outage_id)
            if known is not None and (known.start, known.end) == (outage.start, outage.end):
                continue
            try:
                self._mine[outage.outage_id] = self.controller.announce_outage(outage, SOURCE)
            except StormError as err:
                self._mine[outage.outage_id] = outage  # not tried again while it stays as it is
                self._once(f"{SOURCE}: outage {outage.outage_id!r} skipped: {err}")
        # An outage that left the feed is called off; one the household called off stays off
        # while the feed keeps it unchanged (it is announced again only when its window moves).
        held = {o.outage_id for o in self.controller.announced_outages()}
        for gone in [k for k in self._mine if k not in seen]:
            outage = self._mine.pop(gone)
            if gone in held and outage.end > now:
                with contextlib.suppress(StormError):  # called off meanwhile: nothing to do
                    self.controller.cancel_outage(gone, SOURCE)

    def _trouble(self, why: str) -> None:
        if self._failing == why:
            return
        self._failing = why
        self._say(
            EventKind.WARNING,
            f"{SOURCE}: {self.feed.url} could not be read ({why}); storm watch keeps what it had",
        )

    def _once(self, message: str) -> None:
        """A warning about the feed's content, said once (the feed says it again every read)."""
        if message not in self._warned:
            self._warned.add(message)
            self._say(EventKind.WARNING, message)

    def _say(self, kind: EventKind, message: str) -> None:
        self.controller.log.emit(kind, EventCode.STORM_WATCH, message, device="outage-feed")


def _first_line(err: Exception) -> str:
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__
