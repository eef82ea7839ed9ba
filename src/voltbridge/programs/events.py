"""What a grid signal is once it has passed the edge: a paid event or an announced outage.

Every signal path (an OpenADR VTN, the API, the simulator's drawn events) turns what it received
into these values, validated here, so that the planner, the controller and the bill see one kind
of event whatever brought it. Times are timezone-aware UTC; power in kW (>= 0, the size of what is
asked), money in the program's currency per kWh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

ProgramEventKind = Literal["export", "reduce"]
"""``export``: deliver energy to the grid in the window; ``reduce``: draw less than the baseline."""

EVENT_KINDS: tuple[ProgramEventKind, ...] = ("export", "reduce")

EventSource = Literal["openadr2", "openadr3", "api", "sim", "feed"]
"""Which path brought the signal (shown in the event log)."""

Choice = Literal["undecided", "take_part", "skip"]
"""The household's answer to one event."""

MAX_EVENT = timedelta(days=7)
"""The longest paid event accepted; longer windows are a malformed signal."""

MAX_OUTAGE = timedelta(days=14)
"""The longest announced outage accepted."""


class EventError(ValueError):
    """A signal that cannot be taken as it is; the message says which field and why."""


def _utc(name: str, at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise EventError(
            f"{name} {at.isoformat()} has no timezone; give it in UTC or with an offset"
        )
    return at.astimezone(UTC)


@dataclass(frozen=True)
class ProgramEvent:
    """A utility's event: a window in which the household is paid for what it delivers.

    Attributes:
        event_id: the id the sender gave (unique per program).
        program: the id of the program that pays for it (``[[programs]]`` ``id``).
        start: first instant of the window (UTC).
        end: end of the window, exclusive (UTC).
        kind: ``export`` or ``reduce`` (see :data:`ProgramEventKind`).
        requested_kw: what the sender asks for, 0 when it asks "as much as you can" [kW].
        payment_per_kwh: paid per kWh delivered against the program's baseline [currency/kWh].
        source: which path brought it.
        choice: the household's answer so far.
        received_at: when voltbridge received it (UTC); None when not known.
    """

    event_id: str
    program: str
    start: datetime
    end: datetime
    kind: ProgramEventKind
    requested_kw: float = 0.0
    payment_per_kwh: float = 0.0
    source: EventSource = "api"
    choice: Choice = "undecided"
    received_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.event_id.strip():
            raise EventError("event_id is empty")
        if not self.program.strip():
            raise EventError(f"event {self.event_id!r}: program is empty")
        object.__setattr__(self, "start", _utc("start", self.start))
        object.__setattr__(self, "end", _utc("end", self.end))
        if self.received_at is not None:
            object.__setattr__(self, "received_at", _utc("received_at", self.received_at))
        if self.end <= self.start:
            raise EventError(
                f"event {self.event_id!r}: end {self.end} is not after start {self.start}"
            )
        if self.end - self.start > MAX_EVENT:
            raise EventError(f"event {self.event_id!r}: lasts longer than {MAX_EVENT}")
        if self.kind not in EVENT_KINDS:
            raise EventError(
                f"event {self.event_id!r}: kind {self.kind!r} is not one of {EVENT_KINDS}"
            )
        if not self.requested_kw >= 0.0:  # also catches NaN
            raise EventError(
                f"event {self.event_id!r}: requested_kw {self.requested_kw} must be >= 0"
            )
        if not self.payment_per_kwh >= 0.0:
            raise EventError(
                f"event {self.event_id!r}: payment_per_kwh {self.payment_per_kwh} must be >= 0"
            )

    @property
    def hours(self) -> float:
        """Length of the window [h]."""
        return (self.end - self.start).total_seconds() / 3600.0

    def overlaps(self, other: ProgramEvent) -> bool:
        """Whether the two windows share any instant."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class AnnouncedOutage:
    """An outage the utility (or the household) announced ahead: storm watch fills up for it.

    Attributes:
        outage_id: the id the sender gave.
        start: when the grid is expected to go (UTC).
        end: when it is expected back at the latest (UTC).
        source: which path brought it.
        announced_at: when it was announced (UTC); None when not known.
    """

    outage_id: str
    start: datetime
    end: datetime
    source: EventSource = "api"
    announced_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.outage_id.strip():
            raise EventError("outage_id is empty")
        object.__setattr__(self, "start", _utc("start", self.start))
        object.__setattr__(self, "end", _utc("end", self.end))
        if self.announced_at is not None:
            object.__setattr__(self, "announced_at", _utc("announced_at", self.announced_at))
        if self.end <= self.start:
            raise EventError(
                f"outage {self.outage_id!r}: end {self.end} is not after start {self.start}"
            )
        if self.end - self.start > MAX_OUTAGE:
            raise EventError(f"outage {self.outage_id!r}: lasts longer than {MAX_OUTAGE}")

    @property
    def hours(self) -> float:
        """Length of the announced window [h]."""
        return (self.end - self.start).total_seconds() / 3600.0

    def notice_h(self) -> float | None:
        """Hours between the announcement and the start; None when the announcement time is unknown."""
        if self.announced_at is None:
            return None
        return (self.start - self.announced_at).total_seconds() / 3600.0
