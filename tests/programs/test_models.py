"""Program definitions are validated with messages that name the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from voltbridge.programs.models import Program


def table(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "p",
        "currency": "USD",
        "event": {"per_kwh": 1.0, "baseline": {"rule": "zero-export"}},
        "window": {"start_hour": 16, "end_hour": 21},
    }
    base.update(change)
    return base


def test_a_minimal_program_validates() -> None:
    program = Program.model_validate(table())
    assert program.event is not None and program.event.kind == "reduce"
    assert program.limits.max_hours_per_year is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"event": {"per_kwh": -1.0, "baseline": {"rule": "zero-export"}}}, "per_kwh"),
        ({"event": {"per_kwh": "2", "baseline": {"rule": "zero-export"}}}, "per_kwh"),
        ({"event": {"per_kwh": 1.0, "baseline": {"rule": "3-of-4"}}}, "rule"),
        ({"window": {"start_hour": 21, "end_hour": 16}}, "end_hour"),
        ({"window": {"start_hour": 16, "end_hour": 21, "max_event_h": 6.0}}, "max_event_h"),
        ({"window": {"start_hour": 16, "end_hour": 21, "months": [13]}}, "months"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"currency": "usd"}, "currency"),
        ({"colour": "red"}, "colour"),
        ({"window": None}, "window is missing"),
        ({"event": None, "window": None}, "pays nothing"),
        (
            {
                "event": {
                    "per_kwh": 1.0,
                    "baseline": {"rule": "zero-export", "same_day_adjustment_cap_pct": 20.0},
                }
            },
            "same_day_adjustment_cap_pct",
        ),
    ],
)
def test_bad_definitions_name_the_field(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        Program.model_validate(table(**change))
    assert words in str(info.value)
