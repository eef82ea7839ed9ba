"""The event values every signal path produces: bad signals are refused with a message that names
the field, good ones are normalised to UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from voltbridge.programs.events import AnnouncedOutage, EventError, ProgramEvent

T0 = datetime(2026, 7, 14, 23, 0, tzinfo=UTC)


def event(**change: object) -> ProgramEvent:
    fields: dict[str, object] = {
        "event_id": "e1",
        "program": "elrp",
        "start": T0,
        "end": T0 + timedelta(hours=2),
        "kind": "export",
        "requested_kw": 5.0,
        "payment_per_kwh": 2.0,
    }
    fields.update(change)
    return ProgramEvent(**fields)  # type: ignore[arg-type]


def test_times_are_normalised_to_utc_and_hours_counted() -> None:
    pacific = timezone(timedelta(hours=-7))
    e = event(start=datetime(2026, 7, 14, 16, 0, tzinfo=pacific), end=T0 + timedelta(hours=3))
    assert e.start == T0 and e.start.tzinfo is UTC
    assert e.hours == 3.0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"start": datetime(2026, 7, 14, 23, 0)}, "no timezone"),
        ({"end": T0}, "not after start"),
        ({"end": T0 + timedelta(days=8)}, "longer than"),
        ({"kind": "import"}, "kind"),
        ({"requested_kw": -1.0}, "requested_kw"),
        ({"requested_kw": float("nan")}, "requested_kw"),
        ({"payment_per_kwh": -0.5}, "payment_per_kwh"),
        ({"event_id": " "}, "event_id"),
        ({"program": ""}, "program"),
    ],
)
def test_bad_events_are_refused_naming_the_field(change: dict[str, object], words: str) -> None:
    with pytest.raises(EventError, match=words):
        event(**change)


def test_overlap_is_any_shared_instant() -> None:
    a = event()
    assert a.overlaps(
        event(event_id="b", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=4))
    )
    assert not a.overlaps(event(event_id="c", start=a.end, end=a.end + timedelta(hours=1)))


def test_announced_outage_notice_and_limits() -> None:
    o = AnnouncedOutage(
        "psps-1", T0, T0 + timedelta(hours=48), announced_at=T0 - timedelta(hours=30)
    )
    assert o.hours == 48.0 and o.notice_h() == 30.0
    assert AnnouncedOutage("x", T0, T0 + timedelta(hours=1)).notice_h() is None
    with pytest.raises(EventError, match="longer than"):
        AnnouncedOutage("y", T0, T0 + timedelta(days=15))
    with pytest.raises(EventError, match="not after start"):
        AnnouncedOutage("z", T0, T0 - timedelta(hours=1))
