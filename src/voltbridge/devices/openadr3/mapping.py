"""OpenADR 3 events (the VTN's JSON ``event`` objects) turned into voltbridge's grid signals.

Pure functions: no I/O, no clock (``now`` is passed in). The mapping, one row per accepted
interval payload type (``valuesMap.type``), values taken over all of the event's intervals:

===============================  ==========================  ==================================
payload type                     values                      becomes
===============================  ==========================  ==================================
``DISPATCH_SETPOINT``            site consumption [kW] < 0   ``export``, ``-min(values)``
``DISPATCH_SETPOINT_RELATIVE``   consumption change [kW] <0  ``reduce``, ``-min(values)``
``EXPORT_CAPACITY_LIMIT``        export allowed [kW] > 0     ``export``, ``max(values)``
``IMPORT_CAPACITY_LIMIT``        import allowed [kW] >= 0    ``reduce``, 0 kW (as much as it can)
``SIMPLE``                       level 0..3, some > 0        config ``simple_kind``, 0 kW
``EXPORT_PRICE`` / ``PRICE``     [currency/kWh] >= 0         ``payment_per_kwh`` = min(values)
``ALERT_POSSIBLE_OUTAGE``        text (ignored)              an announced outage
===============================  ==========================  ==================================

Signs follow OpenADR 3 and voltbridge (consumption positive), so a dispatch setpoint below zero
asks for export and a negative relative setpoint for less load; requests the other way (more
load) are refused. ``0 kW`` means "as much as you can". An export capacity limit is read as the
export the VTN pays for, up to that limit; an import capacity limit carries no size voltbridge can
commit to, so it becomes a reduce event without a figure. A price-only or ``SIMPLE`` event asks
for the config's ``simple_kind``. ``EXPORT_PRICE`` is the payment when both prices are present.
Units come from the event's ``payloadDescriptors`` (else the program's): power in ``KW`` (the
default), ``W`` or ``MW``; prices per ``KWH`` (the default) or ``MWH``, in the configured
currency. ``ALERT_POSSIBLE_OUTAGE`` (the spec's own alert for, e.g., a Public Safety Power
Shutoff) makes the event an announced outage whatever else it carries; an outage without an end
(``P9999Y``) is held for :data:`~voltbridge.programs.events.MAX_OUTAGE`. Any other payload type
makes the whole event refused: voltbridge does not act on what it does not understand.

Timing follows the User Guide (7.3): the event's ``intervalPeriod`` gives the first interval's
start and every interval's default duration; an interval without a start follows the previous
one; ``0001-01-01`` means "now"; ``P9999Y`` means no end; ``randomizeStart`` is not applied (the
nominal start is kept). A window of zero length is how a VTN withdraws an event without deleting
it (7.9): it raises :class:`EventWithdrawn`. An event that has ended is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from voltbridge.programs.events import (
    MAX_OUTAGE,
    AnnouncedOutage,
    EventError,
    ProgramEvent,
    ProgramEventKind,
)

OUTAGE_TYPE = "ALERT_POSSIBLE_OUTAGE"
SIMPLE = "SIMPLE"
PRICE_TYPES = ("EXPORT_PRICE", "PRICE")
KIND_TYPES: dict[str, ProgramEventKind] = {
    "DISPATCH_SETPOINT": "export",
    "DISPATCH_SETPOINT_RELATIVE": "reduce",
    "EXPORT_CAPACITY_LIMIT": "export",
    "IMPORT_CAPACITY_LIMIT": "reduce",
}
KNOWN_TYPES = (*KIND_TYPES, SIMPLE, *PRICE_TYPES, OUTAGE_TYPE)
POWER_UNITS_KW = {"KW": 1.0, "W": 0.001, "MW": 1000.0}
"""kW per unit of a power payload."""
PRICE_UNITS_KWH = {"KWH": 1.0, "MWH": 0.001}
"""Factor from a price per unit of energy to a price per kWh."""
BEGINNING_OF_TIME = date(1, 1, 1)
INFINITE_YEARS = 9999
MAX_SIMPLE_LEVEL = 3

_DURATION = re.compile(
    r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
"""ISO 8601 durations, as the OpenAPI description's ``duration`` pattern allows them."""


class SignalError(ValueError):
    """An event voltbridge refuses; the message says which field and why."""


class EventWithdrawn(SignalError):
    """The VTN withdrew the event by giving it a window of no length (User Guide 7.9)."""


@dataclass(frozen=True)
class MappingRules:
    """What the mapping needs from the configuration.

    Attributes:
        program: the ``[[programs]]`` id the events pay under.
        payment_per_kwh: payment for events without a price [currency/kWh].
        currency: the program's currency; None takes any.
        simple_kind: the kind a ``SIMPLE`` level or price-only event asks for.
        charger_limit_kw: the most the charger can deliver [kW]; larger requests are clipped.
    """

    program: str
    payment_per_kwh: float
    currency: str | None
    simple_kind: ProgramEventKind
    charger_limit_kw: float


@dataclass(frozen=True)
class Mapped:
    """An accepted event: the signal and what was changed on the way (clipping), in words."""

    signal: ProgramEvent | AnnouncedOutage
    notes: tuple[str, ...] = ()


def parse_duration(text: object) -> timedelta | None:
    """An ISO 8601 duration; None for ``P9999Y`` (no end). Months are refused (ambiguous).

    >>> parse_duration("PT2H30M"), parse_duration("P1W"), parse_duration("P9999Y")
    (datetime.timedelta(seconds=9000), datetime.timedelta(days=7), None)
    """
    if not isinstance(text, str):
        raise SignalError(f"duration {text!r} is not a string")
    match = _DURATION.match(text)
    if match is None:
        raise SignalError(f"duration {text!r} is not ISO 8601")
    neg, years, months, days, unit, hours, minutes, seconds = match.groups()
    if neg:
        raise SignalError(f"duration {text!r} is negative")
    if years is not None:
        if int(years) >= INFINITE_YEARS:
            return None
        raise SignalError(f"duration {text!r} counts years; give days (only P9999Y is 'no end')")
    if months is not None:
        raise SignalError(f"duration {text!r} counts months, which have no fixed length")
    day_count = int(days or 0) * (7 if unit == "W" else 1)
    return timedelta(
        days=day_count,
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )


def parse_start(text: object, now: datetime) -> datetime | None:
    """An RFC 3339 time (timezone required); None for ``0001-01-01`` ("now", see the module)."""
    if not isinstance(text, str):
        raise SignalError(f"start {text!r} is not a string")
    try:
        at = datetime.fromisoformat(text)
    except ValueError as err:
        raise SignalError(f"start {text!r} is not an RFC 3339 time") from err
    if at.date() == BEGINNING_OF_TIME:
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        raise SignalError(f"start {text!r} has no timezone")
    return at


def _period(raw: object, where: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SignalError(f"{where}.intervalPeriod is not an object")
    return raw


def window(event: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime | None]:
    """The event's first start and last end (None: no end), from its intervals."""
    default = _period(event.get("intervalPeriod"), "event")
    intervals = event.get("intervals")
    if not isinstance(intervals, list) or not intervals:
        raise SignalError("event has no intervals")
    default_start = parse_start(default["start"], now) if "start" in default else None
    default_dur = parse_duration(default["duration"]) if "duration" in default else None
    has_default_dur = "duration" in default
    cursor: datetime | None = None
    first: datetime | None = None
    last: datetime | None = None
    open_ended = False
    for index, interval in enumerate(intervals):
        if not isinstance(interval, Mapping):
            raise SignalError(f"interval {index} is not an object")
        own = _period(interval.get("intervalPeriod"), f"interval {index}")
        own_start = parse_start(own["start"], now) if "start" in own else None
        if own_start is not None:
            start = own_start
        elif index == 0:
            start = default_start if default_start is not None else now
        elif cursor is not None:
            start = cursor
        else:
            raise SignalError(f"interval {index} follows an interval that has no end")
        if "duration" in own:
            duration = parse_duration(own["duration"])
        elif has_default_dur:
            duration = default_dur
        else:
            raise SignalError(f"interval {index} has no duration (and the event gives none)")
        first = start if first is None else min(first, start)
        if duration is None:
            open_ended, cursor = True, None
        else:
            cursor = start + duration
            last = cursor if last is None else max(last, cursor)
    assert first is not None
    return first, None if open_ended else last


def _descriptors(*sources: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """payloadType -> descriptor; earlier sources (the event) win over later (the program)."""
    found: dict[str, Mapping[str, Any]] = {}
    for source in reversed([s for s in sources if s is not None]):
        for item in source.get("payloadDescriptors") or []:
            if isinstance(item, Mapping) and isinstance(item.get("payloadType"), str):
                found[item["payloadType"]] = item
    return found


def _numbers(kind: str, values: Sequence[object]) -> list[float]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SignalError(f"{kind} value {value!r} is not a number")
        if not math.isfinite(value):
            raise SignalError(f"{kind} value {value!r} is not finite")
        out.append(float(value))
    return out


def _payloads(event: Mapping[str, Any]) -> dict[str, list[object]]:
    """Values of every payload type over all intervals."""
    found: dict[str, list[object]] = {}
    for index, interval in enumerate(event.get("intervals") or []):
        payloads = interval.get("payloads") if isinstance(interval, Mapping) else None
        if not isinstance(payloads, list):
            raise SignalError(f"interval {index} has no payloads list")
        for item in payloads:
            kind = item.get("type") if isinstance(item, Mapping) else None
            values = item.get("values") if isinstance(item, Mapping) else None
            if not isinstance(kind, str) or not isinstance(values, list) or not values:
                raise SignalError(f"interval {index} has a payload without type or values")
            found.setdefault(kind, []).extend(values)
    return found


def _unit(descriptor: Mapping[str, Any] | None, table: Mapping[str, float], kind: str) -> float:
    units = (descriptor or {}).get("units")
    if units is None:
        return 1.0
    factor = table.get(str(units).upper())
    if factor is None:
        raise SignalError(f"{kind} is given in {units!r}; voltbridge takes {sorted(table)}")
    return factor


def _price(
    payloads: Mapping[str, list[object]],
    descriptors: Mapping[str, Mapping[str, Any]],
    rules: MappingRules,
) -> float:
    for kind in PRICE_TYPES:
        if kind not in payloads:
            continue
        descriptor = descriptors.get(kind)
        currency = (descriptor or {}).get("currency")
        if rules.currency is not None and currency is not None and currency != rules.currency:
            raise SignalError(f"{kind} is in {currency}, the program pays in {rules.currency}")
        prices = _numbers(kind, payloads[kind])
        if min(prices) < 0:
            raise SignalError(f"{kind} {min(prices):g} is below zero: a charge, not a payment")
        return min(prices) * _unit(descriptor, PRICE_UNITS_KWH, kind)
    return rules.payment_per_kwh


def _request(
    payloads: Mapping[str, list[object]],
    descriptors: Mapping[str, Mapping[str, Any]],
    rules: MappingRules,
) -> tuple[ProgramEventKind, float]:
    """The kind and size [kW] the event asks for (0: as much as the home can)."""
    asks: list[tuple[str, ProgramEventKind, float]] = []
    for kind, event_kind in KIND_TYPES.items():
        if kind not in payloads:
            continue
        values = [
            v * _unit(descriptors.get(kind), POWER_UNITS_KW, kind)
            for v in _numbers(kind, payloads[kind])
        ]
        if kind in ("DISPATCH_SETPOINT", "DISPATCH_SETPOINT_RELATIVE"):
            if max(values) > 0:
                raise SignalError(f"{kind} {max(values):g} kW asks for more load, not less")
            kw = -min(values)
        elif kind == "EXPORT_CAPACITY_LIMIT":
            if min(values) < 0:
                raise SignalError(f"{kind} {min(values):g} kW is below zero")
            kw = max(values)
        else:
            if min(values) < 0:
                raise SignalError(f"{kind} {min(values):g} kW is below zero")
            kw = 0.0
        asks.append((kind, event_kind, kw))
    if {k for _, k, _ in asks} == {"export", "reduce"}:
        raise SignalError(f"asks for both export and reduce ({', '.join(n for n, _, _ in asks)})")
    if asks:
        return asks[0][1], max(kw for _, _, kw in asks)
    if SIMPLE in payloads:
        levels = _numbers(SIMPLE, payloads[SIMPLE])
        if any(lv != int(lv) or not 0 <= lv <= MAX_SIMPLE_LEVEL for lv in levels):
            raise SignalError(f"SIMPLE levels {levels} are not all 0..{MAX_SIMPLE_LEVEL}")
        if max(levels) == 0:
            raise SignalError("SIMPLE level is 0 throughout: it asks for nothing")
    return rules.simple_kind, 0.0


def map_event(
    event: Mapping[str, Any],
    rules: MappingRules,
    now: datetime,
    program: Mapping[str, Any] | None = None,
) -> Mapped:
    """One VTN event as a paid event or an announced outage (see the module docstring).

    Raises:
        EventWithdrawn: the event's window has no length.
        SignalError: the event is malformed, over, or asks for what voltbridge does not do.
    """
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise SignalError("event has no id")
    try:
        return _map(event_id, event, rules, now, program)
    except EventError as err:
        raise SignalError(str(err)) from err
    except SignalError as err:
        if isinstance(err, EventWithdrawn):
            raise
        raise SignalError(f"event {event_id!r}: {err}") from err


def _map(
    event_id: str,
    event: Mapping[str, Any],
    rules: MappingRules,
    now: datetime,
    program: Mapping[str, Any] | None,
) -> Mapped:
    start, end = window(event, now)
    if end is not None and end <= start:
        raise EventWithdrawn(f"event {event_id!r}: its window has no length (withdrawn)")
    if end is not None and end <= now:
        raise SignalError(f"ended at {end.isoformat()}, before it was received")
    payloads = _payloads(event)
    unknown = sorted(set(payloads) - set(KNOWN_TYPES))
    if unknown:
        raise SignalError(f"payload types {unknown} are not ones voltbridge acts on")
    notes: list[str] = []
    if OUTAGE_TYPE in payloads:
        if end is None or end - start > MAX_OUTAGE:
            end = start + MAX_OUTAGE
            notes.append(f"outage {event_id!r} has no end or a longer one: held for {MAX_OUTAGE}")
        return Mapped(AnnouncedOutage(event_id, start, end, "openadr3", now), tuple(notes))
    if end is None:
        raise SignalError("has no end (P9999Y); a paid event needs a window")
    descriptors = _descriptors(event, program)
    kind, kw = _request(payloads, descriptors, rules)
    if kw > rules.charger_limit_kw:
        notes.append(
            f"event {event_id!r} asks {kw:g} kW, more than the charger's "
            f"{rules.charger_limit_kw:g} kW; taken as {rules.charger_limit_kw:g} kW"
        )
        kw = rules.charger_limit_kw
    payment = _price(payloads, descriptors, rules)
    signal = ProgramEvent(
        event_id=event_id,
        program=rules.program,
        start=start,
        end=end,
        kind=kind,
        requested_kw=kw,
        payment_per_kwh=payment,
        source="openadr3",
        received_at=now,
    )
    return Mapped(signal, tuple(notes))
