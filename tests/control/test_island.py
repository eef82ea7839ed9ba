"""Islanded operation, hand-solved: which circuits to shed and restore, and how storages share the house."""

from __future__ import annotations

import pytest

from voltbridge.control.island import (
    RESTORE_MARGIN,
    CircuitInfo,
    IslandStorage,
    island_setpoints,
    plan_shedding,
)

FRIDGE = CircuitInfo("fridge", 0.3, essential=True, shed_priority=0)
MEDICAL = CircuitInfo("medical", 0.2, essential=True, shed_priority=1)
DRYER = CircuitInfo("dryer", 2.5, essential=False, shed_priority=2)
HEATER = CircuitInfo("water-heater", 4.5, essential=False, shed_priority=4)
CIRCUITS = [FRIDGE, MEDICAL, DRYER, HEATER]
"""Typical draws: 0.3 + 0.2 + 2.5 + 4.5 = 7.5 kW; the tests add a 2.5 kW base load."""
ALL_ON = {c.name: True for c in CIRCUITS}
ALL_OFF = {c.name: False for c in CIRCUITS}
DT_H = 10 / 3600  # a 10 s tick


def on(*names: str) -> dict[str, bool]:
    return {c.name: c.name in names for c in CIRCUITS}


# --- shedding ---------------------------------------------------------------------------------


def test_nothing_is_shed_when_supply_covers_the_load() -> None:
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 10.0, 20.0)
    assert plan.on == ALL_ON and plan.reasons == {} and not plan.reserve_reached


def test_pv_counts_toward_the_supply() -> None:
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 3.0, 7.2, 20.0)
    assert plan.on == ALL_ON


def test_highest_shed_priority_goes_first_and_shedding_stops_once_the_load_fits() -> None:
    # 10 kW against 7.2 kW: the water heater (priority 4) leaves 5.5 kW, which fits
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 7.2, 20.0)
    assert plan.on == on("fridge", "medical", "dryer")
    assert plan.reasons == {
        "water-heater": "load 10.00 kW over what PV and storage supply, 7.20 kW"
    }


def test_second_circuit_goes_when_the_first_is_not_enough() -> None:
    # 10 -> 5.5 (heater) -> 3.0 kW (dryer) <= 4.0 kW
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 4.0, 20.0)
    assert plan.on == on("fridge", "medical")
    assert set(plan.reasons) == {"water-heater", "dryer"}


def test_essentials_stay_on_while_storage_holds_energy_even_if_short() -> None:
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 1.0, 5.0)
    assert plan.on == on("fridge", "medical")
    assert not plan.reserve_reached


def test_at_the_reserve_essentials_go_highest_priority_first() -> None:
    # nothing stored, 2.85 kW of PV: 10 -> 5.5 -> 3.0 -> 2.8 kW (medical, priority 1) fits
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 2.85, 0.0, 0.0)
    assert plan.reserve_reached
    assert plan.on == on("fridge")
    assert plan.reasons["medical"] == (
        "storage down to its reserve and PV does not cover the essentials"
    )


def test_at_the_reserve_without_pv_everything_goes() -> None:
    plan = plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 0.0, 0.0)
    assert plan.on == ALL_OFF and plan.reserve_reached
    assert list(plan.reasons) == ["water-heater", "dryer", "medical", "fridge"]


def test_reserve_reached_needs_both_no_energy_and_no_power() -> None:
    assert not plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 0.0, 0.5).reserve_reached
    assert not plan_shedding(CIRCUITS, ALL_ON, 10.0, 0.0, 0.5, 0.0).reserve_reached


def test_a_circuit_already_off_is_not_counted_again() -> None:
    # the heater is already off and the measured 5.5 kW fits 7.2 kW: nothing changes, and the
    # heater does not come back (5.5 + 1.2 * 4.5 = 10.9 kW > 7.2 kW)
    current = on("fridge", "medical", "dryer")
    plan = plan_shedding(CIRCUITS, current, 5.5, 0.0, 7.2, 20.0)
    assert plan.on == current and plan.reasons == {}


def test_unknown_circuits_in_the_relay_state_count_as_on() -> None:
    plan = plan_shedding(CIRCUITS, {}, 10.0, 0.0, 7.2, 20.0)
    assert plan.on == on("fridge", "medical", "dryer")


# --- restoring --------------------------------------------------------------------------------


def test_restore_needs_the_typical_draw_to_fit_1_2_times() -> None:
    assert RESTORE_MARGIN == 1.2
    current = on("fridge", "medical")  # measured 3.0 kW: 2.5 base + 0.5 essentials
    # the dryer needs 3.0 + 1.2 * 2.5 = 6.0 kW of supply
    assert plan_shedding(CIRCUITS, current, 3.0, 0.0, 6.0, 20.0).on["dryer"]
    assert not plan_shedding(CIRCUITS, current, 3.0, 0.0, 5.99, 20.0).on["dryer"]
    # between 1.0 and 1.2 times it stays off: no flapping at the edge
    assert not plan_shedding(CIRCUITS, current, 3.0, 0.0, 5.6, 20.0).on["dryer"]


def test_restore_brings_essentials_back_first() -> None:
    # 2.9 kW of supply for a 2.5 kW base load: the fridge (2.5 + 0.36) fits, then the medical
    # circuit would need 2.8 + 0.24 = 3.04 kW
    plan = plan_shedding(CIRCUITS, ALL_OFF, 2.5, 0.0, 2.9, 20.0)
    assert plan.on == on("fridge")


def test_restore_takes_the_lowest_shed_priority_first_and_counts_what_it_restored() -> None:
    # 8.5 kW: the dryer (priority 2) first, 3.0 + 3.0 = 6.0 kW; then the heater needs
    # 5.5 + 5.4 = 10.9 kW, so it stays off although it alone would fit (3.0 + 5.4 = 8.4 kW)
    plan = plan_shedding(CIRCUITS, on("fridge", "medical"), 3.0, 0.0, 8.5, 20.0)
    assert plan.on == on("fridge", "medical", "dryer")


def test_restore_everything_when_supply_is_ample() -> None:
    plan = plan_shedding(CIRCUITS, ALL_OFF, 2.5, 0.0, 20.0, 20.0)
    assert plan.on == ALL_ON and plan.reasons == {}


def test_at_the_reserve_shed_essentials_stay_off_without_pv() -> None:
    plan = plan_shedding(CIRCUITS, on("dryer"), 5.0, 0.0, 0.0, 0.0)
    assert plan.on["fridge"] is False and plan.on["medical"] is False


def test_at_the_reserve_pv_restores_essentials_before_anything_else() -> None:
    plan = plan_shedding(CIRCUITS, ALL_OFF, 2.5, 6.5, 0.0, 0.0)
    assert plan.on["fridge"] and plan.on["medical"]


# --- storages ---------------------------------------------------------------------------------


def battery(soc: float = 5.0, available: bool = True) -> IslandStorage:
    return IslandStorage("battery", "battery", available, soc, 1.0, 10.0, 5.0, 5.0, 1.0)


def car(soc: float = 40.0, available: bool = True, max_discharge_kw: float = 7.2) -> IslandStorage:
    return IslandStorage("ev", "vehicle", available, soc, 18.0, 60.0, 7.2, max_discharge_kw, 0.9)


def test_discharge_power_is_the_limit_or_the_energy_above_the_floor_in_one_step() -> None:
    assert car().discharge_kw(DT_H) == 7.2
    # 0.01 kWh above the floor, 0.9 to AC, over 10 s: 0.009 * 360 = 3.24 kW
    assert car(18.01).discharge_kw(DT_H) == pytest.approx(3.24)
    assert car(17.0).discharge_kw(DT_H) == 0.0
    assert car(available=False).discharge_kw(DT_H) == 0.0


def test_usable_energy_is_above_the_floor_after_losses() -> None:
    assert car(28.0).usable_kwh() == pytest.approx(9.0)
    assert car(17.0).usable_kwh() == 0.0
    assert car(available=False).usable_kwh() == 0.0
    assert car(max_discharge_kw=0.0).usable_kwh() == 0.0


def test_a_deficit_is_covered_by_the_battery_first_then_the_car() -> None:
    # the car listed first: the battery still goes first
    assert island_setpoints([car(), battery()], 8.0, 1.0, DT_H) == {"ev": -2.0, "battery": -5.0}


def test_a_battery_near_its_floor_gives_what_it_holds_and_the_car_the_rest() -> None:
    # 0.01 kWh above 1.0 kWh over 10 s: 3.6 kW
    sp = island_setpoints([battery(1.01), car()], 7.0, 0.0, DT_H)
    assert sp == {"battery": pytest.approx(-3.6), "ev": pytest.approx(-3.4)}


def test_a_deficit_beyond_every_storage_is_left_to_shedding() -> None:
    assert island_setpoints([battery(), car()], 20.0, 0.0, DT_H) == {"battery": -5.0, "ev": -7.2}


def test_a_surplus_charges_the_battery_first_then_the_car() -> None:
    assert island_setpoints([battery(), car()], 2.0, 10.0, DT_H) == {"battery": 5.0, "ev": 3.0}


def test_a_nearly_full_battery_takes_only_its_room() -> None:
    # 0.01 kWh of room over 10 s: 3.6 kW
    sp = island_setpoints([battery(9.99), car()], 2.0, 10.0, DT_H)
    assert sp == {"battery": pytest.approx(3.6), "ev": pytest.approx(4.4)}


def test_a_surplus_beyond_every_storage_is_curtailed() -> None:
    assert island_setpoints([battery(), car()], 0.0, 20.0, DT_H) == {"battery": 5.0, "ev": 7.2}


def test_unavailable_storages_get_zero() -> None:
    sp = island_setpoints([battery(available=False), car()], 6.0, 0.0, DT_H)
    assert sp == {"battery": 0.0, "ev": -6.0}
    assert island_setpoints([car(available=False)], 0.0, 6.0, DT_H) == {"ev": 0.0}


def test_balanced_house_needs_nothing() -> None:
    assert island_setpoints([battery(), car()], 3.0, 3.0, DT_H) == {"battery": 0.0, "ev": 0.0}


def test_no_storage_at_home_keeps_the_essentials_for_pv() -> None:
    """With the car away and no battery, shedding an essential circuit saves no stored energy:
    it only turns away PV that covers part of it, so essentials stay on (non-essentials still go).
    """
    c = [
        CircuitInfo("fridge", 0.3, True),
        CircuitInfo("well-pump", 1.1, True),
        CircuitInfo("heater", 4.5, False, 4),
    ]
    on = {"fridge": True, "well-pump": True, "heater": True}
    away = plan_shedding(c, on, 5.9, 0.9, 0.0, 0.0, storage_present=False)
    assert away.on == {"fridge": True, "well-pump": True, "heater": False}
    assert not away.reserve_reached
    # with a storage at home, down to its floor, the essentials PV does not cover still go
    at_floor = plan_shedding(c, on, 5.9, 0.9, 0.0, 0.0)
    assert at_floor.reserve_reached
    assert not (at_floor.on["well-pump"] and at_floor.on["fridge"])


# --- below the mobility reserve, only the essentials ---------------------------------------------


def test_below_the_mobility_reserve_only_the_essentials_are_powered() -> None:
    """The car is at its mobility reserve (nothing above it for the whole house) but 8 kWh
    above its outage reserve: the heater and dryer go, the fridge and medical stay on, and the
    reserve is not "reached" (the essentials are not shed)."""
    p = plan_shedding(CIRCUITS, ALL_ON, 7.5, 0.0, 0.0, 0.0, True, 5.0, 8.0)
    assert p.on == on("fridge", "medical")
    assert not p.reserve_reached
    assert "mobility reserve" in p.reasons["water-heater"]
    # a shed heater does not come back on the energy kept for the next trip...
    back = plan_shedding(CIRCUITS, on("fridge", "medical"), 0.5, 0.0, 0.0, 0.0, True, 5.0, 8.0)
    assert back.on == on("fridge", "medical")
    # ...but does on PV (6 kW of PV fits the 2.5 kW dryer 1.2 times over the 0.5 kW essentials)
    sunny = plan_shedding(CIRCUITS, on("fridge", "medical"), 0.5, 6.0, 0.0, 0.0, True, 5.0, 8.0)
    assert sunny.on["dryer"]


def test_at_the_outage_reserve_the_essentials_go() -> None:
    p = plan_shedding(CIRCUITS, on("fridge", "medical"), 0.5, 0.0, 0.0, 0.0, True, 0.0, 0.0)
    assert p.reserve_reached and p.on == ALL_OFF


def test_island_storage_floors() -> None:
    """The essentials may use the car down to its outage reserve (10 kWh), the whole house
    down to its mobility reserve (18 kWh)."""
    car = IslandStorage("car", "vehicle", True, 20.0, 10.0, 60.0, 7.0, 7.0, 1.0, reserve_kwh=18.0)
    assert car.usable_kwh() == pytest.approx(10.0)
    assert car.usable_kwh(essential=False) == pytest.approx(2.0)
    assert car.discharge_kw(1.0, essential=False) == pytest.approx(2.0)
    assert car.discharge_kw(1.0) == pytest.approx(7.0)


def test_no_storage_at_home_the_essentials_come_back_with_the_sun() -> None:
    """The car left in the dark and the essentials were shed (nothing could power them); with
    the first PV they all come back at once (nothing stored to protect), not one by one as PV
    grows to 1.2 times each circuit's draw."""
    c = [CircuitInfo("fridge", 0.3, True), CircuitInfo("well-pump", 1.1, True)]
    both = {"fridge": True, "well-pump": True}
    dark = plan_shedding(c, both, 1.4, 0.0, 0.0, 0.0, False)
    assert dark.on == {"fridge": False, "well-pump": False} and dark.reserve_reached
    shed = {"fridge": False, "well-pump": False}
    assert plan_shedding(c, shed, 0.0, 0.1, 0.0, 0.0, False).on == both
    # with the car at home at its floor, the 1.2 margin still applies
    assert plan_shedding(c, shed, 0.0, 0.1, 0.0, 0.0, True).on == shed
