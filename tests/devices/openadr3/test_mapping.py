"""The OpenADR 3 event mapping, on hand-written event objects (no VTN, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from voltbridge.devices.openadr3 import (
    EventWithdrawn,
    MappingRules,
    SignalError,
    map_event,
    parse_duration,
)
from voltbridge.programs.events import MAX_OUTAGE, AnnouncedOutage, ProgramEvent

NOW = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
RULES = MappingRules("elrp", 1.5, "USD", "export", 7.0)


def event(
    *payloads: tuple[str, list[Any]],
    period: dict[str, str] | None = None,
    intervals: list[dict[str, Any]] | None = None,
    descriptors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "ev-1",
        "programID": "prog",
        "intervalPeriod": period or {"start": "2026-08-21T00:00:00Z", "duration": "PT1H"},
        "intervals": intervals
        or [{"id": 0, "payloads": [{"type": t, "values": v} for t, v in payloads]}],
    }
    if descriptors is not None:
        body["payloadDescriptors"] = descriptors
    return body


def paid(raw: dict[str, Any], program: dict[str, Any] | None = None) -> ProgramEvent:
    signal = map_event(raw, RULES, NOW, program).signal
    assert isinstance(signal, ProgramEvent)
    return signal


def test_durations() -> None:
    assert parse_duration("PT15M") == timedelta(minutes=15)
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    assert parse_duration("PT0.5S") == timedelta(seconds=0.5)
    assert parse_duration("P9999Y") is None
    for bad in ("P1M", "P2Y", "-PT1H", "1 hour", 3600):
        with pytest.raises(SignalError):
            parse_duration(bad)


def test_dispatch_setpoint_export_with_price() -> None:
    ev = paid(event(("DISPATCH_SETPOINT", [-5.0]), ("EXPORT_PRICE", [2.0])))
    assert (ev.kind, ev.requested_kw, ev.payment_per_kwh, ev.hours) == ("export", 5.0, 2.0, 1.0)
    assert (ev.program, ev.source, ev.received_at) == ("elrp", "openadr3", NOW)


def test_chained_intervals_and_own_starts() -> None:
    chained = event(
        intervals=[
            {"id": 0, "payloads": [{"type": "SIMPLE", "values": [1]}]},
            {
                "id": 1,
                "intervalPeriod": {"duration": "PT2H"},
                "payloads": [{"type": "SIMPLE", "values": [2]}],
            },
        ]
    )
    ev = paid(chained)
    assert ev.start == datetime(2026, 8, 21, 0, tzinfo=UTC)
    assert ev.end == datetime(2026, 8, 21, 3, tzinfo=UTC)  # 1 h then 2 h following it
    assert (ev.kind, ev.requested_kw, ev.payment_per_kwh) == ("export", 0.0, 1.5)
    with_start = event(
        intervals=[
            {
                "id": 0,
                "intervalPeriod": {"start": "2026-08-21T05:00:00+02:00", "duration": "PT30M"},
                "payloads": [{"type": "SIMPLE", "values": [3]}],
            }
        ]
    )
    assert paid(with_start).start == datetime(2026, 8, 21, 3, tzinfo=UTC)


def test_do_it_now_starts_now() -> None:
    ev = paid(event(("SIMPLE", [1]), period={"start": "0001-01-01", "duration": "PT2H"}))
    assert (ev.start, ev.end) == (NOW, NOW + timedelta(hours=2))


def test_units_limits_and_prices_from_descriptors() -> None:
    descriptors = [
        {
            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            "payloadType": "EXPORT_CAPACITY_LIMIT",
            "units": "W",
        },
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "units": "MWH"},
    ]
    ev = paid(
        event(("EXPORT_CAPACITY_LIMIT", [4000, 3000]), ("PRICE", [2500.0]), descriptors=descriptors)
    )
    assert (ev.kind, ev.requested_kw, ev.payment_per_kwh) == ("export", 4.0, 2.5)
    program = {"payloadDescriptors": descriptors}  # the program's descriptors apply too
    assert paid(event(("EXPORT_CAPACITY_LIMIT", [4000])), program).requested_kw == 4.0
    reduce = paid(event(("IMPORT_CAPACITY_LIMIT", [1.0])))
    assert (reduce.kind, reduce.requested_kw) == ("reduce", 0.0)
    relative = paid(event(("DISPATCH_SETPOINT_RELATIVE", [-2.0, -3.0])))
    assert (relative.kind, relative.requested_kw) == ("reduce", 3.0)


def test_more_than_the_charger_is_clipped_with_a_note() -> None:
    mapped = map_event(event(("DISPATCH_SETPOINT", [-11.0])), RULES, NOW)
    assert isinstance(mapped.signal, ProgramEvent) and mapped.signal.requested_kw == 7.0
    assert "11 kW" in mapped.notes[0]


def test_outage_alert_and_open_ended_outage() -> None:
    signal = map_event(event(("ALERT_POSSIBLE_OUTAGE", ["PSPS"])), RULES, NOW).signal
    assert isinstance(signal, AnnouncedOutage) and signal.hours == 1.0
    assert signal.announced_at == NOW
    open_ended = map_event(
        event(
            ("ALERT_POSSIBLE_OUTAGE", ["PSPS"]),
            period={"start": "0001-01-01", "duration": "P9999Y"},
        ),
        RULES,
        NOW,
    )
    assert isinstance(open_ended.signal, AnnouncedOutage)
    assert open_ended.signal.end - open_ended.signal.start == MAX_OUTAGE and open_ended.notes


def test_withdrawn_by_a_window_of_no_length() -> None:
    with pytest.raises(EventWithdrawn):
        map_event(
            event(("SIMPLE", [1]), period={"start": "0001-01-01", "duration": "PT0S"}), RULES, NOW
        )


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (event(("DISPATCH_SETPOINT", [2.0])), "more load"),
        (event(("DISPATCH_SETPOINT", [-2.0]), ("DISPATCH_SETPOINT_RELATIVE", [-1.0])), "both"),
        (event(("SIMPLE", [0, 0])), "asks for nothing"),
        (event(("SIMPLE", [4])), "0..3"),
        (event(("PRICE", [-0.1])), "below zero"),
        (event(("DISPATCH_SETPOINT", [True])), "not a number"),
        (event(("DISPATCH_SETPOINT", [float("nan")])), "not finite"),
        (event(("GHG", [400.0])), "GHG"),
        (
            event(("SIMPLE", [1]), period={"start": "2026-08-19T00:00:00Z", "duration": "PT1H"}),
            "ended",
        ),
        (event(("SIMPLE", [1]), period={"start": "0001-01-01", "duration": "P9999Y"}), "no end"),
        (
            event(("SIMPLE", [1]), period={"start": "2026-08-21T00:00:00Z", "duration": "P8D"}),
            "longer",
        ),
        (event(("SIMPLE", [1]), period={"start": "2026-08-21T00:00:00Z"}), "no duration"),
        ({"programID": "p", "intervals": []}, "no id"),
        (
            event(
                ("PRICE", [1.0]),
                descriptors=[
                    {
                        "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                        "payloadType": "PRICE",
                        "currency": "EUR",
                    }
                ],
            ),
            "EUR",
        ),
        (
            event(
                ("DISPATCH_SETPOINT", [-1.0]),
                descriptors=[
                    {
                        "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                        "payloadType": "DISPATCH_SETPOINT",
                        "units": "PERCENT",
                    }
                ],
            ),
            "PERCENT",
        ),
    ],
)
def test_refused(raw: dict[str, Any], why: str) -> None:
    with pytest.raises(SignalError, match=why):
        map_event(raw, RULES, NOW)
