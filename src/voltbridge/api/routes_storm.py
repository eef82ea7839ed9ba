"""Storm watch over the API: announce an outage expected ahead, list the announced ones, cancel one.

"Outage expected at 14:00 for up to 48 h": the controller fills car and battery before it and
holds them (``control/storm.py``). Every change is authenticated (write access) and recorded in
the event list; bad input is answered with a 4xx that names the field.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from voltbridge.api.context import ApiContext
from voltbridge.api.errors import FieldError
from voltbridge.api.models import Message, Problems
from voltbridge.control.settings import Departure
from voltbridge.control.storm import MAX_OUTAGE, AnnouncedOutage, EventError, StormError
from voltbridge.core.timegrid import ensure_utc

MAX_HOURS = MAX_OUTAGE.total_seconds() / 3600.0
"""The longest outage that may be announced [h] (``programs.events.MAX_OUTAGE``)."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")

When = Departure
"""An aware datetime, as one or as ISO 8601 text with its offset (as a departure is given)."""


class OutageAnnouncement(BaseModel):
    """An outage expected ahead: its start and how long it may last (``hours``) or its end.

    Attributes:
        start: when the grid is expected to go (aware; ISO 8601 with its offset).
        hours: for up to how long [h] (0 < hours <= 336); give this or ``end``.
        end: when it is expected back at the latest (aware); give this or ``hours``.
        outage_id: the sender's id; one is made when not given. An id already announced is
            updated.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    start: When
    hours: float | None = Field(default=None, gt=0, le=MAX_HOURS)
    end: When | None = None
    outage_id: str | None = None


def outage_json(o: AnnouncedOutage) -> dict[str, Any]:
    """One announced outage as the API answers it."""

    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat().replace("+00:00", "Z")

    return {
        "outage_id": o.outage_id,
        "start": iso(o.start),
        "end": iso(o.end),
        "hours": o.hours,
        "source": o.source,
        "announced_at": iso(o.announced_at),
    }


def to_outage(body: OutageAnnouncement, now: datetime) -> AnnouncedOutage:
    """The announcement as an :class:`AnnouncedOutage`; FieldError naming the field at fault."""
    start = ensure_utc(body.start)
    if (body.hours is None) == (body.end is None):
        raise FieldError(("hours",), "give either hours (how long it may last) or end")
    if body.end is not None:
        end = ensure_utc(body.end)
        if end <= start:
            raise FieldError(("end",), f"{_iso(end)} is not after start {_iso(start)}")
        if end - start > MAX_OUTAGE:
            raise FieldError(("end",), f"the outage would last more than {MAX_HOURS:g} h")
    else:
        assert body.hours is not None
        end = start + timedelta(hours=body.hours)
    if start <= ensure_utc(now):
        raise FieldError(
            ("start",),
            f"{_iso(start)} is not after now ({_iso(ensure_utc(now))}); announce an outage "
            "still to come (one under way is handled as an outage)",
        )
    outage_id = body.outage_id or f"api-{secrets.token_hex(4)}"
    if not _ID.match(outage_id):
        raise FieldError(
            ("outage_id",), "use 1-64 letters, digits, '.', '_', ':' or '-', starting with one"
        )
    try:
        return AnnouncedOutage(outage_id, start, end, "api", ensure_utc(now))
    except EventError as exc:
        raise FieldError(("start",), str(exc)) from None


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def router(ctx: ApiContext) -> APIRouter:
    """``/api/outages``: list (read), announce (write), cancel (write)."""
    handle = ctx.handle
    read = [Depends(ctx.auth.require_read)]
    write = [Depends(ctx.auth.require_write)]
    api = APIRouter(prefix="/api", tags=["storm watch"])
    unauth: dict[int | str, dict[str, Any]] = {401: {"model": Message}}

    @api.get("/outages", dependencies=read, responses=unauth)
    async def list_outages() -> list[dict[str, Any]]:
        """The announced outages not over yet, by start (storm watch is on for the first from
        48 h before its start; the live ``storm_watch`` is in ``/api/status``)."""
        return [outage_json(o) for o in handle.announced_outages()]

    @api.post(
        "/outages",
        dependencies=write,
        status_code=status.HTTP_201_CREATED,
        responses={**unauth, 422: {"model": Problems}},
    )
    async def announce(body: OutageAnnouncement) -> dict[str, Any]:
        """Announce an outage: "expected at ``start`` for up to ``hours``". Storm watch fills
        car and battery before it and holds them to its end. 422 names the field at fault (a
        start not after now, an end before the start, longer than 14 days, too far ahead)."""
        outage = to_outage(body, ctx.config.clock.now())
        try:
            kept = handle.announce_outage(outage, source="api")
        except StormError as exc:
            raise FieldError(("start",), str(exc)) from None
        return outage_json(kept)

    @api.delete(
        "/outages/{outage_id}",
        dependencies=write,
        responses={**unauth, 404: {"model": Message}},
    )
    async def cancel(outage_id: str) -> dict[str, Any]:
        """Cancel an announced outage: storm watch for it ends now. 404 when it is not known."""
        try:
            gone = handle.cancel_outage(outage_id, source="api")
        except StormError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        return outage_json(gone)

    return api
