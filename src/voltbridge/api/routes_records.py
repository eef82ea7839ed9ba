"""What the store recorded: telemetry history, events, charging sessions and money."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool

from voltbridge.api.context import ApiContext
from voltbridge.api.errors import FieldError
from voltbridge.api.models import Message, Problems
from voltbridge.control.program_income import LOOKBACK, RESOLUTION_S, answered, settle_period
from voltbridge.core.status import EventKind
from voltbridge.store import StoreError

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_HISTORY = timedelta(hours=24)
DEFAULT_RESOLUTION_S = 300
MAX_HISTORY_H = 24 * 366
"""The longest window ``hours`` may ask for [h]: a year (a leap year's)."""
MAX_LIMIT = 1000

MomentQuery = Annotated[
    str | None,
    Query(
        description="ISO 8601 with an offset, e.g. 2026-07-01T16:00:00Z or 2026-07-01T09:00-07:00",
        examples=["2026-07-01T16:00:00Z"],
    ),
]


def parse_moment(name: str, value: str | None) -> datetime | None:
    """A query's aware datetime; 422 naming ``name`` if it is not ISO 8601 with an offset.

    A ``+`` sent unencoded arrives as a space, so one before the offset is read as ``+``.

    >>> parse_moment("start", "2026-07-01T09:00 07:00").isoformat()
    '2026-07-01T02:00:00+00:00'
    """
    if value is None:
        return None
    text = value.strip()
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        text = text[:-6] + "+" + text[-5:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(
            (name,), f"{value!r} is not ISO 8601, e.g. 2026-07-01T16:00:00Z", where="query"
        ) from None
    if moment.tzinfo is None:
        raise FieldError(
            (name,), f"{value!r} needs an offset, e.g. 2026-07-01T16:00:00Z", where="query"
        )
    return moment.astimezone(UTC)


def period_bounds(period: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of "today" or "this month" in ``zone``, up to ``now``.

    >>> from zoneinfo import ZoneInfo
    >>> now = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)  # 22:00 on 30 June in California
    >>> [t.isoformat() for t in period_bounds("today", now, ZoneInfo("America/Los_Angeles"))]
    ['2026-06-30T07:00:00+00:00', '2026-07-01T05:00:00+00:00']
    >>> period_bounds("month", now, ZoneInfo("America/Los_Angeles"))[0].isoformat()
    '2026-06-01T07:00:00+00:00'
    """
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight if period == "today" else midnight.replace(day=1)
    # Rebuild in the zone so a DST change between the first and today gets the right offset.
    start = datetime(start.year, start.month, start.day, tzinfo=zone)
    return start.astimezone(UTC), now.astimezone(UTC)


def field_in(message: str, names: tuple[str, ...]) -> str:
    """The first query parameter a store's error message names, else the first of ``names``.

    >>> field_in("resolution_s is 0; give a whole number", ("start", "resolution"))
    'resolution'
    """
    return next((name for name in names if name in message), names[0])


async def ask(call: Callable[..., T], *args: Any, fields: tuple[str, ...]) -> T:
    """Run a store query in a worker thread; its ValueError becomes a 422 naming the field."""
    try:
        return await run_in_threadpool(call, *args)
    except ValueError as exc:
        raise FieldError((field_in(str(exc), fields),), str(exc), where="query") from None
    except StoreError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the store cannot answer now: {exc}"
        ) from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def router(ctx: ApiContext) -> APIRouter:
    """``/api/history``, ``/api/events``, ``/api/sessions`` and ``/api/money``.

    The store answers from SQLite, so each query runs in a worker thread, never on the event
    loop the controller shares with the app.
    """
    read = [Depends(ctx.auth.require_read)]
    api = APIRouter(prefix="/api", tags=["records"])
    answers: dict[int | str, dict[str, Any]] = {
        401: {"model": Message},
        422: {"model": Problems},
        503: {"model": Message, "description": "no store configured"},
    }

    def now() -> datetime:
        return ctx.config.clock.now().astimezone(UTC)

    def range_of(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
        lo, hi = parse_moment("start", start), parse_moment("end", end)
        if lo is not None and hi is not None and hi <= lo:
            raise FieldError(("end",), "must be after start", where="query")
        return lo, hi

    @api.get("/history", dependencies=read, responses=answers)
    async def history(
        start: MomentQuery = None,
        end: MomentQuery = None,
        resolution: Annotated[
            int, Query(ge=1, le=86400, description="Bucket length [s].")
        ] = DEFAULT_RESOLUTION_S,
        hours: Annotated[
            float | None,
            Query(
                gt=0,
                le=MAX_HISTORY_H,
                description="Window length [h] ending at ``end`` (default: the controller's now).",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Telemetry between ``start`` and ``end`` (default: the last 24 h) in buckets of
        ``resolution`` seconds (default 300): grid, PV, load, battery and each car [kW], SoC
        [kWh], grid state, and ``clock_stepped`` where the clock stepped back into a bucket
        (it then holds statuses of two time lines; nothing is dropped).

        ``hours`` asks for the last so many hours of the controller's clock: the dashboard sends
        it, never its own clock, because the two differ (the demo runs its clock faster, a
        browser's clock may be off), and ``start``/``end`` in the answer say which window it was."""
        store = ctx.require_store()
        lo, hi = range_of(start, end)
        if hours is not None and lo is not None:
            raise FieldError(("hours",), "give either start or hours, not both", where="query")
        hi = hi or now()
        lo = lo or hi - (DEFAULT_HISTORY if hours is None else timedelta(hours=hours))
        if hi <= lo:
            raise FieldError(("start",), "must be before end (default end: now)", where="query")
        rows = await ask(store.history, lo, hi, resolution, fields=("start", "end", "resolution"))
        return {"start": _iso(lo), "end": _iso(hi), "resolution_s": resolution, "rows": rows}

    @api.get("/events", dependencies=read, responses=answers)
    async def events(
        kind: Annotated[EventKind | None, Query(description="Only events of this kind.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        start: MomentQuery = None,
        end: MomentQuery = None,
    ) -> list[dict[str, Any]]:
        """Events, newest first: grid transitions, mode changes, faults, guard actions, plans."""
        store = ctx.require_store()
        lo, hi = range_of(start, end)
        kind_name = None if kind is None else kind.value
        return await ask(
            store.events, lo, hi, kind_name, limit, fields=("start", "end", "kind", "limit")
        )

    @api.get("/sessions", dependencies=read, responses=answers)
    async def sessions(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        start: MomentQuery = None,
        end: MomentQuery = None,
    ) -> list[dict[str, Any]]:
        """Charging sessions: energy charged and discharged [kWh], cost and value."""
        store = ctx.require_store()
        lo, hi = range_of(start, end)
        return await ask(store.sessions, lo, hi, limit, fields=("start", "end", "limit"))

    @api.get("/money", dependencies=read, responses=answers)
    async def money(
        period: Annotated[
            Literal["today", "month"],
            Query(description="today or this month, in the site's time zone"),
        ] = "today",
    ) -> dict[str, Any]:
        """Import cost, export revenue, net cost and savings against uncontrolled charging, in the
        tariff's currency, for today or this month (local time), and ``program_income``: what
        the site's grid programs pay for the period so far (``total``, ``delivered_kwh`` and
        per program), settled from the recorded grid power and the known events; ``total`` is
        null when it is not known (no recording, or a gap in an event's window), never 0."""
        store = ctx.require_store()
        lo, hi = period_bounds(period, now(), ctx.config.zone)
        totals = await ask(store.money, lo, hi, fields=("period",))
        return {
            "period": period,
            "start": _iso(lo),
            "end": _iso(hi),
            "currency": ctx.config.currency,
            **totals,
            "program_income": await program_income(lo, hi),
        }

    async def program_income(lo: datetime, hi: datetime) -> dict[str, Any]:
        terms = ctx.config.programs
        rows: list[dict[str, Any]] = []
        book = ctx.handle.programs
        events = answered(book.all(hi), book.taking_part)
        if terms:
            store = ctx.require_store()
            rows = await ask(store.history, lo - LOOKBACK, hi, RESOLUTION_S, fields=("period",))
        try:
            return await run_in_threadpool(
                settle_period, terms, rows, events, ctx.config.timezone, lo, hi
            )
        except ValueError as exc:  # a recording the settlement cannot read: say so, bill stays
            log.exception("program income could not be settled")
            return {
                "total": None,
                "delivered_kwh": None,
                "programs": [{"program": t.program.id, "income": None} for t in terms],
                "note": f"program income could not be settled: {exc}",
            }

    return api
