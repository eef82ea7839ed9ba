"""Outages: parsing START/DURATION[@NOTICE], random draws over many years (and their notices),
and the grid mask by hand."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.sim.outages import (
    ANNOUNCED_SHARE,
    NOTICE_H,
    draw_notices,
    draw_outages,
    outage_mask,
    parse_outage,
)
from voltbridge.sim.types import Outage

LA = "America/Los_Angeles"


@pytest.mark.parametrize(
    ("text", "start", "hours"),
    [
        ("2026-01-14T17:00/8h", datetime(2026, 1, 15, 1, tzinfo=UTC), 8.0),
        ("2026-01-14T17:00-08:00/90m", datetime(2026, 1, 15, 1, tzinfo=UTC), 1.5),
        ("2026-01-14T17:00/1h30m", datetime(2026, 1, 15, 1, tzinfo=UTC), 1.5),
        ("2026-01-14T17:00/2d", datetime(2026, 1, 15, 1, tzinfo=UTC), 48.0),
        ("2026-01-14T17:00Z/1d6h15m", datetime(2026, 1, 14, 17, tzinfo=UTC), 30.25),
        ("2026-07-14T17:00/1.5h", datetime(2026, 7, 15, 0, tzinfo=UTC), 1.5),  # PDT
        (" 2026-01-14T17:00+01:00/45M ", datetime(2026, 1, 14, 16, tzinfo=UTC), 0.75),
    ],
)
def test_parse_outage_forms(text: str, start: datetime, hours: float) -> None:
    outage = parse_outage(text, LA)
    assert outage.start == start
    assert outage.hours == pytest.approx(hours)
    assert outage.start.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-01-14T17:00", "not of the form START/DURATION"),
        ("/8h", "not of the form START/DURATION"),
        ("2026-13-14T17:00/8h", "start '2026-13-14T17:00' is not an ISO 8601 date-time"),
        ("tomorrow/8h", "start 'tomorrow'"),
        ("2026-01-14T17:00/8 hours", "duration '8 hours' is not understood"),
        ("2026-01-14T17:00/", "duration '' is not understood"),
        ("2026-01-14T17:00/30m2h", "duration '30m2h'"),
        ("2026-01-14T17:00/0h", "longer than zero"),
    ],
)
def test_parse_outage_errors_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_outage(text, LA)
    assert "'2026-01-14T17:00/8h'" in str(info.value) or "longer than zero" in str(info.value)


def test_parse_outage_unknown_timezone_only_matters_without_offset() -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Base'"):
        parse_outage("2026-01-14T17:00/8h", "Mars/Base")
    assert parse_outage("2026-01-14T17:00Z/8h", "Mars/Base").hours == 8.0


def test_drawn_outages_follow_the_rate_and_never_overlap() -> None:
    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2400, 1, 1, tzinfo=UTC)
    years = (end - start).total_seconds() / (8760 * 3600)
    outages = draw_outages(start, end, 2.0, 6.0, np.random.default_rng(11))
    # Poisson: about 2 * 400.3 = 800.5, standard deviation about 28; merges remove ~0.1 %.
    assert abs(len(outages) - 2.0 * years) < 4 * np.sqrt(2.0 * years)
    hours = np.array([o.hours for o in outages])
    assert hours.mean() == pytest.approx(6.0, rel=0.15)  # standard error about 3.5 %
    for first, second in pairwise(outages):
        assert first.end < second.start
    assert all(start <= o.start < o.end <= end for o in outages)


def test_drawn_outages_are_seeded_and_clipped() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    a = draw_outages(start, end, 12.0, 48.0, np.random.default_rng(3))
    assert a == draw_outages(start, end, 12.0, 48.0, np.random.default_rng(3))
    assert a != draw_outages(start, end, 12.0, 48.0, np.random.default_rng(4))
    assert draw_outages(start, end, 0.0, 4.0, np.random.default_rng(3)) == []
    short_end = start + timedelta(hours=1)
    for outage in draw_outages(start, short_end, 5000.0, 10.0, np.random.default_rng(1)):
        assert outage.end <= short_end
    with pytest.raises(ValueError, match="mean_hours"):
        draw_outages(start, end, 1.0, 0.0, np.random.default_rng(0))


def test_outage_mask_by_hand() -> None:
    t0 = datetime(2026, 1, 14, tzinfo=UTC)
    grid = TimeGrid.regular(t0, 2, 15)
    outages = [
        Outage(t0 + timedelta(minutes=20), t0 + timedelta(minutes=50)),  # steps 1, 2, 3
        Outage(t0 + timedelta(minutes=75), t0 + timedelta(minutes=90)),  # step 5 exactly
        Outage(t0 - timedelta(hours=5), t0 - timedelta(hours=4)),  # before the grid
    ]
    mask = outage_mask(outages, grid)
    assert mask.tolist() == [False, True, True, True, False, True, False, False]
    assert not outage_mask([], grid).any()
    whole = Outage(t0 - timedelta(hours=1), t0 + timedelta(hours=3))
    assert outage_mask([whole], grid).all()


@pytest.mark.parametrize(
    ("text", "notice_h"),
    [
        ("2026-01-14T17:00/8h", None),
        ("2026-01-14T17:00/48h@24h", 24.0),
        ("2026-01-14T17:00-08:00/2d@1d12h", 36.0),
        ("2026-01-14T17:00/8h@90m", 1.5),
        (" 2026-01-14T17:00/8h @ 2h ", 2.0),
    ],
)
def test_parse_outage_notice(text: str, notice_h: float | None) -> None:
    outage = parse_outage(text, LA)
    assert outage.notice_h == notice_h
    assert outage.start == datetime(2026, 1, 15, 1, tzinfo=UTC)
    if notice_h is None:
        assert outage.announced_at is None
    else:
        assert outage.announced_at == outage.start - timedelta(hours=notice_h)


@pytest.mark.parametrize("text", ["2026-01-14T17:00/8h@", "2026-01-14T17:00/8h@soon"])
def test_parse_outage_bad_notice_names_it(text: str) -> None:
    with pytest.raises(ValueError, match=r"notice .* is not understood") as info:
        parse_outage(text, LA)
    assert "@NOTICE" in str(info.value)


def test_drawn_notices_follow_the_documented_distribution_and_the_seed() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    outages = [
        Outage(start + timedelta(days=i), start + timedelta(days=i, hours=3)) for i in range(4000)
    ]
    a = draw_notices(outages, np.random.default_rng(5))
    assert a == draw_notices(outages, np.random.default_rng(5))
    assert [(o.start, o.end) for o in a] == [(o.start, o.end) for o in outages]
    notices = np.array([o.notice_h for o in a if o.notice_h is not None])
    share = notices.size / len(a)
    assert abs(share - ANNOUNCED_SHARE) < 4 * (0.25 / len(a)) ** 0.5
    assert notices.min() >= NOTICE_H[0] and notices.max() <= NOTICE_H[1]
    assert abs(float(notices.mean()) - sum(NOTICE_H) / 2) < 0.5  # uniform: mean 36 h
