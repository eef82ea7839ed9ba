"""Connecting a home to its utility programs' VTNs: one OpenADR VEN per ``[[programs]]`` entry
with a ``[programs.openadr]`` table, wired to the controller.

The VEN hands paid events to the controller's event book (which the plan, the dashboard and the
API read) and announced outages to storm watch; it asks the book for the household's answer to
each event, and it is fed the metered grid power every tick (through the book), from which it
reports what each event delivered. What the VEN notices (a refused event, a VTN that does not
answer) becomes an event in the controller's log.
"""

from __future__ import annotations

import logging

from voltbridge.config import Site
from voltbridge.control.controller import Controller
from voltbridge.control.site_model import ControlSite
from voltbridge.core.clock import Clock
from voltbridge.core.status import EventCode, EventKind
from voltbridge.devices.openadr import OpenADRVen
from voltbridge.devices.openadr.notices import VenNotice
from voltbridge.devices.openadr3 import OpenADR3Ven
from voltbridge.programs.events import AnnouncedOutage, Choice, ProgramEvent
from voltbridge.programs.storm import StormError

log = logging.getLogger("voltbridge.runtime")


class ControllerSink:
    """The controller side of a VEN (``devices.openadr.notices.GridSignalSink``)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def on_event(self, event: ProgramEvent) -> None:
        self.controller.programs.offer(event)

    def on_outage(self, outage: AnnouncedOutage) -> None:
        try:
            self.controller.announce_outage(outage, source="openadr")
        except StormError as err:
            self._say("warning", f"OpenADR: announced outage {outage.outage_id!r} not taken: {err}")

    def on_cancelled(self, event_id: str) -> None:
        if self.controller.programs.cancel(event_id, "vtn"):
            return
        try:
            self.controller.cancel_outage(event_id, source="openadr")
        except StormError:
            self._say(
                "warning", f"OpenADR: the VTN cancelled {event_id!r}, which is not known here"
            )

    def choice(self, event_id: str) -> Choice:
        book = self.controller.programs
        event = book.get(event_id)
        if event is None:
            return "undecided"
        if event.choice != "undecided":
            return event.choice
        return "take_part" if book.taking_part(event) else "skip"

    def notice(self, notice: VenNotice) -> None:
        """A VEN's notice as an event of the controller's log."""
        self._say(notice.level, notice.message, {"notice": notice.code.value, **notice.data})

    def _say(self, level: str, message: str, data: dict[str, object] | None = None) -> None:
        kind = EventKind.PROGRAM if level == "info" else EventKind.WARNING
        self.controller.log.emit(
            kind, EventCode.PROGRAM_EVENT, message, device="openadr", data=_plain(data or {})
        )


def _plain(data: dict[str, object]) -> dict[str, object]:
    """JSON-ready values only (the store keeps events as JSON)."""
    return {
        k: v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
        for k, v in data.items()
    }


def home_limit_kw(site: ControlSite) -> float:
    """What the home can deliver at most: every car's charger and the battery together [kW]."""
    total = sum(v.max_discharge_kw for v in site.vehicles)
    if site.battery is not None:
        total += site.battery.max_discharge_kw
    return max(total, 0.1)


def start_vens(
    site: Site, control: ControlSite, controller: Controller, clock: Clock
) -> list[OpenADRVen | OpenADR3Ven]:
    """One VEN per program with a VTN (OpenADR 2.0b or 3), fed the metered grid power through
    the event book.
    Raises ``VenConfigError`` (a ``ValueError``) when one cannot start (a passphrase missing
    from the environment): the household fixes its configuration, nothing runs half-wired."""
    vens: list[OpenADRVen | OpenADR3Ven] = []
    sink = ControllerSink(controller)
    limit_kw = home_limit_kw(control)
    for entry in site.programs:
        if not entry.enabled:
            continue
        ven: OpenADRVen | OpenADR3Ven
        if entry.openadr is not None:
            config = entry.openadr.resolved(entry.id, limit_kw)
            ven = OpenADRVen(config, sink, clock, on_notice=sink.notice)
            vens.append(ven)
            controller.programs.grid_listeners.append(ven.record_grid_power)
            log.info("OpenADR VEN %s for %s at %s", config.ven_name, entry.id, config.vtn_url)
        if entry.openadr3 is not None:
            config3 = entry.openadr3.resolved(entry.id, limit_kw)
            ven = OpenADR3Ven(config3, sink, clock, on_notice=sink.notice)
            vens.append(ven)
            controller.programs.grid_listeners.append(ven.record_grid_power)
            log.info("OpenADR 3 VEN %s for %s at %s", config3.ven_name, entry.id, config3.vtn_url)
    return vens
