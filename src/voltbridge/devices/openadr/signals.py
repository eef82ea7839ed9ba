"""OpenADR 2.0b events, as openleadr parses them, turned into voltbridge's grid signals.

Pure functions: no I/O, no clock (``now`` is passed in). The mapping, one row per accepted signal
(``signalName`` / ``signalType``), payloads taken over all of the signal's intervals:

=====================================  =======================  =============================
signal                                 payload                  becomes
=====================================  =======================  =============================
``LOAD_DISPATCH`` / ``setpoint``       grid setpoint [kW] < 0   ``export``, ``-min(payload)``
``LOAD_DISPATCH`` / ``delta``          load change [kW] < 0     ``reduce``, ``-min(payload)``
``LOAD_DISPATCH`` or ``LOAD_CONTROL``  share of consumption     ``reduce``,
/ ``x-loadControlCapacity``            capacity, 0..1           ``(1 - min) * charger limit``
``SIMPLE`` / ``level``                 level 0..3, some > 0     config ``simple_kind``, 0 kW
``ELECTRICITY_PRICE`` or               [currency/kWh] >= 0      ``payment_per_kwh`` = min
``ENERGY_PRICE`` / ``price``
``x-outage`` / any                     ignored                  an announced outage
=====================================  =======================  =============================

Signs follow voltbridge's convention (positive into the home), so a setpoint below zero asks for
export and a negative delta for less load; requests the other way (an import setpoint, more load)
are refused. ``0 kW`` means "as much as you can". A dispatch signal sets the kind; a price-only
event asks for the config's ``simple_kind``. The largest request over the intervals is taken (the
peak asked) and the lowest price (what every hour of the window pays at least); without a price
signal the program's configured payment applies. An event under the configured outage market
context, or with an ``x-outage`` signal, is an announced outage whatever else it carries. Any other
signal makes the whole event refused: voltbridge does not act on what it does not understand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from voltbridge.programs.events import AnnouncedOutage, EventError, ProgramEvent, ProgramEventKind

DISPATCH_NAMES = ("LOAD_DISPATCH", "LOAD_CONTROL")
LEVEL_NAMES = ("SIMPLE", "simple")
PRICE_NAMES = ("ELECTRICITY_PRICE", "ENERGY_PRICE")
OUTAGE_SIGNAL = "x-outage"
MAX_SIMPLE_LEVEL = 3


class SignalError(ValueError):
    """An event voltbridge refuses (opts out of); the message says which field and why."""


@dataclass(frozen=True)
class MappingRules:
    """What the mapping needs from the configuration.

    Attributes:
        program: the ``[[programs]]`` id the events pay under.
        payment_per_kwh: payment for events without a price signal [currency/kWh].
        simple_kind: the kind a ``SIMPLE`` level or price-only event asks for.
        charger_limit_kw: the most the charger can deliver [kW]; larger requests are clipped.
        outage_market_context: the market context whose events are announced outages.
    """

    program: str
    payment_per_kwh: float
    simple_kind: ProgramEventKind
    charger_limit_kw: float
    outage_market_context: str | None = None


@dataclass(frozen=True)
class EventIdentity:
    """Who an event is, read before anything else so that even a refused event gets an answer.

    Attributes:
        event_id: the VTN's eventID.
        modification_number: bumped by the VTN at every change of the event.
        status: ``far``, ``near``, ``active``, ``completed`` or ``cancelled``.
        response_required: whether the VTN wants optIn/optOut back.
    """

    event_id: str
    modification_number: int
    status: str
    response_required: bool


@dataclass(frozen=True)
class Mapped:
    """An accepted event: the signal and what was changed on the way (clipping), in words."""

    signal: ProgramEvent | AnnouncedOutage
    notes: tuple[str, ...] = ()


def identify(raw: Mapping[str, Any]) -> EventIdentity:
    """The event's id, modification number, status and whether it wants an answer."""
    descriptor = raw.get("event_descriptor")
    if not isinstance(descriptor, Mapping):
        raise SignalError("event has no eventDescriptor")
    event_id = descriptor.get("event_id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise SignalError("event has no eventID")
    try:
        modification = int(descriptor.get("modification_number", 0))
    except (TypeError, ValueError) as err:
        raise SignalError(f"event {event_id!r}: modificationNumber is not a number") from err
    status = str(descriptor.get("event_status") or "far")
    required = str(raw.get("response_required") or "always") == "always"
    return EventIdentity(event_id, modification, status, required)


def _window(raw: Mapping[str, Any], event_id: str) -> tuple[datetime, datetime]:
    period = raw.get("active_period")
    if not isinstance(period, Mapping):
        raise SignalError(f"event {event_id!r}: no activePeriod")
    start, duration = period.get("dtstart"), period.get("duration")
    if not isinstance(start, datetime):
        raise SignalError(f"event {event_id!r}: activePeriod has no dtstart")
    if start.tzinfo is None:
        raise SignalError(f"event {event_id!r}: dtstart {start} has no timezone")
    if not isinstance(duration, timedelta):
        raise SignalError(f"event {event_id!r}: activePeriod has no duration")
    if duration <= timedelta(0):
        raise SignalError(
            f"event {event_id!r}: duration {duration} leaves the end at or before the start "
            "(open-ended events are not taken)"
        )
    return start, start + duration


def _payloads(signal: Mapping[str, Any], event_id: str, name: str) -> list[float]:
    intervals = signal.get("intervals")
    if not isinstance(intervals, Sequence) or isinstance(intervals, str) or not intervals:
        raise SignalError(f"event {event_id!r}: signal {name} has no intervals")
    values: list[float] = []
    for interval in intervals:
        value = interval.get("signal_payload") if isinstance(interval, Mapping) else None
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as err:
            raise SignalError(
                f"event {event_id!r}: signal {name} has an interval without a numeric payload"
            ) from err
        if not math.isfinite(number):
            raise SignalError(f"event {event_id!r}: signal {name} payload {number} is not finite")
        values.append(number)
    return values


def _dispatch(
    kind_type: str, values: list[float], rules: MappingRules, where: str
) -> tuple[ProgramEventKind, float]:
    """Kind and requested power [kW] of one dispatch signal (see the module table)."""
    if kind_type == "setpoint":
        if max(values) >= 0.0:
            raise SignalError(
                f"{where}: setpoint {max(values)} kW >= 0 caps import; voltbridge takes export "
                "setpoints (< 0 kW, power out of the home) only"
            )
        return "export", -min(values)
    if kind_type == "delta":
        if max(values) >= 0.0:
            raise SignalError(
                f"{where}: delta {max(values)} kW >= 0 asks for more load or none; voltbridge "
                "takes load reductions (< 0 kW) only"
            )
        return "reduce", -min(values)
    if kind_type == "x-loadControlCapacity":
        if min(values) < 0.0 or max(values) > 1.0:
            raise SignalError(f"{where}: capacity share {values} is outside 0..1")
        return "reduce", (1.0 - min(values)) * rules.charger_limit_kw
    raise SignalError(f"{where}: signal type {kind_type!r} is not one voltbridge acts on")


def map_event(raw: Mapping[str, Any], rules: MappingRules, now: datetime) -> Mapped:
    """Turn one openleadr event dict into a ProgramEvent or an AnnouncedOutage.

    Raises SignalError for an event voltbridge refuses: missing fields, an unknown signal, an
    end at or before the start, an event already over at ``now``, a negative price.
    """
    ident = identify(raw)
    event_id = ident.event_id
    start, end = _window(raw, event_id)
    if end <= now:
        raise SignalError(f"event {event_id!r}: ended at {end.isoformat()}, before it arrived")
    descriptor = raw["event_descriptor"]
    created = descriptor.get("created_date_time")
    announced = created if isinstance(created, datetime) and created.tzinfo else None
    signals = raw.get("event_signals")
    if isinstance(signals, Mapping):  # openleadr nests a lone signal list one level deeper
        signals = signals.get("event_signals")
    if not isinstance(signals, Sequence) or isinstance(signals, str) or not signals:
        raise SignalError(f"event {event_id!r}: no eventSignals")
    names = [str(s.get("signal_name")) if isinstance(s, Mapping) else "?" for s in signals]
    context = descriptor.get("market_context")
    outage_context = (
        rules.outage_market_context is not None and context == rules.outage_market_context
    )
    if outage_context or OUTAGE_SIGNAL in names:
        try:
            outage = AnnouncedOutage(event_id, start, end, "openadr2", announced or now)
        except EventError as err:
            raise SignalError(str(err)) from err
        return Mapped(outage)

    kind: ProgramEventKind | None = None
    requested_kw = 0.0
    prices: list[float] = []
    for signal, name in zip(signals, names, strict=True):
        if not isinstance(signal, Mapping):
            raise SignalError(f"event {event_id!r}: a signal is not a structure")
        signal_type = str(signal.get("signal_type"))
        where = f"event {event_id!r} signal {name}/{signal_type}"
        values = _payloads(signal, event_id, name)
        if name in DISPATCH_NAMES:
            if kind is not None:
                raise SignalError(f"event {event_id!r}: more than one dispatch signal")
            kind, requested_kw = _dispatch(signal_type, values, rules, where)
        elif name in LEVEL_NAMES and signal_type == "level":
            if min(values) < 0 or max(values) > MAX_SIMPLE_LEVEL:
                raise SignalError(f"{where}: level {values} is outside 0..{MAX_SIMPLE_LEVEL}")
            if max(values) == 0:
                raise SignalError(f"{where}: level 0 throughout asks for nothing")
        elif name in PRICE_NAMES and signal_type == "price":
            if min(values) < 0:
                raise SignalError(f"{where}: negative price {min(values)} is not a payment")
            prices.extend(values)
        else:
            raise SignalError(f"{where}: a signal voltbridge does not understand")
    notes: list[str] = []
    if kind is None:
        kind = rules.simple_kind
    if requested_kw > rules.charger_limit_kw:
        notes.append(
            f"event {event_id!r} asks {requested_kw:g} kW, more than the charger's "
            f"{rules.charger_limit_kw:g} kW: clipped to {rules.charger_limit_kw:g} kW"
        )
        requested_kw = rules.charger_limit_kw
    payment = min(prices) if prices else rules.payment_per_kwh
    try:
        event = ProgramEvent(
            event_id=event_id,
            program=rules.program,
            start=start,
            end=end,
            kind=kind,
            requested_kw=requested_kw,
            payment_per_kwh=payment,
            source="openadr2",
            choice="undecided",
            received_at=now,
        )
    except EventError as err:
        raise SignalError(str(err)) from err
    return Mapped(event, tuple(notes))
