"""Wear prices against hand-computed values from the calibration table, and the planner's linear
wear against the cell models' fade: they must agree in direction (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voltbridge.battery import capacity_fade, wear_cost
from voltbridge.battery.calibrate import calibrate

TABLE = json.loads(
    (Path(__file__).parents[2] / "src/voltbridge/battery/wear_table.json").read_text()
)


def row(chem: str, temperature_c: float) -> tuple[float, float]:
    for t, life, cal in TABLE["rows"][chem]:
        if t == temperature_c:
            return life, cal
    raise KeyError(temperature_c)


def test_throughput_cost_is_pack_cost_over_the_calibrated_cycle_life() -> None:
    life, _ = row("nmc", 20.0)
    assert wear_cost(77.0, "nmc", "moderate", 130.0, 20.0).throughput_per_kwh == pytest.approx(
        130.0 / life
    )
    # between two rows of the table, the cycle life is interpolated linearly
    mid = (row("lfp", 20.0)[0] + row("lfp", 25.0)[0]) / 2
    assert wear_cost(77.0, "LFP", "moderate", 130.0, 22.5).throughput_per_kwh == pytest.approx(
        130.0 / mid
    )
    # outside the table, its end rows hold
    assert wear_cost(77.0, "nmc", temperature_c=-20.0).throughput_per_kwh == pytest.approx(
        130.0 / row("nmc", 0.0)[0]
    )


def test_care_scales_wear() -> None:
    off = wear_cost(60.0, "nmc", "off")
    strict = wear_cost(60.0, "nmc", "strict")
    moderate = wear_cost(60.0, "nmc", "moderate")
    assert off.throughput_per_kwh == 0 and off.calendar_per_kwh_h == 0
    assert strict.throughput_per_kwh == pytest.approx(2.5 * moderate.throughput_per_kwh)


def test_calendar_cost_by_hand() -> None:
    # extra fade at full over 30 %, valued so that losing 20 % of capacity uses the whole pack,
    # spread over the 70 % of capacity above the threshold and the 8760 h of a year
    _, cal = row("nmc", 25.0)
    w = wear_cost(100.0, "nmc", "moderate", 130.0, 25.0)
    assert w.calendar_per_kwh_h == pytest.approx(130 * cal / 0.2 / (0.7 * 8760))
    assert w.calendar_threshold_kwh == pytest.approx(30.0)


def test_unknown_care_and_chemistry_fall_back_or_are_refused() -> None:
    with pytest.raises(ValueError):
        wear_cost(60.0, "nmc", "gentle")
    assert wear_cost(60.0, "sodium-ion").throughput_per_kwh == pytest.approx(
        wear_cost(60.0, "nmc").throughput_per_kwh
    )


HOURS = np.arange(0.0, 365 * 86_400.0 + 1.0, 3_600.0)


def swing(low: float, high: float) -> np.ndarray:
    phase = (HOURS / 86_400.0) % 1.0
    return high - (high - low) * np.where(phase < 0.5, 2.0 * phase, 2.0 - 2.0 * phase)


def linear_cost(soc: np.ndarray, chem: str, capacity_kwh: float = 80.0) -> float:
    w = wear_cost(capacity_kwh, chem, "moderate", 130.0, 20.0)
    energy = soc * capacity_kwh
    discharged = float(np.maximum(-np.diff(energy), 0.0).sum())
    above_h = float(np.maximum(energy[1:] - w.calendar_threshold_kwh, 0.0).sum())  # 1 h steps
    return w.throughput_per_kwh * discharged + w.calendar_per_kwh_h * above_h


def fade_cost(soc: np.ndarray, chem: str, capacity_kwh: float = 80.0) -> float:
    fade = capacity_fade(HOURS, soc, 20.0, chem, years=10).fade_pct_after_years
    assert fade is not None  # a ten-year life average, as the prices are calibrated
    return fade / 100 / 10 / 0.2 * 130.0 * capacity_kwh


@pytest.mark.parametrize(
    ("chem", "parked", "v2h"),
    [
        ("nmc", 0.95, (0.4, 0.9)),
        ("nmc", 0.8, (0.3, 0.8)),
        ("lfp", 0.95, (0.4, 0.9)),
        ("lfp", 0.8, (0.3, 0.8)),
        ("nca", 0.95, (0.4, 0.9)),
    ],
)
def test_planner_wear_and_cell_fade_agree_in_direction(
    chem: str, parked: float, v2h: tuple[float, float]
) -> None:
    """A car parked at its charge target against one giving the house a daily evening swing:
    the planner's linear wear must move the way the cell model's fade does (before the
    calibration, V2H cost more wear in the plan while the cells faded less)."""
    held, cycled = np.full(HOURS.size, parked), swing(*v2h)
    linear = linear_cost(cycled, chem) - linear_cost(held, chem)
    cells = fade_cost(cycled, chem) - fade_cost(held, chem)
    assert np.sign(linear) == np.sign(cells)


@pytest.mark.slow
def test_the_shipped_table_is_what_the_cell_models_give() -> None:
    c = calibrate("nmc", 20.0)
    life, cal = row("nmc", 20.0)
    assert c.cycle_life_efc == pytest.approx(life, abs=0.1)
    assert c.calendar_extra_fade_per_year == pytest.approx(cal, abs=1e-7)
