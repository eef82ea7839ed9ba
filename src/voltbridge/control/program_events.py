"""The paid grid events a home knows of, with the household's answer to each.

Every signal path (an OpenADR VTN, the API, the simulator) offers its events here. The book
refuses what cannot be taken (an event already over, one overlapping another event of the same
program) with an event in the log, keeps a re-sent event's newest version, and hands the plan the
events the household takes part in: those it said yes to, and the undecided ones when its
default is to take part. Any change asks for a re-plan. The book never raises into the loop:
every refusal is an event in the log and a ``False`` to the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from voltbridge.control.events import EventLog
from voltbridge.core.status import EventCode, EventKind
from voltbridge.programs.events import Choice, EventError, ProgramEvent

__all__ = ["KEEP_PAST", "EventBook", "EventError", "EventMeter", "ProgramEvent"]
"""``EventError`` and ``ProgramEvent`` are re-exported for the API (which may import control,
not programs)."""

KEEP_PAST = timedelta(days=31)
"""Events that ended are kept this long (for the event list and the month's income)."""


@dataclass
class EventMeter:
    """What the grid meter measured in one event's window.

    Attributes:
        import_kwh: energy drawn from the grid in the window [kWh].
        export_kwh: energy sent to the grid in the window [kWh].
        measured_h: hours of the window with a grid reading [h] (a meter that fails leaves a
            gap, never a zero).
        reported: whether the event's end has been said in the log.
    """

    import_kwh: float = 0.0
    export_kwh: float = 0.0
    measured_h: float = 0.0
    reported: bool = False


class EventBook:
    """Known events by id (see the module docstring).

    ``default_choice`` answers undecided events (``take_part``: the household joins every event
    unless it skips one; ``skip``: only events it said yes to). ``max_export_kw``: what the
    home can deliver at most (chargers and battery together) [kW]; an event asking more is
    taken, and the log says the home delivers at most that.
    """

    def __init__(
        self,
        log: EventLog,
        default_choice: Choice = "take_part",
        max_export_kw: float | None = None,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        if default_choice == "undecided":
            raise ValueError("default_choice must be take_part or skip")
        self.log, self.default_choice, self.max_export_kw = log, default_choice, max_export_kw
        self.on_change = on_change
        self._events: dict[str, ProgramEvent] = {}
        self.meters: dict[str, EventMeter] = {}
        """Per event id, the grid energy measured in its window (see ``note_grid``)."""
        self._last: tuple[datetime, float | None] | None = None
        self.grid_listeners: list[Callable[[datetime, float], None]] = []
        """Called with every fresh grid reading (time, kW import +): a VEN's delivery meter."""
        self.programs: dict[str, Choice] | None = None
        """The site's programs with each one's default answer (``configure``); None: any."""
        self.last_refusal: str | None = None
        """Why the last refused event was refused (for an API answer)."""

    def configure(self, defaults: dict[str, Choice]) -> None:
        """Take part only in the site's programs (``[[programs]]`` ids), each answering its
        undecided events with its own default (``take_part`` or ``skip``)."""
        bad = {k: v for k, v in defaults.items() if v == "undecided"}
        if bad:
            raise ValueError(f"default answers must be take_part or skip, not for {sorted(bad)}")
        self.programs = dict(defaults)

    def offer(self, event: ProgramEvent, now: datetime | None = None) -> bool:
        """Take ``event`` (new, or a newer version of a known one); False when refused.
        ``now`` defaults to the log's clock."""
        now = self.log.clock.now() if now is None else now
        if event.end <= now:
            self._refuse(event, f"it ended at {event.end.isoformat()}, before it arrived")
            return False
        if self.programs is not None and event.program not in self.programs:
            names = ", ".join(sorted(self.programs)) or "none"
            self._refuse(
                event, f"this home takes part in no program {event.program!r} (known: {names})"
            )
            return False
        clash = next(
            (
                e
                for e in self._events.values()
                if e.program == event.program and e.event_id != event.event_id and e.overlaps(event)
            ),
            None,
        )
        if clash is not None:
            self._refuse(event, f"it overlaps event {clash.event_id!r} of the same program")
            return False
        known = self._events.get(event.event_id)
        if known is not None and known.choice != "undecided" and event.choice == "undecided":
            event = replace(event, choice=known.choice)  # a re-sent event keeps the answer
        if known == event:
            return True
        self._events[event.event_id] = event
        words = "updated" if known is not None else "received"
        self.log.emit(
            EventKind.PROGRAM,
            EventCode.PROGRAM_EVENT,
            f"grid event {event.event_id!r} ({event.program}) {words}: {event.kind} "
            f"{_window(event)}, {event.payment_per_kwh:g} per kWh"
            + (f", {event.requested_kw:g} kW asked" if event.requested_kw else ""),
            data=_data(event, words),
        )
        cap = self.max_export_kw
        if cap is not None and event.requested_kw > cap + 1e-9:
            self.log.emit(
                EventKind.WARNING,
                EventCode.PROGRAM_EVENT,
                f"grid event {event.event_id!r} asks {event.requested_kw:g} kW; this home can "
                f"deliver at most {cap:g} kW",
                data=_data(event, "over capacity"),
            )
        self._changed(f"grid event {event.event_id} {words}")
        return True

    def choose(self, event_id: str, choice: Choice, source: str) -> ProgramEvent:
        """Record the household's answer; raises KeyError for an unknown event."""
        event = self._events[event_id]
        if event.choice == choice:
            return event
        self._events[event_id] = event = replace(event, choice=choice)
        self.log.emit(
            EventKind.PROGRAM,
            EventCode.PROGRAM_EVENT,
            f"grid event {event_id!r}: {_CHOICE_WORDS[choice]} ({source})",
            data=_data(event, "choice") | {"source": source},
        )
        self._changed(f"grid event {event_id} {choice}")
        return event

    def cancel(self, event_id: str, source: str) -> bool:
        """Drop an event the sender withdrew; False when it was not known."""
        event = self._events.pop(event_id, None)
        if event is None:
            return False
        self.log.emit(
            EventKind.PROGRAM,
            EventCode.PROGRAM_EVENT,
            f"grid event {event_id!r} cancelled ({source})",
            data=_data(event, "cancelled") | {"source": source},
        )
        self._changed(f"grid event {event_id} cancelled")
        return True

    def get(self, event_id: str) -> ProgramEvent | None:
        return self._events.get(event_id)

    def choice(self, event_id: str) -> Choice:
        """The household's answer to one event, ``undecided`` when unknown."""
        event = self._events.get(event_id)
        return "undecided" if event is None else event.choice

    def taking_part(self, event: ProgramEvent) -> bool:
        """Whether the household takes part (its answer, else its program's default, else the
        book's)."""
        if event.choice != "undecided":
            return event.choice == "take_part"
        default = (self.programs or {}).get(event.program, self.default_choice)
        return default == "take_part"

    def all(self, now: datetime) -> list[ProgramEvent]:
        """Known events by start, those that ended more than ``KEEP_PAST`` ago dropped."""
        for gone in [k for k, e in self._events.items() if e.end < now - KEEP_PAST]:
            del self._events[gone]
            self.meters.pop(gone, None)
        return sorted(self._events.values(), key=lambda e: (e.start, e.event_id))

    def for_plan(self, now: datetime) -> tuple[ProgramEvent, ...]:
        """The events the plan counts on: not over, and taken part in."""
        return tuple(e for e in self.all(now) if e.end > now and self.taking_part(e))

    def note_grid(self, now: datetime, grid_kw: float | None) -> None:
        """Meter the events' windows: the grid power read at the last call held until ``now``
        [kW, + import] (None: no reading, a gap); an event whose window has ended is said in the
        log with what was measured, once."""
        last, self._last = (
            self._last,
            (now, grid_kw if grid_kw is None or math.isfinite(grid_kw) else None),
        )
        fresh = self._last[1]
        if fresh is not None:
            for listener in self.grid_listeners:
                try:
                    listener(now, fresh)
                except Exception as err:  # a listener's trouble is said, never the tick's
                    self.log.emit(
                        EventKind.WARNING,
                        EventCode.PROGRAM_EVENT,
                        f"grid reading not taken by {getattr(listener, '__qualname__', listener)}: "
                        f"{type(err).__name__}: {err}",
                    )
        if not self._events:
            return
        if last is not None and now > last[0]:
            t0, kw = last
            for event in self._events.values():
                start, end = max(t0, event.start), min(now, event.end)
                if end <= start:
                    continue
                meter = self.meters.setdefault(event.event_id, EventMeter())
                if kw is None:
                    continue
                hours = (end - start).total_seconds() / 3600.0
                meter.measured_h += hours
                if kw >= 0:
                    meter.import_kwh += kw * hours
                else:
                    meter.export_kwh -= kw * hours
        for event in self._events.values():
            if event.end > now:
                continue
            meter = self.meters.setdefault(event.event_id, EventMeter())
            if meter.reported:
                continue
            meter.reported = True
            share = meter.measured_h / event.hours
            self.log.emit(
                EventKind.PROGRAM,
                EventCode.PROGRAM_EVENT,
                f"grid event {event.event_id!r} over: {meter.import_kwh:.2f} kWh drawn, "
                f"{meter.export_kwh:.2f} kWh sent to the grid in the window"
                + ("" if share >= 0.999 else f" ({100 * share:.0f} % of it metered)"),
                data=_data(event, "over")
                | {
                    "import_kwh": meter.import_kwh,
                    "export_kwh": meter.export_kwh,
                    "metered_share": share,
                    "taking_part": self.taking_part(event),
                },
            )

    def _refuse(self, event: ProgramEvent, why: str) -> None:
        self.last_refusal = f"grid event {event.event_id!r} refused: {why}"
        self.log.emit(
            EventKind.WARNING,
            EventCode.PROGRAM_EVENT,
            f"grid event {event.event_id!r} ({event.program}) refused: {why}",
            data=_data(event, "refused") | {"why": why},
        )

    def _changed(self, why: str) -> None:
        if self.on_change is not None:
            self.on_change(why)


_CHOICE_WORDS = {"take_part": "taking part", "skip": "skipping it", "undecided": "undecided"}


def _window(event: ProgramEvent) -> str:
    return f"{event.start.isoformat()} to {event.end.isoformat()}"


def _data(event: ProgramEvent, what: str) -> dict[str, object]:
    return {
        "what": what,
        "event_id": event.event_id,
        "program": event.program,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "event_kind": event.kind,
        "requested_kw": event.requested_kw,
        "payment_per_kwh": event.payment_per_kwh,
        "source": event.source,
        "choice": event.choice,
    }
