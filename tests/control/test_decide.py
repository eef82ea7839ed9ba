"""DecideInput: a tick's inputs as one typed value; only a switch read open this tick counts as
open, so an unknown switch never lets a storage power the house off the grid."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from tests.control.harness import CAR, CIRCUIT_KW, site, vehicle
from voltbridge.control.decide import DecideInput, backup_floors, decide
from voltbridge.control.guard import StorageLimits
from voltbridge.control.io import Snapshot
from voltbridge.control.island import IslandStorage, expected_load_kw
from voltbridge.core.types import GridState, Measurement

T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)


def inp(transfer_closed: bool | None, grid_state: GridState = GridState.ISLANDED) -> DecideInput:
    snap = Snapshot(
        storages={CAR: Measurement(CAR, T0, 0.0, soc_kwh=40.0)},
        plugged_in={CAR: True},
        transfer_closed=transfer_closed,
    )
    return DecideInput(
        site=site(),
        settings=site().defaults,
        snap=snap,
        now=T0,
        grid_state=grid_state,
        has_transfer=True,
        plan=None,
        load_kw=2.0,
        pv_kw=0.0,
        dt_h=2 / 3600,
        circuits={},
    )


@pytest.mark.parametrize(("closed", "open_"), [(False, True), (True, False), (None, False)])
def test_only_a_switch_read_open_counts_as_open(closed: bool | None, open_: bool) -> None:
    assert inp(closed).transfer_open is open_


def test_defaults_and_frozen() -> None:
    i = inp(False)
    assert (i.reconnected_s, i.ramp_s, i.stale_after_s, dict(i.budgets)) == (None, 300.0, 30.0, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        i.load_kw = 3.0  # type: ignore[misc]


def test_islanded_with_the_switch_state_unknown_nothing_discharges() -> None:
    d = decide(inp(None))
    assert d.setpoints == {CAR: 0.0} and d.islanded
    assert d.cannot_island == "transfer switch not confirmed open: storages stay at 0 kW"
    # read open: the car covers the house's 2 kW
    opened = decide(inp(False))
    assert opened.setpoints[CAR] == pytest.approx(-2.0) and opened.cannot_island == ""


def test_backup_floors_keep_the_reserve_as_a_total_over_the_storages_at_home() -> None:
    """4 kWh above its floor in the battery (eta 0.9: 3.6 kWh AC) and 10 kWh in the car (eta
    0.9: 9 kWh AC), 8 kWh AC wanted: the battery may go down to where the car alone covers it
    (it does: floor unchanged); the car to where battery + car make 8 kWh: 8 - 3.6 = 4.4 kWh AC
    of its own, 4.4 / 0.9 kWh above its reserve."""
    lim = {
        "battery": StorageLimits("battery", 5.0, 5.0, 10.0, soc_floor_kwh=1.0),
        "ev": StorageLimits("ev", 7.0, 7.0, 60.0, soc_floor_kwh=12.0),
        "away": StorageLimits("away", 7.0, 7.0, 60.0, soc_floor_kwh=12.0),
    }
    isl = [
        IslandStorage("battery", "battery", True, 5.0, 1.0, 10.0, 5.0, 5.0, 0.9),
        IslandStorage("ev", "vehicle", True, 22.0, 12.0, 60.0, 7.0, 7.0, 0.9),
        IslandStorage("away", "vehicle", False, 50.0, 12.0, 60.0, 7.0, 7.0, 0.9),
    ]
    out = backup_floors(lim, isl, 8.0)
    assert out["battery"].soc_floor_kwh == 1.0
    assert out["ev"].soc_floor_kwh == pytest.approx(12.0 + (8.0 - 3.6) / 0.9)
    assert out["away"].soc_floor_kwh == 12.0  # not at home: holds nothing for the house
    short = backup_floors(lim, isl, 20.0)  # more than both hold: neither discharges
    assert short["battery"].soc_floor_kwh > 5.0 and short["ev"].soc_floor_kwh > 22.0
    assert backup_floors(lim, isl, 0.0) == lim


def islanded_between_reserves(load_kw: float, circuits: dict[str, bool]) -> DecideInput:
    """The harness car (60 kWh, mobility reserve 30 %: 18 kWh) at 17 kWh, below its mobility
    reserve, with an outage reserve of 10 % (6 kWh); the switch is open."""
    car = dataclasses.replace(vehicle(), outage_reserve_pct=10.0)
    s = site(car=car)
    snap = Snapshot(
        storages={CAR: Measurement(CAR, T0, 0.0, soc_kwh=17.0)},
        plugged_in={CAR: True},
        transfer_closed=False,
    )
    return DecideInput(
        site=s,
        settings=s.defaults,
        snap=snap,
        now=T0,
        grid_state=GridState.ISLANDED,
        has_transfer=True,
        plan=None,
        load_kw=load_kw,
        pv_kw=0.0,
        dt_h=2 / 3600,
        circuits=circuits,
    )


def test_in_an_outage_the_essentials_use_the_car_below_its_mobility_reserve() -> None:
    """Below the mobility reserve, above the outage reserve: the fridge and the medical device
    (0.5 kW, all the house draws now) are powered from the car; the idle water heater and dryer
    are shed, and shedding them (7 kW typical) does not leave the essentials dark."""
    d = decide(islanded_between_reserves(0.5, {}))
    assert d.circuits is not None
    assert not d.circuits["water-heater"] and not d.circuits["dryer"]
    assert d.circuits["fridge"] and d.circuits["medical"]
    assert d.setpoints[CAR] == pytest.approx(-0.5)
    assert d.limits[CAR].soc_floor_kwh == pytest.approx(6.0)  # the guard lets it go there
    assert not d.reserve_reached


def test_without_an_outage_reserve_the_car_stops_at_its_mobility_reserve() -> None:
    """The rule before outage reserves (and a household that sets it to the mobility reserve):
    below the mobility reserve nothing is powered from the car."""
    i = islanded_between_reserves(0.5, {})
    i = dataclasses.replace(i, site=site())
    d = decide(i)
    assert d.setpoints[CAR] == 0.0 and d.reserve_reached


def test_shed_load_never_below_what_the_circuits_left_on_may_draw() -> None:
    s = site().circuits
    on_all = dict.fromkeys(CIRCUIT_KW, True)
    shed = {**on_all, "water-heater": False, "dryer": False}
    # idle heater and dryer: the measured 0.5 kW is the essentials'
    assert expected_load_kw(s, on_all, shed, 0.5) == pytest.approx(0.5)
    # a drawing heater, 5 kW measured: 0.5 kW left, but the dryer still on may draw 2.5 kW
    assert expected_load_kw(s, on_all, {**on_all, "water-heater": False}, 5.0) == pytest.approx(3.0)
    assert expected_load_kw(s, on_all, {**on_all, "water-heater": False}, 9.0) == pytest.approx(4.5)
    # a circuit switched back on adds its typical draw
    assert expected_load_kw(s, shed, on_all, 0.5) == pytest.approx(7.5)


def car_and_battery_tick(
    car_kw: float, load_kw: float, car_soc_kwh: float, budget: float | None = None
) -> dict[str, float]:
    """One on-grid tick's setpoints [kW] for a plan that holds the car at ``car_kw`` and the
    battery (8 kWh stored) idle, expecting ``load_kw`` with no PV, as measured."""
    from tests.control.harness import FakePlans
    from voltbridge.control.plan_source import PlanState

    cs = site(battery=True)
    plan = FakePlans(cs, power_kw={CAR: car_kw, "battery": 0.0}, load_kw=load_kw).make_plan(
        PlanState(
            T0, {CAR: 100 * car_soc_kwh / cs.vehicles[0].capacity_kwh}, {CAR: True}, cs.defaults
        )
    )
    snap = Snapshot(
        storages={
            CAR: Measurement(CAR, T0, 0.0, soc_kwh=car_soc_kwh),
            "battery": Measurement("battery", T0, 0.0, soc_kwh=8.0),
        },
        plugged_in={CAR: True, "battery": True},
        transfer_closed=True,
    )
    d = decide(
        DecideInput(
            site=cs,
            settings=cs.defaults,
            snap=snap,
            now=T0,
            grid_state=GridState.ON_GRID,
            has_transfer=True,
            plan=plan,
            load_kw=load_kw,
            pv_kw=0.0,
            dt_h=5 / 60,
            circuits={},
            budgets={CAR: budget},
        )
    )
    return d.setpoints


def test_a_car_held_to_its_warranty_budget_leaves_the_rest_to_the_battery() -> None:
    """The plan asks the car for 3 kW; 0.05 kWh of today's warranty budget is left, 0.54 kW AC
    this 5-minute tick (0.05 x 0.9 / (5/60)). The battery must cover the other 2.46 kW of the
    3 kW house: before, it was set from the untrimmed car and the house imported them."""
    free = car_and_battery_tick(-3.0, 3.0, 40.0)
    assert free[CAR] == pytest.approx(-3.0) and free["battery"] == pytest.approx(0.0)
    held = car_and_battery_tick(-3.0, 3.0, 40.0, budget=0.05)
    assert held[CAR] == pytest.approx(-0.05 * 0.9 / (5 / 60))
    assert held["battery"] == pytest.approx(-(3.0 - 0.54))
    # the house is covered: no import this tick
    assert 3.0 + held[CAR] + held["battery"] == pytest.approx(0.0, abs=1e-9)


def test_the_battery_never_feeds_the_cars_night_charging() -> None:
    """The plan charges the car at 7 kW from the grid in a cheap night hour, the house draws
    0.4 kW: the battery covers the house's 0.4 kW, not the car (before it discharged at its
    full power into the car, a tenth of that lost in the round trip)."""
    sp = car_and_battery_tick(7.0, 0.4, 24.0)
    assert sp[CAR] == pytest.approx(7.0)
    assert sp["battery"] == pytest.approx(-0.4)
