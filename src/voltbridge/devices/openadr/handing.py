"""What both VENs (OpenADR 2.0b and 3) do on the controller side of a signal, once: hand an event,
an outage or a cancellation to the sink, read the household's choice, close an ended event's
delivery, and forget what is over. A sink that raises is logged and becomes an error notice; it
never raises into a VEN's loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, MutableMapping
from datetime import datetime
from typing import Protocol, TypeVar

from voltbridge.devices.openadr.delivery import Delivery, DeliveryMeter
from voltbridge.devices.openadr.notices import GridSignalSink, NoticeCode, NoticeLevel
from voltbridge.programs.events import AnnouncedOutage, Choice, ProgramEvent

log = logging.getLogger("voltbridge.openadr")


class Notify(Protocol):
    def __call__(
        self, level: NoticeLevel, code: NoticeCode, message: str, **data: object
    ) -> None: ...


class Taken(Protocol):
    """A VEN's record of an event it handed on: the event, and whether it has been closed."""

    event: ProgramEvent
    closed: bool


T = TypeVar("T", bound=Taken)


class SinkCalls:
    """The sink's calls with their notices; ``prefix`` starts every message ("OpenADR: ")."""

    def __init__(self, sink: GridSignalSink, notify: Notify, prefix: str) -> None:
        self.sink, self.notify, self.prefix = sink, notify, prefix

    def outage(self, outage: AnnouncedOutage) -> bool:
        """Hand on an announced outage; False when the controller side refused it."""
        try:
            self.sink.on_outage(outage)
        except Exception as err:
            log.exception("the controller refused an announced outage")
            self.notify(
                "error",
                NoticeCode.SOFTWARE_FAULT,
                f"{self.prefix}outage {outage.outage_id!r} could not be handed on ({err})",
                event_id=outage.outage_id,
            )
            return False
        self.notify(
            "warning",
            NoticeCode.OUTAGE_ANNOUNCED,
            f"{self.prefix}outage announced from {outage.start:%Y-%m-%d %H:%M} to "
            f"{outage.end:%Y-%m-%d %H:%M} UTC",
            event_id=outage.outage_id,
        )
        return True

    def event(self, event: ProgramEvent, answer: Callable[[], str]) -> bool:
        """Hand on a paid event and say it with ``answer()`` (what the VEN does about it);
        False when the controller side refused it."""
        try:
            self.sink.on_event(event)
        except Exception as err:
            log.exception("the controller refused a grid event")
            self.notify(
                "error",
                NoticeCode.SOFTWARE_FAULT,
                f"{self.prefix}event {event.event_id!r} could not be handed on ({err})",
                event_id=event.event_id,
            )
            return False
        asked = f"{event.requested_kw:g} kW" if event.requested_kw > 0 else "what it can"
        self.notify(
            "info",
            NoticeCode.EVENT_RECEIVED,
            f"{self.prefix}event {event.event_id!r}: {event.kind} {asked} from "
            f"{event.start:%Y-%m-%d %H:%M} to {event.end:%H:%M} UTC at "
            f"{event.payment_per_kwh:g}/kWh; {answer()}",
            event_id=event.event_id,
        )
        return True

    def cancelled(self, event_id: str, why: str) -> None:
        """Tell the controller side an event or outage is off, and say why."""
        try:
            self.sink.on_cancelled(event_id)
        except Exception:
            log.exception("the controller refused a cancellation")
        self.notify(
            "info",
            NoticeCode.EVENT_CANCELLED,
            f"{self.prefix}{event_id!r} cancelled: {why}",
            event_id=event_id,
        )

    def choice(self, event_id: str) -> Choice:
        """The household's answer so far; ``undecided`` when it cannot be read (logged)."""
        try:
            return self.sink.choice(event_id)
        except Exception:
            log.exception("the household's choice could not be read")
            return "undecided"


def close_delivery(
    meter: DeliveryMeter, event: ProgramEvent, notify: Notify, prefix: str
) -> Delivery:
    """What an ended event delivered, with a warning when telemetry did not cover its window."""
    delivery = meter.delivered(event.start, event.end)
    if delivery.covered_h < delivery.window_h - 1e-9:
        notify(
            "warning",
            NoticeCode.TELEMETRY,
            f"{prefix}event {event.event_id!r}: grid telemetry covers "
            f"{delivery.covered_h:.2f} of {delivery.window_h:.2f} h; the gaps count as nothing "
            "delivered",
            event_id=event.event_id,
        )
    return delivery


def forget_over(
    events: MutableMapping[str, T],
    pending: Container[str],
    outages: MutableMapping[str, AnnouncedOutage],
    meter: DeliveryMeter,
    now: datetime,
) -> None:
    """Drop closed events with no report left to send and outages that are over, and the
    telemetry no open event needs."""
    for event_id in [i for i, t in events.items() if t.closed and i not in pending]:
        del events[event_id]
    for outage_id in [i for i, o in outages.items() if o.end <= now]:
        del outages[outage_id]
    open_starts = [t.event.start for t in events.values() if not t.closed]
    meter.forget_before(min(open_starts, default=now))
