"""voltbridge as an OpenADR 3 VEN: a small REST/JSON client of a utility's or aggregator's VTN.

Each round (:meth:`OpenADR3Ven.step`, on the injected clock):

1. a bearer token by OAuth2 client credentials (``session.py``: ``POST`` to the token endpoint,
   form-encoded, the one named by ``GET /auth/server``, else ``/auth/token``), renewed before it
   expires and at once when the VTN answers 401;
2. the VEN object: found by ``GET /vens?venName=...``, else created with ``POST /vens``
   (``VEN_VEN_REQUEST``);
3. the program: ``GET /programs``, matched by ``id`` or ``programName``;
4. the events: ``GET /events?programID=...`` (paged); each new or modified event (its
   ``modificationDateTime`` changed) is mapped (``mapping.py``) and handed to the sink; an event
   that vanishes before its end was deleted by the VTN, which OpenADR 3 counts as cancelled;
5. for each paid event that has ended and the household took part in, a report
   (``POST /reports``) of the energy delivered, computed from the grid power the controller
   feeds (:meth:`OpenADR3Ven.record_grid_power`, as in the 2.0b VEN's ``delivery.py``).

OpenADR 3 has no optIn/optOut message; the household's choice (:meth:`GridSignalSink.choice`,
``default_choice`` while undecided) is not sent. It decides the report: an event taken part in
gets a ``DELTA_USAGE`` report (the change of the site's consumption against the baseline, kWh,
negative when energy was delivered, one interval covering the event's window, resource
``AGGREGATED_REPORT``); a skipped event gets none and a notice (``OPT_SENT``) says so. Reports that cannot be
sent are kept and sent again next round.

Nothing raises out of :meth:`OpenADR3Ven.step` or :meth:`OpenADR3Ven.run`: faults become
notices (the 2.0b VEN's :class:`~voltbridge.devices.openadr.notices.NoticeCode`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from voltbridge.core.clock import Clock
from voltbridge.devices.openadr.delivery import Delivery, DeliveryMeter
from voltbridge.devices.openadr.handing import SinkCalls, close_delivery, forget_over
from voltbridge.devices.openadr.notices import GridSignalSink, NoticeCode, NoticeLevel, VenNotice
from voltbridge.devices.openadr3.mapping import (
    EventWithdrawn,
    MappingRules,
    SignalError,
    map_event,
)
from voltbridge.devices.openadr3.session import VtnSession
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent
from voltbridge.programs.openadr3_config import OpenADR3Config
from voltbridge.programs.openadr_config import VenConfigError

log = logging.getLogger("voltbridge.openadr3")

REPORT_TYPE = "DELTA_USAGE"
REPORT_RESOURCE = "AGGREGATED_REPORT"


class _Overlap(SignalError):
    """The event overlaps one already taken."""


@dataclass
class _Taken:
    """A paid event handed to the sink, and whether its window has been closed."""

    event: ProgramEvent
    closed: bool = False


def _iso_duration(span: timedelta) -> str:
    """``PT..S`` for a window (whole seconds)."""
    return f"PT{int(span.total_seconds())}S"


def report_body(
    config: OpenADR3Config, program_id: str, event: ProgramEvent, delivery: Delivery
) -> dict[str, Any]:
    """The ``reportRequest`` for one event's delivered energy (see the module docstring)."""
    return {
        "programID": program_id,  # required by 3.0.x, harmless in 3.1
        "eventID": event.event_id,
        "clientName": config.ven_name,
        "reportName": f"voltbridge delivered energy {event.event_id}",
        "payloadDescriptors": [
            {
                "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
                "payloadType": REPORT_TYPE,
                "readingType": "DIRECT_READ",
                "units": "KWH",
            }
        ],
        "resources": [
            {
                "resourceName": REPORT_RESOURCE,
                "intervalPeriod": {
                    "start": event.start.isoformat(),
                    "duration": _iso_duration(event.end - event.start),
                },
                "intervals": [
                    {"id": 0, "payloads": [{"type": REPORT_TYPE, "values": [-delivery.energy_kwh]}]}
                ],
            }
        ],
    }


class OpenADR3Ven:
    """One VEN connection to one OpenADR 3 VTN (see the module docstring).

    Args:
        config: the VTN, this home's name, its program and how signals map.
        sink: the controller side that takes events and gives the household's choice.
        clock: the injected clock (polls, retries, token expiry, event windows, notices).
        on_notice: called with each notice as it happens (the event log); optional.
        environ: where the client credentials are looked up (os.environ when None).
        keep: how many notices :attr:`notices` keeps.
        transport: an httpx transport (tests); None uses the network.
    """

    def __init__(
        self,
        config: OpenADR3Config,
        sink: GridSignalSink,
        clock: Clock,
        on_notice: Callable[[VenNotice], None] | None = None,
        environ: dict[str, str] | None = None,
        keep: int = 500,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if config.program is None or config.charger_limit_kw is None:
            raise VenConfigError(
                "OpenADR 3: the VEN needs its program and charger_limit_kw; "
                "OpenADR3Config.resolved() fills them from the site"
            )
        self.config, self.sink, self.clock, self.on_notice = config, sink, clock, on_notice
        self.rules = MappingRules(
            program=config.program,
            payment_per_kwh=config.payment_per_kwh,
            currency=config.currency,
            simple_kind=config.simple_kind,
            charger_limit_kw=config.charger_limit_kw,
        )
        self.calls = SinkCalls(sink, self._notice, "")
        self.notices: deque[VenNotice] = deque(maxlen=keep)
        self.events: dict[str, _Taken] = {}
        """Paid events taken from the VTN, by event id, until reported or dropped."""
        self.outages: dict[str, AnnouncedOutage] = {}
        self.delivered: dict[str, Delivery] = {}
        """What each ended event delivered, by event id."""
        self.ven_id: str | None = None
        self.program_id: str | None = None
        self._program: Mapping[str, Any] | None = None
        self.http = VtnSession(config, clock, self._say, environ, transport)
        self._seen: dict[str, str] = {}
        """The ``modificationDateTime`` of each event last looked at, by id."""
        self._overlapping: set[str] = set()
        """Events refused for overlapping a taken one (looked at again when one is cancelled)."""
        self._pending: dict[str, tuple[ProgramEvent, Delivery]] = {}
        self._held_noted: set[str] = set()
        self._meter = DeliveryMeter(config.sample_gap_s)
        self._sample_refused = False
        self._running = False

    # ---------------------------------------------------------------- notices

    def _notice(self, level: NoticeLevel, code: NoticeCode, message: str, **data: object) -> None:
        notice = VenNotice(self.clock.now(), level, code, f"OpenADR 3: {message}", dict(data))
        self.notices.append(notice)
        log.log(
            {"info": logging.INFO, "warning": logging.WARNING}.get(level, logging.ERROR),
            notice.message,
        )
        if self.on_notice is not None:
            try:
                self.on_notice(notice)
            except Exception:
                log.exception("the notice callback failed")

    def _say(self, level: NoticeLevel, code: NoticeCode, message: str) -> None:
        """The session's notices (about the VTN), with its URL."""
        self._notice(level, code, message, url=self.config.vtn_url)

    # ------------------------------------------------------------------ setup

    async def _register(self) -> bool:
        name = self.config.ven_name
        found = await self.http.paged("GET /vens", "/vens", {"venName": name})
        if found is None:
            return False
        mine = [v for v in found if isinstance(v, Mapping) and v.get("venName") == name]
        if mine and isinstance(mine[0].get("id"), str):
            self.ven_id = mine[0]["id"]
        else:
            body = {"objectType": "VEN_VEN_REQUEST", "venName": name}
            response = await self.http.call("POST /vens", "POST", self.http.url("/vens"), json=body)
            if response is None:
                return False
            ven = self.http.json("POST /vens", response, dict) if response.is_success else None
            if ven is None or not isinstance(ven.get("id"), str):
                self.http.setup_refused(
                    f"the VTN at {self.config.vtn_url} refused to register VEN {name!r} "
                    f"(HTTP {response.status_code}); check ven_name and the client credentials "
                    f"with the operator. Trying again every {self.config.retry_s:g} s"
                )
                return False
            self.ven_id = ven["id"]
        self.http.setup_refused(None)
        self._notice(
            "info",
            NoticeCode.REGISTERED,
            f"registered with the VTN at {self.config.vtn_url} as VEN {self.ven_id}",
            ven_id=self.ven_id,
        )
        return True

    async def _find_program(self) -> bool:
        wanted = self.config.vtn_program
        found = await self.http.paged("GET /programs", "/programs", {})
        if found is None:
            return False
        for program in found:
            if not isinstance(program, Mapping) or not isinstance(program.get("id"), str):
                continue
            if wanted in (program["id"], program.get("programName")):
                self._program, self.program_id = program, program["id"]
                self.http.setup_refused(None)
                return True
        self.http.setup_refused(
            f"the VTN has no program {wanted!r} visible to this VEN; check vtn_program "
            "with the operator"
        )
        return False

    # ------------------------------------------------------------------- loop

    @property
    def ready(self) -> bool:
        """Whether the VEN is registered, knows its program and the VTN last answered."""
        return self.ven_id is not None and self.program_id is not None and self.http.state == "ok"

    async def run(self) -> None:
        """Poll on the injected clock until :meth:`stop`; never raises."""
        self._running = True
        try:
            while self._running:
                await self.step()
                if self._running:
                    await self.clock.sleep(
                        self.config.poll_s if self.ready else self.config.retry_s
                    )
        finally:
            await self.close()

    def stop(self) -> None:
        """Let :meth:`run` end after the current step."""
        self._running = False

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.http.close()

    async def step(self) -> None:
        """One round (see the module docstring). Faults become notices, never exceptions."""
        try:
            if not await self.http.ensure_token():
                return
            if self.ven_id is None and not await self._register():
                return
            if self.program_id is None and not await self._find_program():
                return
            await self._poll_events()
            self._close_ended()
            await self._send_reports()
        except Exception as err:
            log.exception("OpenADR 3 step failed")
            self._notice(
                "error",
                NoticeCode.SOFTWARE_FAULT,
                f"a step failed ({type(err).__name__}: {err}); it runs again next poll",
            )

    # ----------------------------------------------------------------- events

    async def _poll_events(self) -> None:
        assert self.program_id is not None
        found = await self.http.paged("GET /events", "/events", {"programID": self.program_id})
        if found is None:
            return  # nothing is concluded from a failed poll
        present: set[str] = set()
        for raw in found:
            if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
                self._notice("warning", NoticeCode.EVENT_REFUSED, "an event without an id")
                continue
            if raw.get("programID") not in (None, self.program_id):
                continue  # the VTN ignored the filter
            event_id = raw["id"]
            present.add(event_id)
            version = str(raw.get("modificationDateTime") or raw)
            if self._seen.get(event_id) == version:
                continue  # unchanged since the last poll
            self._seen[event_id] = version
            self._take(raw)
        self._seen = {i: v for i, v in self._seen.items() if i in present}
        self._overlapping &= present
        if not self.http.complete:
            return  # an event on a page not read has not vanished
        now = self.clock.now()
        gone = [i for i, t in self.events.items() if not t.closed and t.event.end > now]
        gone += [i for i, o in self.outages.items() if o.end > now]
        for event_id in gone:
            if event_id not in present:
                self._cancel(event_id, "deleted by the VTN")

    def _take(self, raw: Mapping[str, Any]) -> None:
        event_id = str(raw["id"])
        known = event_id in self.events or event_id in self.outages
        now = self.clock.now()
        try:
            mapped = map_event(raw, self.rules, now, self._program)
            if isinstance(mapped.signal, ProgramEvent):
                self._check_overlap(mapped.signal, now)
        except EventWithdrawn:
            self._cancel(event_id, "withdrawn (a window of no length)")
            return
        except SignalError as err:
            if isinstance(err, _Overlap):
                self._overlapping.add(event_id)
            self._notice("warning", NoticeCode.EVENT_REFUSED, f"refused: {err}", event_id=event_id)
            if known:  # a change that makes a taken event unacceptable ends it
                self._cancel(event_id, "changed into one voltbridge refuses")
            return
        for note in mapped.notes:
            self._notice("warning", NoticeCode.EVENT_CLIPPED, note, event_id=event_id)
        if isinstance(mapped.signal, AnnouncedOutage):
            self._hand_outage(mapped.signal)
        else:
            self._hand_event(mapped.signal)

    def _check_overlap(self, event: ProgramEvent, now: datetime) -> None:
        for taken in self.events.values():
            other = taken.event
            if other.event_id != event.event_id and other.end > now and other.overlaps(event):
                raise _Overlap(
                    f"event {event.event_id!r} ({event.start:%Y-%m-%d %H:%M}-{event.end:%H:%M} "
                    f"UTC) overlaps event {other.event_id!r} ({other.start:%Y-%m-%d %H:%M}-"
                    f"{other.end:%H:%M} UTC)"
                )

    def _hand_outage(self, outage: AnnouncedOutage) -> None:
        if self.calls.outage(outage):
            self.outages[outage.outage_id] = outage

    def _hand_event(self, event: ProgramEvent) -> None:
        if self.calls.event(event, lambda: f"household: {self._decided(event.event_id)}"):
            self.events[event.event_id] = _Taken(event)

    def _cancel(self, event_id: str, why: str) -> None:
        known = self.events.pop(event_id, None) is not None
        known = self.outages.pop(event_id, None) is not None or known
        self._pending.pop(event_id, None)
        if not known:
            return
        for other in self._overlapping:  # refused for overlapping: looked at again next poll
            self._seen.pop(other, None)
        self._overlapping.clear()
        self.calls.cancelled(event_id, why)

    def _decided(self, event_id: str) -> str:
        """``take_part`` or ``skip``: the household's choice, the default while undecided."""
        choice = self.calls.choice(event_id)
        return self.config.default_choice if choice == "undecided" else choice

    # --------------------------------------------------------------- delivery

    def record_grid_power(self, at: datetime, grid_kw: float, baseline_kw: float = 0.0) -> None:
        """Take the measured grid power (positive for import) [kW] and the program's baseline at
        that time [kW] (0 for export events); the controller calls it every tick."""
        why = self._meter.add(at, grid_kw, baseline_kw)
        if why is not None:
            if not self._sample_refused:
                self._notice("warning", NoticeCode.TELEMETRY, f"{why}; sample ignored")
            self._sample_refused = True
            return
        self._sample_refused = False

    def _close_ended(self) -> None:
        now = self.clock.now()
        for event_id, taken in self.events.items():
            event = taken.event
            if taken.closed or event.end > now:
                continue
            taken.closed = True
            if self._decided(event_id) != "take_part":
                self._notice(
                    "info",
                    NoticeCode.OPT_SENT,  # the household's choice, as 2.0b's optOut notice
                    f"event {event_id!r} ended; the household skipped it, so no report is sent",
                    event_id=event_id,
                )
                continue
            delivery = close_delivery(self._meter, event, self._notice, "")
            self.delivered[event_id] = delivery
            self._pending[event_id] = (event, delivery)
        forget_over(self.events, self._pending, self.outages, self._meter, now)

    async def _send_reports(self) -> None:
        assert self.program_id is not None
        for event_id, (event, delivery) in list(self._pending.items()):
            body = report_body(self.config, self.program_id, event, delivery)
            response = await self.http.call(
                "POST /reports", "POST", self.http.url("/reports"), json=body
            )
            if response is None:
                if event_id not in self._held_noted:
                    self._held_noted.add(event_id)
                    self._notice(
                        "warning",
                        NoticeCode.REPORT_HELD,
                        f"the report for event {event_id!r} ({delivery.energy_kwh:.3f} kWh) is "
                        "held until the VTN takes it",
                        event_id=event_id,
                    )
                return  # the VTN is in trouble: the others wait too
            del self._pending[event_id]
            self.events.pop(event_id, None)
            self._held_noted.discard(event_id)
            if response.is_success:
                self._notice(
                    "info",
                    NoticeCode.REPORT_SENT,
                    f"reported {delivery.energy_kwh:.3f} kWh delivered in event {event_id!r}",
                    event_id=event_id,
                    energy_kwh=delivery.energy_kwh,
                )
            else:  # refused for good: said, with the figure, rather than sent forever
                self._notice(
                    "error",
                    NoticeCode.VTN_REJECTED,
                    f"the VTN refused the report for event {event_id!r} (HTTP "
                    f"{response.status_code}: {response.text[:200]}); {delivery.energy_kwh:.3f} "
                    "kWh delivered stays in voltbridge's record only",
                    event_id=event_id,
                    energy_kwh=delivery.energy_kwh,
                )
