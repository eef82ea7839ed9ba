"""Events drawn for a simulated period: a program's events as they might be called, seeded.

Each local day of the program's season is an event day with the chance that makes the yearly
mean the program's ``typical_events_per_year``; an event lasts a whole number of hours between the
program's shortest and longest, starts at a whole local hour inside its window, is announced with
the program's minimum notice, and stops being drawn once a yearly cap (events or hours) is
reached. The same seed and program give the same events.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import numpy as np

from voltbridge.core.timegrid import TimeGrid
from voltbridge.programs.events import ProgramEvent
from voltbridge.programs.models import Program


def season_days_per_year(program: Program) -> int:
    """Days a year in the program's event season (a 365-day year) [d]."""
    if program.window is None:
        return 0
    lengths = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return sum(lengths[m - 1] for m in program.window.months)


def draw_events(program: Program, grid: TimeGrid, timezone: str, seed: int) -> list[ProgramEvent]:
    """``program``'s events over ``grid``, drawn as the module says; none without an event
    payment or a ``typical_events_per_year``.

    Args:
        timezone: the site's IANA timezone (the program's own wins).
        seed: the simulation's seed; mixed with the program id so programs draw apart.
    """
    window, limits = program.window, program.limits
    if program.event is None or window is None or not limits.typical_events_per_year:
        return []
    zone = program.zone(timezone)
    rng = np.random.default_rng([seed, zlib.crc32(program.id.encode())])
    chance = min(1.0, limits.typical_events_per_year / max(1, season_days_per_year(program)))
    first = grid.start.astimezone(zone).date()
    last = grid.end.astimezone(zone).date()
    shortest = max(1, int(np.ceil(window.min_event_h)))
    longest = max(shortest, int(np.floor(window.longest_h)))
    counts: dict[int, tuple[int, float]] = {}
    events: list[ProgramEvent] = []
    day = first
    while day <= last:
        # Draw the same numbers every day, in or out of season, so that a longer period keeps
        # the events of a shorter one.
        called = rng.random() < chance
        hours = int(rng.integers(shortest, longest + 1))
        offset = rng.random()
        day, today = day + timedelta(days=1), day
        if not called or today.month not in window.months:
            continue
        count, total_h = counts.get(today.year, (0, 0.0))
        if limits.max_events_per_year is not None and count + 1 > limits.max_events_per_year:
            continue
        if limits.max_hours_per_year is not None and total_h + hours > limits.max_hours_per_year:
            continue
        latest = window.end_hour - hours
        start_hour = window.start_hour + int(offset * (latest - window.start_hour + 1))
        start = datetime(today.year, today.month, today.day, start_hour, tzinfo=zone)
        start_utc = start.astimezone(UTC)
        end_utc = start_utc + timedelta(hours=hours)
        if start_utc < grid.start or end_utc > grid.end:
            continue
        counts[today.year] = (count + 1, total_h + hours)
        events.append(
            ProgramEvent(
                event_id=f"{program.id}-{today.isoformat()}",
                program=program.id,
                start=start_utc,
                end=end_utc,
                kind=program.event.kind,
                payment_per_kwh=program.event.per_kwh,
                source="sim",
                choice="take_part",
                received_at=start_utc - timedelta(hours=limits.min_notice_h),
            )
        )
    return events
