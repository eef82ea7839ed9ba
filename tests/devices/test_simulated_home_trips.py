"""The simulated car's trips (issue 15, the demo's day): unplugged from the departure to the
return, back with the trip's energy used (never below empty), and a trip under way at the start
has the car away from it. On a virtual clock: the departure and return fall on exact instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.devices.simulated_home import CarTrip, SimStorage, SimulatedHome

T0 = datetime(2026, 6, 3, 14, 0, tzinfo=UTC)


def home(soc_kwh: float, *trips: CarTrip) -> SimulatedHome:
    car = SimStorage(capacity_kwh=60.0, soc_kwh=soc_kwh, max_charge_kw=7.0, max_discharge_kw=7.0)
    return SimulatedHome(VirtualClock(T0), load_kw=1.0, car=car, car_trips=trips)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_car_is_away_from_departure_to_return_and_comes_back_with_less() -> None:
    h = home(30.0, CarTrip(at(45), at(615), 16.12))
    assert h.car is not None
    h.car.setpoint_kw = 5.0  # charging until it leaves
    h.advance(45 * 60 - 1)
    assert h.car.plugged_in
    h.advance(1)
    assert not h.car.plugged_in  # gone at the departure instant
    soc_left = h.car.soc_kwh
    assert soc_left == pytest.approx(30.0 + 5.0 * (45 / 60), rel=1e-6)
    h.advance(570 * 60 - 1)
    assert not h.car.plugged_in and h.car.soc_kwh == soc_left  # no charging away from home
    assert h.totals.car_kwh == pytest.approx(5.0 * 45 / 60, rel=1e-6)
    h.advance(1)
    assert h.car.plugged_in
    assert h.car.soc_kwh == pytest.approx(soc_left - 16.12)
    assert h.totals.driven_kwh == pytest.approx(16.12)


def test_a_trip_under_way_at_the_start_has_the_car_away_and_never_below_empty() -> None:
    h = home(5.0, CarTrip(at(-60), at(30), 9.0), CarTrip(at(-600), at(-300), 4.0))
    assert h.car is not None
    assert not h.car.plugged_in
    h.advance(30 * 60)
    assert h.car.plugged_in and h.car.soc_kwh == 0.0  # it came home empty, not below
    assert h.totals.driven_kwh == 5.0  # the past trip is history: not taken again


def test_a_trip_returns_after_it_departs() -> None:
    with pytest.raises(ValueError, match="returns after it departs"):
        CarTrip(at(10), at(10), 1.0)
