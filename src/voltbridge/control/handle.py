"""What the API and dashboard may see and change of a running controller."""

from __future__ import annotations

import asyncio
from typing import Protocol

from voltbridge.control.health import Check
from voltbridge.control.program_events import EventBook
from voltbridge.control.settings import Settings, SettingsUpdate
from voltbridge.core.status import ControlEvent, ControlStatus
from voltbridge.core.types import Plan
from voltbridge.programs.events import AnnouncedOutage


class ControlHandle(Protocol):
    """A running controller, as seen from outside the control loop."""

    @property
    def status(self) -> ControlStatus | None:
        """The latest status (None before the first tick)."""
        ...

    @property
    def plan(self) -> Plan | None:
        """The plan being followed (None before the first plan)."""
        ...

    @property
    def settings(self) -> Settings:
        """The household's settings now."""
        ...

    @property
    def vehicle_names(self) -> list[str]:
        """The site's cars, in site-file order."""
        ...

    def apply_settings(self, update: SettingsUpdate, source: str) -> Settings:
        """Merge ``update`` (ValueError naming the field if invalid), record a MODE event naming
        ``source`` (e.g. ``"api"``), re-plan at the next tick, and return the new settings."""
        ...

    @property
    def programs(self) -> EventBook:
        """The paid grid events known, with the household's answers (offer, choose, cancel)."""
        ...

    def health(self) -> dict[str, Check]:
        """The loop, devices, store and plan checks (``voltbridge.control.health``)."""
        ...

    def announce_outage(self, outage: AnnouncedOutage, source: str) -> AnnouncedOutage:
        """Storm watch for an announced outage: recorded as an event naming ``source``, re-planned
        at the next tick; ``programs.storm.StormError`` for a window over or too far ahead."""
        ...

    def cancel_outage(self, outage_id: str, source: str) -> AnnouncedOutage:
        """Call off an announced outage (recorded); ``StormError`` when no such outage is known."""
        ...

    def announced_outages(self) -> list[AnnouncedOutage]:
        """The announced outages not over yet, by start."""
        ...

    def subscribe(self) -> asyncio.Queue[ControlStatus | ControlEvent]:
        """A queue receiving every new status and event (bounded; the oldest are dropped when full)."""
        ...

    def unsubscribe(self, queue: asyncio.Queue[ControlStatus | ControlEvent]) -> None:
        """Stop feeding ``queue``."""
        ...
