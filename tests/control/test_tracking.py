"""Tracking the plan on grid, hand-solved: the plan's step now, the modes, absorbing deviations, the ramp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voltbridge.control.tracking import (
    TrackStorage,
    absorb_deviation,
    battery_on_grid,
    mode_setpoints,
    plan_step,
    ramp_limit,
)
from voltbridge.core.status import Mode
from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Plan, PlanCost, StoragePlan

T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)


def two_step_plan() -> Plan:
    """Two 15-minute steps: the car charges 4 kW then discharges 2 kW; the battery idles."""
    start = int(T0.timestamp())
    grid = TimeGrid(np.array([start, start + 900, start + 1800], dtype=np.int64))
    ev = StoragePlan(
        name="ev",
        kind="vehicle",
        power_kw=np.array([4.0, -2.0]),
        soc_kwh=np.array([30.0, 31.0, 29.0]),
        plugged_in=np.array([True, True]),
        driving_kwh=np.zeros(2),
        capacity_kwh=60.0,
        reserve_kwh=np.zeros(3),
    )
    bat = StoragePlan(
        name="battery",
        kind="battery",
        power_kw=np.zeros(2),
        soc_kwh=np.array([5.0, 5.0, 5.0]),
        plugged_in=np.array([True, True]),
        driving_kwh=np.zeros(2),
        capacity_kwh=10.0,
        reserve_kwh=np.zeros(3),
    )
    return Plan(
        grid=grid,
        price_import=np.array([0.30, 0.55]),
        price_export=np.array([0.05, 0.10]),
        load_kw=np.array([2.0, 3.0]),
        pv_kw=np.array([1.0, 2.0]),
        pv_used_kw=np.array([0.5, 1.0]),
        grid_kw=np.array([5.5, 0.0]),
        unserved_kw=np.zeros(2),
        storages=(ev, bat),
        cost=PlanCost(1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    )


# --- the plan's step now ----------------------------------------------------------------------


def test_plan_step_mid_step_interpolates_the_soc() -> None:
    step = plan_step(two_step_plan(), T0 + timedelta(seconds=450))
    assert step is not None
    assert step.power_kw == {"ev": 4.0, "battery": 0.0}
    assert step.expected_net_kw == 1.5  # load 2.0 - PV used 0.5
    assert (step.price_import, step.price_export) == (0.30, 0.05)
    assert step.soc_kwh == {"ev": 30.5, "battery": 5.0}


def test_plan_step_at_an_edge_is_the_step_that_starts_there() -> None:
    step = plan_step(two_step_plan(), T0 + timedelta(seconds=900))
    assert step is not None
    assert step.power_kw["ev"] == -2.0 and step.expected_net_kw == 2.0
    assert step.soc_kwh["ev"] == 31.0
    last = plan_step(two_step_plan(), T0 + timedelta(seconds=1350))
    assert last is not None and last.soc_kwh["ev"] == 30.0


def test_plan_step_outside_the_plan_is_none() -> None:
    assert plan_step(two_step_plan(), T0 - timedelta(seconds=1)) is None
    assert plan_step(two_step_plan(), T0 + timedelta(seconds=1800)) is None


def test_plan_step_takes_any_time_zone_and_refuses_a_naive_time() -> None:
    plan, now = two_step_plan(), T0 + timedelta(seconds=450)
    berlin = now.astimezone(timezone(timedelta(hours=2)))
    assert plan_step(plan, berlin) == plan_step(two_step_plan(), now)
    with pytest.raises(ValueError, match="no timezone"):
        plan_step(plan, now.replace(tzinfo=None))


def test_plan_step_asked_again_is_the_same_answer_and_another_plan_gets_its_own() -> None:
    plan, other = two_step_plan(), two_step_plan()
    object.__setattr__(other.storages[0], "power_kw", np.array([7.0, -1.0]))
    now = T0 + timedelta(seconds=450)
    first = plan_step(plan, now)
    assert plan_step(plan, now) is first  # a tick asks twice: the second is free
    theirs = plan_step(other, now)  # an equal-looking plan made anew, same time
    assert theirs is not None and theirs.power_kw["ev"] == 7.0
    later = plan_step(plan, now + timedelta(seconds=1))
    assert later is not None and later is not first and later.soc_kwh["ev"] > 30.5
    assert plan_step(plan, now) == first


@given(
    st.lists(st.floats(-50, 50), min_size=3, max_size=3),
    st.lists(st.floats(0, 100), min_size=4, max_size=4),
    st.floats(0, 1799.999),
)
def test_plan_step_is_numpys_arithmetic_to_the_last_bit(
    power: list[float], soc: list[float], offset_s: float
) -> None:
    """Python float arithmetic on ``item`` values is numpy's on float64 scalars, exactly: the
    old implementation's expressions, written out here, must agree bit for bit."""
    plan = two_step_plan()
    ev = plan.storages[0]
    object.__setattr__(ev, "power_kw", np.array(power[:2]))
    object.__setattr__(ev, "soc_kwh", np.array(soc[:3]))
    object.__setattr__(plan, "load_kw", np.array([power[2], soc[3]]))
    now = T0 + timedelta(seconds=offset_s)
    step = plan_step(plan, now)
    assert step is not None
    t = now.timestamp()
    edges = plan.grid.edges_s
    k = int(np.searchsorted(edges, t, side="right")) - 1
    frac = (t - float(edges[k])) / float(edges[k + 1] - edges[k])
    want = float(ev.soc_kwh[k] + frac * (ev.soc_kwh[k + 1] - ev.soc_kwh[k]))
    assert step.soc_kwh["ev"] == want and type(step.soc_kwh["ev"]) is float
    assert step.power_kw["ev"] == float(ev.power_kw[k])
    assert step.expected_net_kw == float(plan.load_kw[k] - plan.pv_used_kw[k])


# --- modes ------------------------------------------------------------------------------------

EV = TrackStorage("ev", "vehicle", True, 20.0, 48.0, 7.2, 7.2)
EV_FULL = TrackStorage("ev", "vehicle", True, 50.0, 48.0, 7.2, 7.2)
EV_AWAY = TrackStorage("ev", "vehicle", False, 0.0, 48.0, 7.2, 7.2)
BAT = TrackStorage("battery", "battery", True, 5.0, 10.0, 5.0, 5.0)


@pytest.mark.parametrize(
    ("mode", "planned", "storages", "expected"),
    [
        (Mode.AUTO, {"ev": -3.0, "battery": 2.0}, [EV, BAT], {"ev": -3.0, "battery": 2.0}),
        (Mode.OFF, {"ev": -3.0, "battery": 2.0}, [EV, BAT], {"ev": 0.0, "battery": 0.0}),
        (Mode.CHARGE_NOW, {"ev": -3.0, "battery": 2.0}, [EV, BAT], {"ev": 7.2, "battery": 2.0}),
        (Mode.CHARGE_NOW, {"ev": -3.0}, [EV_FULL], {"ev": 0.0}),
        (Mode.CHARGE_NOW, {"ev": 2.0}, [EV_FULL], {"ev": 2.0}),
        (Mode.BACKUP_ONLY, {"ev": -3.0, "battery": -1.0}, [EV, BAT], {"ev": 0.0, "battery": 0.0}),
        (Mode.BACKUP_ONLY, {"ev": 3.0, "battery": 1.0}, [EV, BAT], {"ev": 3.0, "battery": 1.0}),
        (Mode.V2L, {"ev": 3.0, "battery": -1.0}, [EV, BAT], {"ev": 0.0, "battery": -1.0}),
        (Mode.AUTO, {"ev": 3.0}, [EV_AWAY], {"ev": 0.0}),
        (Mode.CHARGE_NOW, {}, [EV_AWAY], {"ev": 0.0}),
        (Mode.AUTO, {}, [EV, BAT], {"ev": 0.0, "battery": 0.0}),
    ],
)
def test_mode_setpoints(
    mode: Mode,
    planned: dict[str, float],
    storages: list[TrackStorage],
    expected: dict[str, float],
) -> None:
    assert mode_setpoints(mode, planned, storages)[0] == expected


def test_mode_setpoints_say_why() -> None:
    _, why = mode_setpoints(Mode.CHARGE_NOW, {"ev": -3.0}, [EV, EV_AWAY])
    assert why == {"ev": "not available"}  # the later entry with the same name wins
    assert mode_setpoints(Mode.CHARGE_NOW, {}, [EV])[1] == {
        "ev": "charge-now until the departure target"
    }
    assert mode_setpoints(Mode.CHARGE_NOW, {}, [EV_FULL])[1] == {"ev": "charge-now: target reached"}
    assert mode_setpoints(Mode.BACKUP_ONLY, {"ev": -1.0}, [EV])[1] == {
        "ev": "backup-only: no discharging on grid"
    }
    assert mode_setpoints(Mode.V2L, {}, [EV])[1] == {"ev": "v2l: the car feeds its own loads"}
    assert mode_setpoints(Mode.OFF, {}, [EV])[1] == {"ev": "mode off"}
    assert mode_setpoints(Mode.AUTO, {}, [EV])[1] == {"ev": "plan"}


# --- absorbing what the plan did not foresee --------------------------------------------------


def test_a_surplus_goes_to_the_battery_then_the_car() -> None:
    # 6 kW more surplus than planned: the battery takes 5 (its limit), the car 1 more
    out = absorb_deviation({"ev": 2.0, "battery": 0.0}, -6.0, [EV, BAT], Mode.AUTO)
    assert out == {"ev": 3.0, "battery": 5.0}


def test_a_deficit_is_covered_by_the_battery_then_by_charging_the_car_less() -> None:
    out = absorb_deviation({"ev": 4.0, "battery": 0.0}, 6.0, [EV, BAT], Mode.AUTO)
    assert out == {"ev": 3.0, "battery": -5.0}


def test_a_deficit_never_makes_a_car_discharge_more_than_planned() -> None:
    assert absorb_deviation({"ev": 2.0}, 5.0, [EV], Mode.AUTO) == {"ev": 0.0}
    assert absorb_deviation({"ev": -1.0}, 5.0, [EV], Mode.AUTO) == {"ev": -1.0}


def test_a_surplus_lowers_a_planned_car_discharge() -> None:
    assert absorb_deviation({"ev": -3.0}, -2.0, [EV], Mode.AUTO) == {"ev": -1.0}


def test_absorbing_stays_within_the_charge_limit() -> None:
    assert absorb_deviation({"ev": 6.0}, -5.0, [EV], Mode.AUTO) == {"ev": 7.2}


def test_off_absorbs_nothing() -> None:
    out = absorb_deviation({"ev": 0.0, "battery": 0.0}, 4.0, [EV, BAT], Mode.OFF)
    assert out == {"ev": 0.0, "battery": 0.0}


def test_backup_only_covers_no_deficit_by_discharging() -> None:
    out = absorb_deviation({"ev": 0.0, "battery": 0.0}, 4.0, [EV, BAT], Mode.BACKUP_ONLY)
    assert out == {"ev": 0.0, "battery": 0.0}
    # it still charges less to cover it
    out = absorb_deviation({"ev": 3.0, "battery": 2.0}, 4.0, [EV, BAT], Mode.BACKUP_ONLY)
    assert out == {"ev": 1.0, "battery": 0.0}


@pytest.mark.parametrize("mode", [Mode.CHARGE_NOW, Mode.V2L])
def test_cars_keep_their_setpoint_in_charge_now_and_v2l(mode: Mode) -> None:
    out = absorb_deviation({"ev": 7.2, "battery": 0.0}, -8.0, [EV, BAT], mode)
    assert out == {"ev": 7.2, "battery": 5.0}


def test_a_car_at_its_target_takes_no_surplus_except_in_auto() -> None:
    assert absorb_deviation({"ev": 0.0}, -4.0, [EV_FULL], Mode.BACKUP_ONLY) == {"ev": 0.0}
    assert absorb_deviation({"ev": 0.0}, -4.0, [EV_FULL], Mode.AUTO) == {"ev": 4.0}


def test_an_unavailable_storage_absorbs_nothing() -> None:
    assert absorb_deviation({"ev": 0.0}, -4.0, [EV_AWAY], Mode.AUTO) == {"ev": 0.0}


# --- the battery on grid ----------------------------------------------------------------------


def test_battery_does_not_follow_a_plan_that_charges_from_the_grid() -> None:
    # expected residual +1 kW (no surplus), plan charges 3 kW: the battery covers the house
    assert battery_on_grid(3.0, 1.0, 1.0, BAT, 1.0, 1.0, 0.25) == (-1.0, "covering the house")


def test_battery_keeps_a_plan_that_exports_on_purpose() -> None:
    assert battery_on_grid(-4.0, 1.0, 1.0, BAT, 1.0, 1.0, 0.25) == (
        -4.0,
        "plan: exporting at a high price",
    )


def test_battery_stores_a_measured_surplus_up_to_its_limit() -> None:
    assert battery_on_grid(0.0, 1.0, -2.0, BAT, 1.0, 1.0, 0.25) == (2.0, "storing PV surplus")
    assert battery_on_grid(0.0, 1.0, -8.0, BAT, 1.0, 1.0, 0.25) == (5.0, "storing PV surplus")


def test_battery_covers_the_house_above_its_floor() -> None:
    assert battery_on_grid(0.0, 1.0, 2.0, BAT, 1.0, 1.0, 0.25) == (-2.0, "covering the house")
    # 4 kWh above the floor at 0.9 over 1 h: 3.6 kW
    assert battery_on_grid(-1.0, 1.0, 8.0, BAT, 1.0, 0.9, 1.0) == (
        pytest.approx(-3.6),
        "covering the house",
    )
    low = TrackStorage("battery", "battery", True, 1.0, 10.0, 5.0, 5.0)
    assert battery_on_grid(0.0, 1.0, 2.0, low, 1.0, 1.0, 0.25) == (-0.0, "covering the house")


# --- the reconnection ramp ----------------------------------------------------------------------


def test_ramp_is_linear_from_zero_over_the_ramp_time() -> None:
    sp = {"ev": -10.0, "battery": 4.0}
    assert ramp_limit(sp, 0.0, 300.0) == {"ev": -0.0, "battery": 0.0}
    assert ramp_limit(sp, 150.0, 300.0) == {"ev": -5.0, "battery": 2.0}
    assert ramp_limit(sp, 300.0, 300.0) == sp
    assert ramp_limit(sp, 900.0, 300.0) == sp


def test_no_ramp_time_means_no_ramp_and_negative_elapsed_means_zero() -> None:
    assert ramp_limit({"ev": -10.0}, 0.0, 0.0) == {"ev": -10.0}
    assert ramp_limit({"ev": -10.0}, -5.0, 300.0) == {"ev": -0.0}


# --- no energy from one storage into the other --------------------------------------------------


@pytest.mark.parametrize(
    ("house_kw", "cars_kw", "feed_kw", "residual_kw"),
    [
        (0.4, [11.0], 0.0, 0.4),  # night charging from the grid: the battery covers the house
        (0.4, [11.0], 5.0, 5.4),  # ... and what the plan moves into the car
        (0.4, [3.0], 5.0, 3.4),  # never more than the car draws
        (-2.0, [3.0], 0.0, 0.0),  # the car takes the 2 kW surplus and imports 1 kW
        (-2.0, [3.0], 5.0, 1.0),  # ... or takes the last kW from the battery, as planned
        (-5.0, [3.0], 0.0, -2.0),  # the surplus left after the car goes into the battery
        (1.0, [-0.4], 0.0, 0.6),  # the car gives 0.4 kW, the battery the rest of the house
        (0.27, [-0.42], 0.0, 0.0),  # the car gives more than the house draws: nothing stored
        (1.0, [-0.4, 2.0], 0.0, 0.6),  # two cars: one charging (from the grid), one giving
    ],
)
def test_battery_residual_moves_energy_between_storages_only_as_planned(
    house_kw: float, cars_kw: list[float], feed_kw: float, residual_kw: float
) -> None:
    from voltbridge.control.tracking import battery_residual_kw

    r = battery_residual_kw(house_kw, cars_kw, feed_kw)
    assert r == pytest.approx(residual_kw)
    # independently: the battery's flow b = -r never stores more than the PV surplus left after
    # the cars charge, and never gives more than the house's deficit (less what the cars give)
    # plus the planned feed
    charging = sum(max(p, 0.0) for p in cars_kw)
    giving = -sum(min(p, 0.0) for p in cars_kw)
    b = -r
    assert b <= max(-house_kw - charging, 0.0) + 1e-12
    assert -b <= max(house_kw - giving, 0.0) + feed_kw + 1e-12


def test_the_planned_feed_is_the_batterys_discharge_beyond_the_house() -> None:
    from voltbridge.control.tracking import planned_battery_feed_kw

    # the plan at 17:00 on 7 Jul 2025 (sigen example): 4.28 kW PV forecast, 0.51 kW load, the
    # car charging 8.77 kW and the battery giving 5 kW: all 5 kW go into the car
    assert planned_battery_feed_kw(-5.0, 0.51 - 4.28, [8.77]) == pytest.approx(5.0)
    # the battery covers the house's 0.3 kW only
    assert planned_battery_feed_kw(-0.3, 0.3, [7.0]) == pytest.approx(0.0)
    # the car gives the house 1 kW of its 1.5: the battery's 0.5 kW is the house's, not a feed
    assert planned_battery_feed_kw(-0.5, 1.5, [-1.0]) == pytest.approx(0.0)
    # charging the battery is no feed
    assert planned_battery_feed_kw(2.0, -3.0, [1.0]) == pytest.approx(0.0)


def test_a_surplus_first_trims_what_a_car_gives() -> None:
    """The plan has the car giving 0.42 kW for a house expected to draw that; it draws 0.27
    (deviation -0.15): the car gives 0.27, the battery is left alone (before: the battery took
    the car's 0.15 kW)."""
    ev = TrackStorage("ev", "vehicle", True, 40.0, 60.0, 11.0, 11.0)
    out = absorb_deviation({"ev": -0.42, "battery": 0.0}, -0.15, [BAT, ev], Mode.AUTO)
    assert out == {"ev": pytest.approx(-0.27), "battery": 0.0}
    # a larger surplus: the car stops giving, the rest goes into the battery as before
    out = absorb_deviation({"ev": -0.42, "battery": 0.0}, -1.0, [BAT, ev], Mode.AUTO)
    assert out == {"ev": 0.0, "battery": pytest.approx(0.58)}


def refill_plan(bat_soc: list[float], bat_kw: list[float], pv_kw: list[float]) -> Plan:
    """``two_step_plan`` with the battery's trajectory and the PV forecast replaced."""
    from dataclasses import replace

    p = two_step_plan()
    bat = replace(p.storage("battery"), soc_kwh=np.array(bat_soc), power_kw=np.array(bat_kw))
    return replace(p, storages=(p.storage("ev"), bat), pv_kw=np.array(pv_kw))


def test_the_battery_refills_where_the_forecast_surplus_could_fill_it() -> None:
    """Loads 2 and 3 kW over two quarter hours; the car charges 4 kW then gives 2 kW. With 14 kW
    of PV in the second step the surplus is (14 - 3) * 0.25 = 2.75 kWh (a car giving is no
    load): enough for a 2.5 kWh battery, not for a 10 kWh one; in the first step the car's
    charging takes the PV (5 kW - 2 - 4 < 0)."""
    from voltbridge.control.tracking import battery_refills_from_pv

    sunny = refill_plan([5, 5, 5], [0, 0], [5, 14])
    assert battery_refills_from_pv(sunny, T0, 2.5)
    assert not battery_refills_from_pv(sunny, T0, 10.0)
    assert not battery_refills_from_pv(sunny, T0, 2.5, within_h=0.2)  # the surplus comes later
    assert not battery_refills_from_pv(refill_plan([5, 5, 5], [0, 0], [1, 2]), T0, 0.1)
    # from the second step on, the window still holds it
    assert battery_refills_from_pv(sunny, T0 + timedelta(minutes=20), 2.5)
