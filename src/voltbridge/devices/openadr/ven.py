"""voltbridge as an OpenADR 2.0b VEN: registers with a utility's VTN, polls it on the injected
clock, turns its events into grid events for the controller, answers optIn/optOut as the household
chose, and reports the energy each event delivered.

openleadr's ``OpenADRClient`` does the wire work (XML, schema, signatures, TLS). Its own ``run()``
is not used: it schedules polls and reports with APScheduler on the wall clock, and its event
handler cannot say why it refused an event. This class drives the client's steps itself, so time
comes from the injected clock and every refusal, lost VTN or held report becomes a notice.
Two of the client's underscored helpers are used, in ``wire.py`` only (for the oadrUpdateReport
and oadrCanceledReport it has no public call for); openleadr is pinned.

Nothing raises out of :meth:`OpenADRVen.step` or :meth:`OpenADRVen.run`: faults become notices.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from voltbridge.core.clock import Clock
from voltbridge.devices.openadr.delivery import Delivery, DeliveryMeter
from voltbridge.devices.openadr.handing import SinkCalls, close_delivery, forget_over
from voltbridge.devices.openadr.notices import (
    GridSignalSink,
    NoticeCode,
    NoticeLevel,
    VenNotice,
)
from voltbridge.devices.openadr.signals import (
    EventIdentity,
    MappingRules,
    SignalError,
    identify,
    map_event,
)
from voltbridge.devices.openadr.wire import (
    canceled_report_message,
    delivery_report,
    find_report_request,
    make_client,
    update_report_message,
)
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent
from voltbridge.programs.openadr_config import OpenADRConfig, VenConfigError

log = logging.getLogger("voltbridge.openadr")

Opt = Literal["optIn", "optOut"]

MAX_ANSWERS = 1000
"""Answers remembered (so a repeated event is answered the same without new notices)."""
MAX_POLLS = 10
"""Polls in one round at most (the VTN hands out one message per poll)."""
DEFAULT_POLL_S = 10.0
"""Poll interval [s] when neither the config nor the VTN names one (openleadr's default)."""


@dataclass
class _Answer:
    """What voltbridge answers to one event: wanted now, and what the VTN last acknowledged."""

    modification: int
    wanted: Opt
    request_id: str
    sent: Opt | None = None


@dataclass
class _Taken:
    """An accepted paid event and where its delivery stands."""

    event: ProgramEvent
    closed: bool = False


def _opt(choice: str, default: str) -> Opt:
    decided = default if choice == "undecided" else choice
    return "optIn" if decided == "take_part" else "optOut"


class OpenADRVen:
    """One VEN connection to one VTN (see the module docstring).

    Args:
        config: the VTN, this home's name, its program and how signals map.
        sink: the controller side that takes events and gives the household's choice.
        clock: the injected clock (polls, retries, event windows, notices).
        on_notice: called with each notice as it happens (the event log); optional.
        environ: where the key passphrase is looked up (os.environ when None).
        keep: how many notices :attr:`notices` keeps.
    """

    def __init__(
        self,
        config: OpenADRConfig,
        sink: GridSignalSink,
        clock: Clock,
        on_notice: Callable[[VenNotice], None] | None = None,
        environ: dict[str, str] | None = None,
        keep: int = 500,
    ) -> None:
        if config.program is None or config.charger_limit_kw is None:
            raise VenConfigError(
                "OpenADR: the VEN needs its program and charger_limit_kw; "
                "OpenADRConfig.resolved() fills them from the site"
            )
        self.config, self.sink, self.clock, self.on_notice = config, sink, clock, on_notice
        self.rules = MappingRules(
            program=config.program,
            payment_per_kwh=config.payment_per_kwh,
            simple_kind=config.simple_kind,
            charger_limit_kw=config.charger_limit_kw,
            outage_market_context=config.outage_market_context,
        )
        self.calls = SinkCalls(sink, self._notice, "OpenADR: ")
        self.notices: deque[VenNotice] = deque(maxlen=keep)
        self.events: dict[str, _Taken] = {}
        """Paid events taken from the VTN, by event id, until their report is sent."""
        self.outages: dict[str, AnnouncedOutage] = {}
        self.delivered: dict[str, Delivery] = {}
        """What each ended event delivered, by event id."""
        self._answers: dict[str, _Answer] = {}
        self._pending: dict[str, tuple[ProgramEvent, Delivery]] = {}
        self._held_noted: set[str] = set()
        self._meter = DeliveryMeter(config.sample_gap_s)
        self._last_delivered_kw = 0.0
        self._sample_refused = False
        self._registered = False
        self._refused = False
        self._vtn_state = "new"
        self._answered = False
        self._running = False
        self._client: Any = make_client(
            config, clock.now(), environ, self._report_value, self._on_answer
        )

    # ------------------------------------------------------------------ setup

    def _on_answer(self, _xml: str) -> None:
        self._answered = True

    def _report_value(self) -> float:
        """openleadr's own sampling callback (a VTN asking for a one-off reading)."""
        return self._last_delivered_kw

    # ---------------------------------------------------------------- notices

    def _notice(self, level: NoticeLevel, code: NoticeCode, message: str, **data: object) -> None:
        notice = VenNotice(self.clock.now(), level, code, message, dict(data))
        self.notices.append(notice)
        log.log(
            {"info": logging.INFO, "warning": logging.WARNING}.get(level, logging.ERROR), message
        )
        if self.on_notice is not None:
            try:
                self.on_notice(notice)
            except Exception:
                log.exception("the notice callback failed")

    def _trouble(self, what: str) -> None:
        """A call got no usable answer: the VTN is gone, or what it said was refused."""
        state = "rejected" if self._answered else "unreachable"
        if state == self._vtn_state:
            return
        self._vtn_state = state
        if state == "rejected":
            self._notice(
                "error",
                NoticeCode.VTN_REJECTED,
                f"OpenADR: the VTN's answer to {what} was refused (HTTP error, invalid XML, or a "
                "missing or wrong signature for the configured vtn_fingerprint); nothing in it "
                "was acted on",
                url=self.config.vtn_url,
            )
        else:
            self._notice(
                "error",
                NoticeCode.VTN_UNREACHABLE,
                f"OpenADR: the VTN at {self.config.vtn_url} does not answer ({what}); events "
                f"and reports wait, retrying every {self._interval_s():g} s",
                url=self.config.vtn_url,
            )

    def _fine(self) -> None:
        if self._vtn_state in ("rejected", "unreachable"):
            self._notice(
                "info",
                NoticeCode.VTN_RECOVERED,
                f"OpenADR: the VTN at {self.config.vtn_url} answers again",
            )
        self._vtn_state = "ok"

    async def _ask(self, what: str, call: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
        """Run one client call; (whether the VTN gave a usable answer, the call's result)."""
        self._answered = False
        try:
            result = await call()
        except Exception as err:  # openleadr raises on some malformed answers
            log.warning("OpenADR %s failed", what, exc_info=err)
            self._trouble(what)
            return False, None
        failed = isinstance(result, tuple) and result and result[0] is None
        if not self._answered or failed:
            self._trouble(what)
            return False, result
        self._fine()
        return True, result

    # ------------------------------------------------------------------- loop

    def _interval_s(self) -> float:
        if not self._registered:
            return self.config.retry_s
        if self.config.poll_s is not None:
            return self.config.poll_s
        freq = getattr(self._client, "poll_frequency", None)
        if isinstance(freq, timedelta) and freq > timedelta(0):
            return min(freq.total_seconds(), 86400.0)
        return DEFAULT_POLL_S

    async def run(self) -> None:
        """Register, then poll on the injected clock until :meth:`stop`; never raises."""
        self._running = True
        try:
            while self._running:
                await self.step()
                if self._running:
                    await self.clock.sleep(self._interval_s())
        finally:
            await self.close()

    def stop(self) -> None:
        """Let :meth:`run` end after the current step."""
        self._running = False

    async def close(self) -> None:
        """Close the HTTP session (the client opens it on its first call)."""
        session = getattr(self._client, "client_session", None)
        if session is not None and not session.closed:
            await session.close()

    async def step(self) -> None:
        """One round: register if needed, poll, send changed answers, close ended events and
        send their reports. Faults become notices, never exceptions."""
        try:
            if not self._registered and not await self._register():
                return
            await self._poll()
            if self._registered:
                await self._resend_answers()
                self._close_ended()
                await self._send_reports()
        except Exception as err:
            log.exception("OpenADR step failed")
            self._notice(
                "error",
                NoticeCode.SOFTWARE_FAULT,
                f"OpenADR: a step failed ({type(err).__name__}: {err}); it runs again next poll",
            )

    @property
    def registered(self) -> bool:
        """Whether the VTN has given this VEN a registration."""
        return self._registered

    # ----------------------------------------------------------- registration

    async def _register(self) -> bool:
        client = self._client
        ok, _ = await self._ask("oadrQueryRegistration", client.query_registration)
        if not ok:
            return False
        client.registration_id = None
        ok, _ = await self._ask(
            "oadrCreatePartyRegistration",
            lambda: client.create_party_registration(ven_id=client.ven_id),
        )
        if not ok:
            return False
        if client.registration_id is None or client.ven_id is None:
            if not self._refused:
                self._refused = True
                self._notice(
                    "error",
                    NoticeCode.REGISTRATION_REFUSED,
                    f"OpenADR: the VTN at {self.config.vtn_url} refused to register VEN "
                    f"{self.config.ven_name!r}; check ven_name, ven_id and the client "
                    f"certificate with the utility. Trying again every {self.config.retry_s:g} s",
                    url=self.config.vtn_url,
                )
            return False
        self._registered, self._refused = True, False
        self._notice(
            "info",
            NoticeCode.REGISTERED,
            f"OpenADR: registered with the VTN at {self.config.vtn_url} as venID {client.ven_id}",
            ven_id=str(client.ven_id),
        )
        client.report_requests = []  # a new registration gets new report requests
        await self._ask("oadrRegisterReport", lambda: client.register_reports(client.reports))
        ok, result = await self._ask("oadrRequestEvent", client.request_event)
        if ok and isinstance(result, tuple) and result[0] == "oadrDistributeEvent":
            await self._distribute(result[1])
        return True

    # ---------------------------------------------------------------- polling

    async def _poll(self) -> None:
        """Poll until the VTN has nothing more (an empty oadrResponse), as 2.0b's pull model
        asks, but at most ``MAX_POLLS`` times a round so that a chatty VTN cannot hold the loop."""
        for _ in range(MAX_POLLS):
            if not await self._poll_once():
                return

    async def _poll_once(self) -> bool:
        """One oadrPoll and its handling; whether the VTN may have more."""
        client = self._client
        ok, result = await self._ask("oadrPoll", client.poll)
        if not ok or not isinstance(result, tuple):
            return False
        kind, payload = result
        if kind == "oadrResponse":
            return False
        if kind == "oadrDistributeEvent":
            await self._distribute(payload)
        elif kind == "oadrRequestReregistration":
            await self._ask("oadrResponse", lambda: client.send_response(service="EiRegisterParty"))
            self._registered = False
            self._notice("info", NoticeCode.REGISTERED, "OpenADR: the VTN asked to register again")
            await self._register()
        elif kind == "oadrCreateReport":
            await self._ask("oadrCreatedReport", lambda: client.create_report(payload))
        elif kind == "oadrCancelReport":
            await self._cancel_report(payload)
        elif kind == "oadrCancelPartyRegistration":
            self._registered = False
            self._notice(
                "error",
                NoticeCode.REGISTRATION_REFUSED,
                "OpenADR: the VTN cancelled this VEN's registration; registering again",
            )
        else:
            self._notice(
                "warning",
                NoticeCode.UNSUPPORTED,
                f"OpenADR: the VTN sent {kind}, which voltbridge does not handle; ignored",
            )
        return self._registered

    async def _cancel_report(self, payload: Mapping[str, Any]) -> None:
        request_id = payload.get("report_request_id")
        client = self._client
        client.report_requests = [
            r for r in client.report_requests or [] if r.get("report_request_id") != request_id
        ]
        message = canceled_report_message(client, payload)
        await self._ask("oadrCanceledReport", lambda: client._perform_request("EiReport", message))
        self._notice(
            "info",
            NoticeCode.UNSUPPORTED,
            f"OpenADR: the VTN cancelled report request {request_id}",
        )

    # ----------------------------------------------------------------- events

    async def _distribute(self, payload: Mapping[str, Any]) -> None:
        request_id = str(payload.get("request_id") or uuid.uuid4())
        events = payload.get("events") or []
        for raw in events if isinstance(events, list) else []:
            taken = self._take(raw if isinstance(raw, Mapping) else {}, request_id)
            if taken is not None and taken[0].response_required:
                await self._send_opt(taken[0], taken[1])

    def _take(
        self, raw: Mapping[str, Any], request_id: str
    ) -> tuple[EventIdentity, _Answer] | None:
        """Map, check and hand on one event; the answer the VTN should get (None: no answer)."""
        try:
            ident = identify(raw)
        except SignalError as err:
            self._notice(
                "warning", NoticeCode.EVENT_REFUSED, f"OpenADR: an event cannot be answered: {err}"
            )
            return None
        event_id = ident.event_id
        before = self._answers.get(event_id)
        if before is not None and before.modification == ident.modification_number:
            return ident, before  # the VTN repeats itself: same answer, no new notice
        # A status other than cancelled is not trusted: openleadr's VTN derives it from its own
        # wall clock; whether an event is over is judged on the injected clock (map_event).
        if ident.status == "cancelled":
            return ident, self._cancel(ident, request_id)
        now = self.clock.now()
        try:
            mapped = map_event(raw, self.rules, now)
            signal = mapped.signal
            if isinstance(signal, ProgramEvent):
                self._check_overlap(signal, now)
        except SignalError as err:
            self._notice(
                "warning",
                NoticeCode.EVENT_REFUSED,
                f"OpenADR: refused (optOut): {err}",
                event_id=event_id,
            )
            if before is not None:  # a change that makes a taken event unacceptable ends it
                self._cancel(ident, request_id)
            return ident, self._answer(ident, "optOut", request_id)
        for note in mapped.notes:
            self._notice("warning", NoticeCode.EVENT_CLIPPED, f"OpenADR: {note}", event_id=event_id)
        if isinstance(signal, AnnouncedOutage):
            return ident, self._answer(ident, self._hand_outage(signal), request_id)
        return ident, self._answer(ident, self._hand_event(signal), request_id)

    def _answer(self, ident: EventIdentity, opt: Opt, request_id: str) -> _Answer:
        answer = _Answer(ident.modification_number, opt, request_id)
        self._answers.pop(ident.event_id, None)
        self._answers[ident.event_id] = answer
        if len(self._answers) > MAX_ANSWERS:  # forget the oldest settled answers
            for old_id in list(self._answers)[: len(self._answers) - MAX_ANSWERS]:
                old = self._answers[old_id]
                if old.sent == old.wanted and old_id not in self.events:
                    del self._answers[old_id]
        return answer

    def _check_overlap(self, event: ProgramEvent, now: datetime) -> None:
        for taken in self.events.values():
            other = taken.event
            if other.event_id == event.event_id or other.program != event.program:
                continue
            if other.end > now and other.overlaps(event):
                raise SignalError(
                    f"event {event.event_id!r} ({event.start:%Y-%m-%d %H:%M}-{event.end:%H:%M} UTC) "
                    f"overlaps event {other.event_id!r} of the same program "
                    f"({other.start:%Y-%m-%d %H:%M}-{other.end:%H:%M} UTC)"
                )

    def _hand_outage(self, outage: AnnouncedOutage) -> Opt:
        if not self.calls.outage(outage):
            return "optOut"
        self.outages[outage.outage_id] = outage
        return "optIn"  # an acknowledgement: there is nothing to take part in

    def _hand_event(self, event: ProgramEvent) -> Opt:
        opt: Opt = "optOut"

        def answer() -> str:
            nonlocal opt
            opt = self._wanted(event.event_id)
            return f"answering {opt}"

        if self.calls.event(event, answer):
            self.events[event.event_id] = _Taken(event)
        return opt

    def _cancel(self, ident: EventIdentity, request_id: str) -> _Answer:
        event_id = ident.event_id
        known = self.events.pop(event_id, None) is not None
        known = self.outages.pop(event_id, None) is not None or known
        self._pending.pop(event_id, None)
        if known:
            self.calls.cancelled(event_id, "by the VTN")
        return self._answer(ident, "optIn", request_id)

    def _wanted(self, event_id: str) -> Opt:
        return _opt(self.calls.choice(event_id), self.config.default_choice)

    async def _send_opt(self, ident: EventIdentity, answer: _Answer) -> None:
        client = self._client
        opt = answer.wanted
        ok, _ = await self._ask(
            "oadrCreatedEvent",
            lambda: client.created_event(
                answer.request_id, ident.event_id, opt, answer.modification
            ),
        )
        if ok:
            if answer.sent is not None and answer.sent != opt:
                self._notice(
                    "info",
                    NoticeCode.OPT_SENT,
                    f"OpenADR: told the VTN {opt} for {ident.event_id!r}",
                    event_id=ident.event_id,
                )
            answer.sent = opt

    async def _resend_answers(self) -> None:
        """Answers the VTN has not taken yet, and the household's changed choices."""
        now = self.clock.now()
        for event_id, answer in list(self._answers.items()):
            taken = self.events.get(event_id)
            if taken is not None and taken.event.end > now:
                answer.wanted = self._wanted(event_id)
            elif taken is not None:
                continue  # over: the answer can no longer change anything
            if answer.sent != answer.wanted:
                ident = EventIdentity(event_id, answer.modification, "far", True)
                await self._send_opt(ident, answer)

    # --------------------------------------------------------------- delivery

    def record_grid_power(self, at: datetime, grid_kw: float, baseline_kw: float = 0.0) -> None:
        """Take the measured grid power (positive for import) [kW] and the program's baseline at
        that time [kW] (0 for export events); the controller calls it every tick."""
        why = self._meter.add(at, grid_kw, baseline_kw)
        if why is not None:
            if not self._sample_refused:
                self._notice("warning", NoticeCode.TELEMETRY, f"OpenADR: {why}; sample ignored")
            self._sample_refused = True
            return
        self._sample_refused = False
        self._last_delivered_kw = baseline_kw - grid_kw

    def _close_ended(self) -> None:
        now = self.clock.now()
        for event_id, taken in self.events.items():
            event = taken.event
            if taken.closed or event.end > now:
                continue
            taken.closed = True
            answer = self._answers.get(event_id)
            if answer is None or answer.sent != "optIn":
                continue
            delivery = close_delivery(self._meter, event, self._notice, "OpenADR: ")
            self.delivered[event_id] = delivery
            self._pending[event_id] = (event, delivery)
        forget_over(self.events, self._pending, self.outages, self._meter, now)

    async def _send_reports(self) -> None:
        client = self._client
        while not client.pending_reports.empty():  # a one-off reading the VTN asked openleadr for
            report = client.pending_reports.get_nowait()
            await self._send_report(report)
        if not self._pending:
            return
        request = find_report_request(client)
        if request is None:
            for event_id, (_, delivery) in self._pending.items():
                if event_id not in self._held_noted:
                    self._held_noted.add(event_id)
                    self._notice(
                        "warning",
                        NoticeCode.REPORT_HELD,
                        f"OpenADR: the VTN has not asked for the delivery report; event "
                        f"{event_id!r} ({delivery.energy_kwh:.3f} kWh) is held until it does",
                        event_id=event_id,
                    )
            return
        for event_id, (event, delivery) in list(self._pending.items()):
            report = delivery_report(event, delivery, request, self.clock.now())
            if await self._send_report(report):
                del self._pending[event_id]
                self.events.pop(event_id, None)  # done with: reported
                self._notice(
                    "info",
                    NoticeCode.REPORT_SENT,
                    f"OpenADR: reported {delivery.energy_kwh:.3f} kWh delivered in event {event_id!r}",
                    event_id=event_id,
                    energy_kwh=delivery.energy_kwh,
                )

    async def _send_report(self, report: Any) -> bool:
        client = self._client
        message = update_report_message(client, report)
        ok, result = await self._ask(
            "oadrUpdateReport", lambda: client._perform_request("EiReport", message)
        )
        return ok and isinstance(result, tuple) and result[0] == "oadrUpdatedReport"
