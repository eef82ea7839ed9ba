"""A real openleadr VTN on 127.0.0.1 (OS-chosen port) for the VEN tests, a clock that moves only
when a test advances it, and a controller-side sink that records what it is handed.

The VTN uses openleadr's external polling (``on_poll``) so that every optIn/optOut the VEN sends
reaches ``on_created_event``, not only the first. Waits are on asyncio futures; the only bound is
``GUARD_S``, a hang guard far above any answer time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openleadr import OpenADRServer, objects

from voltbridge.core.clock import VirtualClock
from voltbridge.devices.openadr import OpenADRConfig
from voltbridge.programs.events import AnnouncedOutage, Choice, ProgramEvent

GUARD_S = 60.0
"""Real seconds a scenario may take before it counts as hung (it takes well under one)."""
VEN_ID = "ven-home-1"
VTN_ID = "VTN-UTILITY"
PREFIX = "/OpenADR2/Simple/2.0b"


class StepClock(VirtualClock):
    """A virtual clock whose ``sleep`` waits until the test advances it past the deadline."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        deadline = self.now() + timedelta(seconds=seconds)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((deadline, waiter))
        await waiter

    def advance_to(self, at: datetime) -> None:
        self.advance((at - self.now()).total_seconds())
        for deadline, waiter in list(self._sleepers):
            if deadline <= self.now() and not waiter.done():
                waiter.set_result(None)
                self._sleepers.remove((deadline, waiter))


@dataclass
class Sink:
    """The controller side: records events, outages, cancellations; answers a set choice."""

    choices: dict[str, Choice] = field(default_factory=dict)
    events: list[ProgramEvent] = field(default_factory=list)
    outages: list[AnnouncedOutage] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    def on_event(self, event: ProgramEvent) -> None:
        self.events.append(event)

    def on_outage(self, outage: AnnouncedOutage) -> None:
        self.outages.append(outage)

    def on_cancelled(self, event_id: str) -> None:
        self.cancelled.append(event_id)

    def choice(self, event_id: str) -> Choice:
        return self.choices.get(event_id, "undecided")


def event(
    event_id: str,
    start: datetime,
    duration: timedelta,
    signals: Sequence[tuple[str, str, float]],
    market_context: str = "oadr://utility.example/elrp",
    modification: int = 0,
    status: str = "",
) -> objects.Event:
    """An OpenADR event with one interval per signal over the whole window.

    openleadr sets every status but ``cancelled`` from the wall clock (the VEN judges time on
    its own clock and reads only ``cancelled``), so only that one is set here."""
    made = objects.Event(
        event_descriptor=objects.EventDescriptor(
            event_id=event_id,
            modification_number=modification,
            market_context=market_context,
            event_status=status,
            created_date_time=start - timedelta(days=1),
        ),
        event_signals=[
            objects.EventSignal(
                intervals=[
                    objects.Interval(dtstart=start, duration=duration, signal_payload=payload)
                ],
                signal_name=name,
                signal_type=kind,
                signal_id=f"{event_id}-{i}",
            )
            for i, (name, kind, payload) in enumerate(signals)
        ],
        targets=[objects.Target(ven_id=VEN_ID)],
        active_period=objects.ActivePeriod(dtstart=start, duration=duration),
        response_required="always",
    )
    if status == "cancelled":
        made.event_descriptor.event_status = status
    return made


class Vtn:
    """An openleadr VTN serving queued events and recording opts and delivery reports."""

    def __init__(self, accept: bool = True, port: int = 0) -> None:
        self.accept = accept
        self.live: list[objects.Event] = []
        """What ``oadrRequestEvent`` answers (the VTN's current events)."""
        self.to_poll: list[list[objects.Event]] = []
        """Distributions handed out by the next polls, one per poll."""
        self.opts: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.energy: asyncio.Queue[list[tuple[datetime, float]]] = asyncio.Queue()
        self.power: asyncio.Queue[list[tuple[datetime, float]]] = asyncio.Queue()
        self.registered_measurements: list[str] = []
        self.reports: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        """Whole reports for which this VTN made no request (a VTN restarted since)."""
        self.server = OpenADRServer(
            vtn_id=VTN_ID,
            http_host="127.0.0.1",
            http_port=port,
            requested_poll_freq=timedelta(seconds=10),
            show_fingerprint=False,
        )
        self.server.add_handler("on_create_party_registration", self._register)
        self.server.add_handler("on_register_report", self._register_report)
        self.server.add_handler("on_created_event", self._created_event)
        self.server.add_handler("on_request_event", lambda ven_id: list(self.live) or None)
        self.server.add_handler("on_poll", self._poll)
        self.server.add_handler("on_update_report", self.reports.put_nowait)
        self.port = port

    def _register(self, payload: dict[str, Any]) -> tuple[str, str] | bool:
        return (VEN_ID, "reg-1") if self.accept else False

    def _register_report(
        self,
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str,
        scale: str,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Any, timedelta]:
        self.registered_measurements.append(f"{measurement} {scale}{unit}")
        queue = self.energy if measurement == "RealEnergy" else self.power
        return queue.put_nowait, min_sampling_interval

    def _created_event(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self.opts.put_nowait((event_id, opt_type))

    def _poll(self, ven_id: str) -> tuple[str, dict[str, Any]] | None:
        if not self.to_poll:
            return None
        return "oadrDistributeEvent", {"events": self.to_poll.pop(0)}

    async def start(self) -> None:
        await self.server.run()
        self.port = self.server.app_runner.addresses[0][1]

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def config(self, **changes: Any) -> OpenADRConfig:
        values: dict[str, Any] = {
            "vtn_url": self.url,
            "ven_name": "home-1",
            "program": "elrp",
            "payment_per_kwh": 2.0,
            "charger_limit_kw": 7.4,
            "outage_market_context": "oadr://utility.example/psps",
            "poll_s": 10.0,
        }
        return OpenADRConfig.model_validate({**values, **changes})


async def next_opts(vtn: Vtn, n: int) -> dict[str, str]:
    """The next ``n`` opts the VTN receives, by event id."""
    got: dict[str, str] = {}
    async with asyncio.timeout(GUARD_S):
        for _ in range(n):
            event_id, opt = await vtn.opts.get()
            got[event_id] = opt
    return got
