"""Bills worked out by hand: import, export credit, prorated fixed charge, monthly demand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.tariffs import Tariff, TariffError, bill, demand_windows, load_shipped

SMALL: dict[str, Any] = {
    "currency": "EUR",
    "timezone": "UTC",
    "import": {
        "default_rate": 0.20,
        "periods": [{"name": "noon", "start": "12:00", "end": "13:00", "rate": 0.50}],
    },
    "export": 0.05,
    "fixed_per_day": 1.20,
    "demand_charges": [
        {"name": "midday", "rate_per_kw": 10.0, "period": {"start": "12:00", "end": "14:00"}}
    ],
}


def test_tiny_bill_by_hand() -> None:
    grid = TimeGrid.regular(datetime(2026, 1, 5, 11, tzinfo=UTC), 3, 60)
    result = bill(Tariff.model_validate(SMALL), grid, [2.0, 3.0, -1.0])
    assert result.energy_import == pytest.approx(2 * 0.20 + 3 * 0.50)  # 1.9
    assert result.energy_export_credit == pytest.approx(1 * 0.05)
    assert result.fixed == pytest.approx(1.20 * 3 / 24)  # 0.15
    assert result.demand == pytest.approx(10.0 * 3.0)  # peak import 12:00-14:00 is 3 kW
    assert result.total == pytest.approx(1.9 - 0.05 + 0.15 + 30.0)
    assert (result.import_kwh, result.export_kwh) == (5.0, 1.0)
    assert result.currency == "EUR"


def test_demand_is_charged_per_calendar_month() -> None:
    grid = TimeGrid.regular(datetime(2026, 1, 31, 12, tzinfo=UTC), 24 + 2, 60)
    power = np.zeros(grid.n)
    power[0], power[1] = 4.0, 7.0  # 31 January 12:00 and 13:00
    power[24], power[25] = 2.0, 1.0  # 1 February 12:00 and 13:00
    windows = demand_windows(Tariff.model_validate(SMALL), grid)
    assert [w.label for w in windows] == ["midday 2026-01", "midday 2026-02"]
    assert [int(w.mask.sum()) for w in windows] == [2, 2]
    assert bill(Tariff.model_validate(SMALL), grid, power).demand == pytest.approx(10 * 7 + 10 * 2)


def test_demand_window_includes_a_step_partly_inside() -> None:
    grid = TimeGrid(np.array([0, 1, 2, 3], dtype=np.int64) * 3600 + 1767614400)  # 2026-01-05 12:00Z
    shifted = {
        **SMALL,
        "demand_charges": [{"rate_per_kw": 1.0, "period": {"start": "12:30", "end": "14:00"}}],
    }
    (window,) = demand_windows(Tariff.model_validate(shifted), grid)
    assert window.mask.tolist() == [True, True, False]


def test_export_never_counts_as_demand() -> None:
    grid = TimeGrid.regular(datetime(2026, 1, 5, 12, tzinfo=UTC), 2, 60)
    assert bill(Tariff.model_validate(SMALL), grid, [-5.0, -2.0]).demand == 0.0


def test_fixed_charge_counts_a_23_hour_day_as_one_day() -> None:
    ev2a = load_shipped("pge-ev2a")
    day = TimeGrid.regular(datetime.fromisoformat("2026-03-08T00:00-08:00"), 23, 15)
    result = bill(ev2a, day, np.zeros(day.n))
    assert result.fixed == pytest.approx(0.79343)
    assert result.total == pytest.approx(0.79343)
    half = TimeGrid.regular(datetime.fromisoformat("2026-03-09T00:00-07:00"), 12, 60)
    assert bill(ev2a, half, np.zeros(half.n)).fixed == pytest.approx(0.79343 / 2)


def test_power_series_must_match_the_grid() -> None:
    grid = TimeGrid.regular(datetime(2026, 1, 5, 11, tzinfo=UTC), 3, 60)
    with pytest.raises(TariffError, match="3 steps"):
        bill(Tariff.model_validate(SMALL), grid, [1.0, 2.0])
    with pytest.raises(TariffError, match="NaN"):
        bill(Tariff.model_validate(SMALL), grid, [1.0, np.nan, 2.0])
