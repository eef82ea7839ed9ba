"""``/api/grid-events``: the utility programs' paid events, and the household's answer to each.

Events mostly arrive from a VTN (OpenADR); the household, an installer or a script may also enter
one by hand (an event announced by text message, say). Every change needs write access and is
recorded in the event list with who made it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from voltbridge.api.context import ApiContext
from voltbridge.api.errors import FieldError
from voltbridge.api.models import Message, Problems
from voltbridge.control.program_events import EventError, EventMeter, ProgramEvent


class EventIn(BaseModel):
    """``POST /api/grid-events``: an event entered by hand."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(min_length=1, max_length=200, pattern=r"^[\w.:\-]+$")
    program: str = Field(min_length=1, max_length=100)
    start: AwareDatetime = Field(description="ISO 8601 with a UTC offset")
    end: AwareDatetime = Field(
        description="ISO 8601 with a UTC offset; after start, at most 7 days"
    )
    kind: Literal["export", "reduce"]
    requested_kw: float = Field(default=0.0, ge=0, le=1000)
    payment_per_kwh: float = Field(default=0.0, ge=0, le=1000)


class ChoiceIn(BaseModel):
    """``PUT /api/grid-events/{event_id}/choice``."""

    model_config = ConfigDict(extra="forbid")
    choice: Literal["take_part", "skip"]


def event_payload(
    event: ProgramEvent, taking_part: bool, now: datetime, meter: EventMeter | None = None
) -> dict[str, Any]:
    """One event for the API: its window, payment, the answer, where it stands now and what the
    grid meter measured in its window so far (null before it starts)."""
    state = "upcoming" if now < event.start else "active" if now < event.end else "over"
    return {
        "event_id": event.event_id,
        "program": event.program,
        "start": _iso(event.start),
        "end": _iso(event.end),
        "hours": event.hours,
        "kind": event.kind,
        "requested_kw": event.requested_kw,
        "payment_per_kwh": event.payment_per_kwh,
        "source": event.source,
        "choice": event.choice,
        "taking_part": taking_part,
        "state": state,
        "metered": None
        if meter is None
        else {
            "import_kwh": round(meter.import_kwh, 4),
            "export_kwh": round(meter.export_kwh, 4),
            "metered_h": round(meter.measured_h, 4),
        },
    }


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def router(ctx: ApiContext) -> APIRouter:
    """``/api/grid-events`` (list, enter, answer, withdraw)."""
    handle = ctx.handle
    read = [Depends(ctx.auth.require_read)]
    write = [Depends(ctx.auth.require_write)]
    api = APIRouter(prefix="/api/grid-events", tags=["programs"])
    unauth: dict[int | str, dict[str, Any]] = {401: {"model": Message}}
    missing: dict[int | str, dict[str, Any]] = {404: {"model": Message}}

    def now() -> datetime:
        return handle.programs.log.clock.now()

    def shown(event: ProgramEvent) -> dict[str, Any]:
        book = handle.programs
        return event_payload(event, book.taking_part(event), now(), book.meters.get(event.event_id))

    @api.get("", dependencies=read, responses=unauth)
    async def list_events() -> dict[str, Any]:
        """Known events by start (the last month's included), each with its payment per kWh,
        the household's answer and whether the plan counts on it."""
        return {"events": [shown(e) for e in handle.programs.all(now())]}

    @api.post(
        "",
        dependencies=write,
        status_code=status.HTTP_201_CREATED,
        responses={**unauth, 409: {"model": Message}, 422: {"model": Problems}},
    )
    async def enter_event(body: EventIn) -> dict[str, Any]:
        """Enter an event by hand. 422 names the field at fault; 409 when it is over already or
        overlaps another event of the same program (the event list says why)."""
        try:
            event = ProgramEvent(
                body.event_id,
                body.program,
                body.start,
                body.end,
                body.kind,
                body.requested_kw,
                body.payment_per_kwh,
                source="api",
                received_at=now(),
            )
        except EventError as exc:  # the window: end not after start, or too long
            raise FieldError(("end",), str(exc)) from None
        if not handle.programs.offer(event):
            raise HTTPException(status.HTTP_409_CONFLICT, handle.programs.last_refusal)
        stored = handle.programs.get(event.event_id)
        assert stored is not None
        return shown(stored)

    @api.put(
        "/{event_id}/choice",
        dependencies=write,
        responses={**unauth, **missing, 422: {"model": Problems}},
    )
    async def choose(event_id: str, body: ChoiceIn) -> dict[str, Any]:
        """Take part in an event or skip it; the plan follows at the next tick."""
        try:
            event = handle.programs.choose(event_id, body.choice, "api")
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no grid event {event_id!r}") from None
        return shown(event)

    @api.delete("/{event_id}", dependencies=write, responses={**unauth, **missing})
    async def withdraw(event_id: str) -> dict[str, Any]:
        """Drop an event entered by mistake (a VTN's events are withdrawn by the VTN)."""
        if not handle.programs.cancel(event_id, "api"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no grid event {event_id!r}")
        return {"detail": f"grid event {event_id!r} withdrawn"}

    return api
