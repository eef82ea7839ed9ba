"""Realised trips: seeded noise around the weekly schedule, merging, and their arrays by hand."""

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.config.models import Trip
from voltbridge.core import TimeGrid
from voltbridge.forecast.trips import TripRule
from voltbridge.sim.trips import realise_trips, trip_arrays
from voltbridge.sim.types import RealisedTrip
from voltbridge.sim.world import build_world

TZ = "America/Los_Angeles"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
COMMUTE = Trip.model_validate({"days": WEEKDAYS, "depart": "08:00", "return": "17:30", "km": 40})
EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"
START = datetime(2026, 1, 5, 8, tzinfo=UTC)  # Monday 5 January 2026, 00:00 PST


def realise(seed: int, weeks: int = 4, **kw: float) -> list[RealisedTrip]:
    end = START + timedelta(weeks=weeks)
    rng = np.random.default_rng(seed)
    return realise_trips([COMMUTE], START, end, TZ, rng, 0.2, "car", **kw)


def test_same_seed_same_trips_other_seed_other_trips() -> None:
    assert realise(7) == realise(7)
    assert realise(7) != realise(8)


def test_without_noise_trips_follow_the_schedule() -> None:
    trips = realise(1, weeks=1, time_sd_min=0.0, distance_cv=0.0)
    assert len(trips) == 5
    # 08:00 PST is 16:00 UTC; 17:30 PST is 01:30 UTC the next day.
    assert trips[0].depart == datetime(2026, 1, 5, 16, tzinfo=UTC)
    assert trips[0].return_ == datetime(2026, 1, 6, 1, 30, tzinfo=UTC)
    assert trips[0].km == 40.0
    assert trips[0].energy_kwh == pytest.approx(8.0)
    assert trips[0].vehicle == "car"


def test_noise_is_bounded_and_mean_distance_kept() -> None:
    trips = realise(3, weeks=200)
    assert len(trips) == 1000
    for trip in trips:
        local = trip.depart.astimezone(ZoneInfo(TZ))
        minutes = local.hour * 60 + local.minute - 8 * 60
        assert abs(minutes) <= 45  # 3 standard deviations of 15 min
        assert trip.return_ >= trip.depart + timedelta(minutes=10)
        assert trip.energy_kwh == pytest.approx(trip.km * 0.2)
    km = np.array([t.km for t in trips])
    assert km.mean() == pytest.approx(40.0, rel=0.03)
    assert km.std() / km.mean() == pytest.approx(0.2, rel=0.15)


def test_overlapping_trips_merge_and_never_overlap() -> None:
    short = Trip.model_validate({"days": WEEKDAYS, "depart": "08:00", "return": "09:00", "km": 10})
    later = Trip.model_validate({"days": WEEKDAYS, "depart": "08:30", "return": "10:00", "km": 20})
    rng = np.random.default_rng(0)
    end = START + timedelta(days=1)
    trips = realise_trips([short, later], START, end, TZ, rng, 0.2, "car", 0.0, 0.0)
    assert len(trips) == 1
    assert trips[0].depart == datetime(2026, 1, 5, 16, tzinfo=UTC)
    assert trips[0].return_ == datetime(2026, 1, 5, 18, tzinfo=UTC)
    assert trips[0].km == 30.0
    rng = np.random.default_rng(5)
    noisy = realise_trips([short, later], START, START + timedelta(weeks=20), TZ, rng, 0.2, "car")
    for first, second in pairwise(noisy):
        assert second.depart >= first.return_


def test_forecast_rules_and_overnight_trips() -> None:
    night = TripRule(days=("fri",), depart=time(22), return_=time(6), energy_kwh=6.0)
    rng = np.random.default_rng(0)
    end = START + timedelta(weeks=1)
    trips = realise_trips([night], START, end, TZ, rng, 0.15, "van", 0.0, 0.0)
    assert len(trips) == 1
    assert trips[0].depart == datetime(2026, 1, 10, 6, tzinfo=UTC)  # Fri 22:00 PST
    assert trips[0].return_ == datetime(2026, 1, 10, 14, tzinfo=UTC)  # Sat 06:00 PST
    assert trips[0].km == pytest.approx(40.0)
    assert trips[0].energy_kwh == pytest.approx(6.0)


def test_bad_arguments_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="after"):
        realise_trips([COMMUTE], START, START, TZ, rng, 0.2, "car")
    with pytest.raises(ValueError, match="negative"):
        realise_trips([COMMUTE], START, START + timedelta(days=1), TZ, rng, 0.2, "car", -1.0)


def test_trip_arrays_by_hand() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    grid = TimeGrid.regular(t0, 2, 15)
    # 00:20-01:05, 4.5 kWh over 45 min = 0.1 kWh per minute.
    trip = RealisedTrip("car", t0 + timedelta(minutes=20), t0 + timedelta(minutes=65), 22.5, 4.5)
    plugged, driving = trip_arrays([trip], grid)
    assert plugged.tolist() == [True, False, False, False, False, True, True, True]
    assert driving == pytest.approx([0.0, 1.0, 1.5, 1.5, 0.5, 0.0, 0.0, 0.0])
    # A trip ending exactly on an edge does not touch the next step; one outside is ignored.
    edge = RealisedTrip("car", t0 + timedelta(minutes=90), t0 + timedelta(minutes=105), 5.0, 1.0)
    before = RealisedTrip("car", t0 - timedelta(hours=3), t0 - timedelta(hours=2), 5.0, 1.0)
    plugged, driving = trip_arrays([edge, before], grid)
    assert plugged.tolist() == [True] * 6 + [False, True]
    assert driving.sum() == pytest.approx(1.0)


def test_trip_partly_outside_the_grid_keeps_only_its_share() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    grid = TimeGrid.regular(t0, 1, 30)
    trip = RealisedTrip("car", t0 - timedelta(minutes=30), t0 + timedelta(minutes=30), 10.0, 2.0)
    plugged, driving = trip_arrays([trip], grid)
    assert plugged.tolist() == [False, True]
    assert driving == pytest.approx([1.0, 0.0])


def test_a_longer_period_only_adds_trips() -> None:
    """The trips of four weeks begin with the trips of one: a trip's noise depends on its place
    in the period, never on the period's length (distances drawn after all the time shifts made
    the first week's distances change with the number of weeks)."""
    week = realise(11, weeks=1)
    month = realise(11, weeks=4)
    assert month[: len(week)] == week


def test_world_trips_do_not_depend_on_the_days_simulated() -> None:
    """Same site, seed and start, 8 or 10 days: the first 8 days' trips are the same, with drawn
    outages (whose number depends on the period) and with given ones. A 72 h outage served
    39.10 or 37.94 kWh of essential load with ``optimal`` depending on ``days`` alone."""
    site = load_site(EXAMPLES / "f150-outage-sonoma.toml")
    start = datetime(2026, 7, 10, tzinfo=UTC)
    for outages in (None, []):
        short = build_world(site, start, 8, seed=3, outages=outages)
        long = build_world(site, start, 10, seed=3, outages=outages)
        n = short.n_sim
        for a, b in zip(short.vehicles, long.vehicles, strict=True):
            assert np.array_equal(a.driving_kwh[:n], b.driving_kwh[:n])
            assert np.array_equal(a.plugged_in[:n], b.plugged_in[:n])
