"""Storm watch's requirement and book: hand-computed vectors on small grids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from voltbridge.core.timegrid import TimeGrid
from voltbridge.programs.events import AnnouncedOutage
from voltbridge.programs.storm import StormBook, StormError, current, storm_requirement_kwh

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def outage(start_h: float, end_h: float, oid: str = "psps-1") -> AnnouncedOutage:
    return AnnouncedOutage(oid, at(start_h), at(end_h))


def test_target_held_from_the_lead_before_the_start_until_the_end() -> None:
    # 15-minute edges at 12:00, 12:15, ..., 15:00 (13 edges); outage 14:00-14:30, lead 30 min:
    # held at 13:30, 13:45, 14:00, 14:15 (the end edge 14:30 is free again)
    g = TimeGrid.regular(T0, 3, 15)
    req = storm_requirement_kwh([outage(2, 2.5)], g, 40.0, lead_h=0.5)
    assert req is not None
    want = np.zeros(13)
    want[6:10] = 40.0
    assert req.tolist() == want.tolist()


def test_a_window_starting_inside_a_step_is_full_at_that_steps_start() -> None:
    # hourly edges 12..18; outage 15:40-16:20 with lead 0: the edge at 15:00 (last at or before
    # 15:40) and 16:00 are held, 17:00 is not (after the end)
    g = TimeGrid.regular(T0, 6, 60)
    req = storm_requirement_kwh([outage(3 + 40 / 60, 4 + 20 / 60)], g, 10.0, lead_h=0.0)
    assert req is not None
    assert req.tolist() == [0.0, 0.0, 0.0, 10.0, 10.0, 0.0, 0.0]


def test_per_edge_targets_and_two_windows() -> None:
    g = TimeGrid.regular(T0, 6, 60)  # edges 12..18
    target = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    req = storm_requirement_kwh([outage(1, 2, "a"), outage(4, 5, "b")], g, target, lead_h=1.0)
    assert req is not None
    # a: held at 12:00 and 13:00; b: at 15:00 and 16:00
    assert req.tolist() == [1.0, 2.0, 0.0, 4.0, 5.0, 0.0, 0.0]


def test_a_window_off_the_grid_is_no_requirement() -> None:
    g = TimeGrid.regular(T0, 6, 60)
    assert storm_requirement_kwh([outage(-5, -1)], g, 10.0) is None  # passed
    assert storm_requirement_kwh([outage(8, 9)], g, 10.0) is None  # beyond the horizon
    assert storm_requirement_kwh([], g, 10.0) is None
    # under way at the grid's start: held from its first edge to the end
    req = storm_requirement_kwh([outage(-1, 2)], g, 10.0)
    assert req is not None and req.tolist() == [10.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_bad_lead_or_target_is_refused() -> None:
    g = TimeGrid.regular(T0, 6, 60)
    with pytest.raises(ValueError, match="lead_h"):
        storm_requirement_kwh([outage(1, 2)], g, 10.0, lead_h=-1.0)
    with pytest.raises(ValueError, match="target_kwh"):
        storm_requirement_kwh([outage(1, 2)], g, -1.0)


def test_book_announces_updates_cancels_and_forgets_passed_windows() -> None:
    book = StormBook()
    assert book.announce(outage(24, 48), T0) is None
    first = book.outages["psps-1"]
    assert book.announce(outage(30, 40), T0) == first  # same id: an updated notice
    book.announce(outage(10, 12, "storm"), T0)
    assert [o.outage_id for o in book.current(T0)] == ["storm", "psps-1"]
    assert book.watching(T0) == book.outages["storm"]
    assert book.watching(at(12)) == book.outages["psps-1"]  # storm's window has passed
    assert [o.outage_id for o in book.prune(at(12))] == ["storm"]
    assert book.cancel("psps-1").start == at(30)
    assert book.current(T0) == [] and book.watching(T0) is None


def test_book_refuses_past_windows_far_starts_and_unknown_ids() -> None:
    book = StormBook()
    with pytest.raises(StormError, match="ended"):
        book.announce(outage(-3, -1), T0)
    with pytest.raises(StormError, match="14 days ahead"):
        book.announce(outage(15 * 24, 15 * 24 + 1), T0)
    with pytest.raises(StormError, match="no announced outage 'x'; known: none"):
        book.cancel("x")
    assert book.outages == {}


def test_current_drops_an_outage_at_its_end() -> None:
    o = outage(1, 2)
    assert current([o], at(1.99)) == [o]
    assert current([o], at(2)) == []
