"""A home with a grid program and a recorded month: telemetry whose event and baseline figures
can be worked out by hand (see ``window_kw``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from voltbridge.api import ApiConfig, create_app
from voltbridge.control.program_income import ProgramTerms
from voltbridge.core.clock import VirtualClock
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.models import Program

from .fakes import PASSWORD, FakeHandle, FakeMonotonic, FakeStore, demo_plan, demo_status
from .helpers import Demo

ZONE = ZoneInfo("America/Los_Angeles")
MONTH_NOW = datetime(2026, 7, 20, 19, 0, tzinfo=UTC)
"""Noon on Monday 20 July 2026 in Sacramento."""
RECORDED_FROM = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


def local(day: int, hour: int, month: int = 7) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=ZONE).astimezone(UTC)


EVENT = ProgramEvent(
    "elrp-15", "elrp-home", local(15, 16), local(15, 18), "reduce", 4.0, 2.0, source="openadr2"
)
"""Wednesday 15 July, 16:00-18:00: paid 2 per kWh (the event's price wins over the program's)."""
SKIPPED = ProgramEvent(
    "elrp-17", "elrp-home", local(17, 17), local(17, 18), "reduce", 4.0, 2.0, choice="skip"
)
"""Friday 17 July, skipped: the program charges 1.5 per skipped event."""
JUNE = ProgramEvent(
    "elrp-june", "elrp-home", local(24, 16, 6), local(24, 18, 6), "reduce", 4.0, 2.0
)
"""Last month's event: not this month's income."""

PROGRAM = Program.model_validate(
    {
        "id": "elrp-home",
        "title": "ELRP-like test program",
        "currency": "USD",
        "event": {"per_kwh": 1.0, "baseline": {"rule": "10-of-10"}},
        "window": {"start_hour": 16, "end_hour": 21, "months": [5, 6, 7, 8, 9, 10]},
        "opt_out": {"penalty_per_event": 1.5},
    }
)


def window_kw(at: datetime) -> float:
    """The recorded net import [kW]: in the 16:00-18:00 local window -3 kW on 15 July (the
    event: exporting), 2 kW on July's other working days, 5 kW on June's, 9 kW at weekends;
    0.5 kW at any other time. The 10 working days before 15 July are 1-14 July: baseline 2 kW."""
    t = at.astimezone(ZONE)
    if not 16 <= t.hour < 18:
        return 0.5
    if t.weekday() >= 5:
        return 9.0
    if (t.month, t.day) == (7, 15):
        return -3.0
    return 2.0 if t.month == 7 else 5.0


@dataclass
class TelemetryStore(FakeStore):
    """The fake store with recorded grid power (``window_kw``), bucketed as the store does;
    ``gap``: a range with nothing recorded."""

    gap: tuple[datetime, datetime] | None = None
    recorded_until: datetime = MONTH_NOW

    def history(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        self.calls.append(("history", {"start": start, "end": end, "resolution_s": resolution_s}))
        step = timedelta(seconds=resolution_s)
        at = datetime.fromtimestamp(int(start.timestamp()) // resolution_s * resolution_s, tz=UTC)
        rows: list[dict[str, Any]] = []
        while at < min(end, self.recorded_until):
            skip = at < RECORDED_FROM or (self.gap is not None and self.gap[0] <= at < self.gap[1])
            if not skip:
                rows.append(
                    {
                        "at": at.isoformat().replace("+00:00", "Z"),
                        "grid_kw": window_kw(at),
                        "pv_kw": 0.0,
                        "load_kw": 0.5,
                        "battery_kw": 0.0,
                        "battery_soc_kwh": 9.0,
                        "vehicles": {"ev9": {"kw": 0.0, "soc_kwh": 60.0, "plugged_in": True}},
                        "grid_state": "on_grid",
                        "clock_stepped": False,
                    }
                )
            at += step
        return rows


def make_income_demo(
    data_dir: Path, store: FakeStore | None = None, *, programs: bool = True, **options: Any
) -> Demo:
    """The demo app on 20 July with the program, its three events and a recorded month."""
    clock = VirtualClock(MONTH_NOW)
    handle = FakeHandle(demo_status(at=MONTH_NOW), demo_plan(), clock)
    for event in (JUNE, EVENT, SKIPPED):
        assert handle.programs.offer(event, event.start - timedelta(hours=1))
    store = TelemetryStore() if store is None else store
    monotonic = FakeMonotonic()
    options.setdefault("password", PASSWORD)
    config = ApiConfig(
        data_dir=data_dir,
        timezone="America/Los_Angeles",
        currency="USD",
        site_name="EV9 home",
        clock=clock,
        monotonic=monotonic,
        programs=(ProgramTerms(PROGRAM),) if programs else (),
        **options,
    )
    return Demo(create_app(handle, store, config), handle, store, config, monotonic, clock)
