"""Drawn events: seeded, inside the season and window, within the yearly caps."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from voltbridge.core.timegrid import TimeGrid
from voltbridge.programs.draw import draw_events
from voltbridge.programs.shipped import load_shipped

YEAR = TimeGrid.regular(datetime(2026, 1, 1, 8, tzinfo=UTC), 24 * 365, 60)


def test_the_same_seed_draws_the_same_events_and_another_seed_others() -> None:
    elrp = load_shipped("elrp")
    first = draw_events(elrp, YEAR, "America/Los_Angeles", 7)
    assert first == draw_events(elrp, YEAR, "America/Los_Angeles", 7)
    assert first != draw_events(elrp, YEAR, "America/Los_Angeles", 8)


def test_a_program_without_events_draws_none() -> None:
    assert draw_events(load_shipped("octopus-power-pack"), YEAR, "Europe/London", 0) == []


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_elrp_events_keep_to_season_window_and_caps(seed: int) -> None:
    elrp = load_shipped("elrp")
    assert elrp.window is not None
    events = draw_events(elrp, YEAR, "America/Los_Angeles", seed)
    zone = ZoneInfo("America/Los_Angeles")
    assert sum(e.hours for e in events) <= 60.0
    for e in events:
        local_start, local_end = e.start.astimezone(zone), e.end.astimezone(zone)
        assert local_start.month in elrp.window.months
        assert local_start.hour >= 16
        assert (local_end.hour, local_end.minute) <= (21, 0)
        assert local_end.date() == local_start.date()
        assert 1.0 <= e.hours <= 5.0 and e.payment_per_kwh == 2.0 and e.source == "sim"
    starts = [e.start for e in events]
    assert starts == sorted(starts)
