"""What the VEN hands to the controller side: grid signals through a sink, and notices (faults and
news) shaped like the controller's events (level, code, message, data) without importing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from voltbridge.programs.events import AnnouncedOutage, Choice, ProgramEvent

NoticeLevel = Literal["info", "warning", "error"]
"""``error``: the household or installer must act (registration refused, VTN gone);
``warning``: an event was refused or changed; ``info``: news (an event taken, a report sent)."""


class NoticeCode(StrEnum):
    """What a notice says, for programs (the message is for people)."""

    REGISTERED = "openadr-registered"
    REGISTRATION_REFUSED = "openadr-registration-refused"
    VTN_UNREACHABLE = "openadr-vtn-unreachable"
    VTN_REJECTED = "openadr-vtn-answer-rejected"
    VTN_RECOVERED = "openadr-vtn-recovered"
    EVENT_RECEIVED = "openadr-event"
    EVENT_REFUSED = "openadr-event-refused"
    EVENT_CLIPPED = "openadr-event-clipped"
    EVENT_CANCELLED = "openadr-event-cancelled"
    OUTAGE_ANNOUNCED = "openadr-outage"
    OPT_SENT = "openadr-opt"
    REPORT_SENT = "openadr-report"
    REPORT_HELD = "openadr-report-held"
    TELEMETRY = "openadr-telemetry"
    UNSUPPORTED = "openadr-unsupported"
    SOFTWARE_FAULT = "openadr-software-fault"


@dataclass(frozen=True)
class VenNotice:
    """One thing the VEN noticed, for the event log.

    Attributes:
        at: when (the injected clock, UTC).
        level: see :data:`NoticeLevel`.
        code: what it is.
        message: in words, naming the event or the VTN.
        data: ids and figures (``event_id``, ``energy_kwh``, ...).
    """

    at: datetime
    level: NoticeLevel
    code: NoticeCode
    message: str
    data: dict[str, object] = field(default_factory=dict)


class GridSignalSink(Protocol):
    """The controller side: takes the VTN's events and outages and gives the household's choice."""

    def on_event(self, event: ProgramEvent) -> None:
        """A new or changed paid event (same ``event_id`` when changed)."""

    def on_outage(self, outage: AnnouncedOutage) -> None:
        """An announced outage."""

    def on_cancelled(self, event_id: str) -> None:
        """The VTN cancelled an event or outage it had sent."""

    def choice(self, event_id: str) -> Choice:
        """The household's answer to an event so far."""
