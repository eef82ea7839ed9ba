"""Backup and range estimates against hand-computed cases."""

import numpy as np
import pytest

from voltbridge.control.estimates import MAX_BACKUP_H, backup_hours, range_km


def test_no_pv_is_energy_over_load() -> None:
    assert backup_hours(12.0, 0.8) == pytest.approx(15.0)


def test_pv_covers_the_day_and_refills() -> None:
    # 2 kWh usable, 1 kW essential. Hour 1: no PV, 1 kWh left. Hours 2-3: 3 kW PV, +2 kWh each at
    # 90 % -> 1 + 1.8 + 1.8 = 4.6 kWh, capped by room 3 kWh -> capacity 5 kWh, so 4.6 kWh.
    # Then no PV: 4.6 h more. Total 3 + 4.6 = 7.6 h.
    pv = np.array([0.0, 3.0, 3.0])
    dt = np.ones(3)
    assert backup_hours(2.0, 1.0, pv, dt, room_kwh=3.0, eta_charge=0.9) == pytest.approx(7.6)


def test_runs_out_within_the_forecast() -> None:
    # 1.5 kWh at 2 kW with a 0.5 kW PV: 1.5 / 1.5 = 1 h.
    assert backup_hours(1.5, 2.0, np.array([0.5, 0.5]), np.ones(2)) == pytest.approx(1.0)


def test_capped_and_zero_load() -> None:
    assert backup_hours(1e6, 0.1) == MAX_BACKUP_H
    assert backup_hours(0.0, 0.0) == MAX_BACKUP_H


def test_range() -> None:
    assert range_km(50.0, 0.25, floor_kwh=10.0) == pytest.approx(160.0)
    with pytest.raises(ValueError):
        range_km(10.0, 0.0)
