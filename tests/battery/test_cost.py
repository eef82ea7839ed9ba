"""Wear prices against hand-computed values."""

import pytest

from voltbridge.battery import wear_cost


def test_throughput_cost_is_pack_cost_over_cycle_life() -> None:
    # NMC: 2000 equivalent full cycles; 130 per kWh of capacity -> 0.065 per kWh discharged
    assert wear_cost(77.0, "nmc", "moderate").throughput_per_kwh == pytest.approx(0.065)
    # LFP lasts twice as long -> half the cost
    assert wear_cost(77.0, "lfp", "moderate").throughput_per_kwh == pytest.approx(0.0325)


def test_care_scales_wear() -> None:
    off = wear_cost(60.0, "nmc", "off")
    strict = wear_cost(60.0, "nmc", "strict")
    assert off.throughput_per_kwh == 0 and off.calendar_per_kwh_h == 0
    assert strict.throughput_per_kwh == pytest.approx(2.5 * 0.065)


def test_calendar_cost_by_hand() -> None:
    # 2 %/year extra fade at full, threshold 60 %: 130 * 0.02 / (0.4 * 8760) per kWh·h
    w = wear_cost(100.0, "nmc", "moderate")
    assert w.calendar_per_kwh_h == pytest.approx(130 * 0.02 / (0.4 * 8760))
    assert w.calendar_threshold_kwh == pytest.approx(60.0)


def test_unknown_care_is_refused() -> None:
    with pytest.raises(ValueError):
        wear_cost(60.0, "nmc", "gentle")
