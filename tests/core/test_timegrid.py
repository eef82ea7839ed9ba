"""Time grid and state-of-charge helpers against hand-computed values."""

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from voltbridge.core import TimeGrid, step_means
from voltbridge.core.units import soc_trajectory_kwh


def test_regular_grid_covers_horizon_with_short_first_step() -> None:
    g = TimeGrid.regular(datetime(2026, 3, 1, 10, 7, tzinfo=UTC), 48, 15)
    assert g.dt_h[0] == pytest.approx(8 / 60)
    assert np.allclose(g.dt_h[1:-1], 0.25)
    assert g.dt_h.sum() == pytest.approx(48)
    assert g.end - g.start == timedelta(hours=48)


def test_aligned_start_gives_equal_steps() -> None:
    g = TimeGrid.regular(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), 2, 15)
    assert g.n == 8 and np.allclose(g.dt_h, 0.25)


def test_grid_is_in_utc_whatever_the_input_offset() -> None:
    g = TimeGrid.regular(datetime(2026, 7, 1, 16, 0, tzinfo=timezone(timedelta(hours=2))), 1, 60)
    assert g.start == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        TimeGrid.regular(datetime(2026, 1, 1), 1, 15)


def test_edges_must_increase() -> None:
    with pytest.raises(ValueError):
        TimeGrid(np.array([0, 0, 10]))


def test_step_and_edge_lookup() -> None:
    g = TimeGrid.regular(datetime(2026, 1, 1, tzinfo=UTC), 1, 15)
    assert g.step_at(datetime(2026, 1, 1, 0, 20, tzinfo=UTC)) == 1
    assert g.edge_index(datetime(2026, 1, 1, 0, 30, tzinfo=UTC)) == 2
    assert g.edge_index(datetime(2025, 12, 31, tzinfo=UTC)) == 0


def test_step_means_time_weighted() -> None:
    # samples 0-1 h at 2 kW, 1-2 h at 4 kW; one step 0.5-1.5 h -> mean 3 kW
    g = TimeGrid(np.array([1800, 5400]))
    assert step_means(np.array([0, 3600, 7200]), np.array([2.0, 4.0]), g)[0] == pytest.approx(3.0)


def test_soc_trajectory_by_hand() -> None:
    # +10 kW for 0.5 h at 90 %: +4.5 kWh; -5 kW for 1 h at 95 %: -5.263 kWh; 2 kWh driven
    soc = soc_trajectory_kwh(
        20.0,
        np.array([10.0, -5.0, 0.0]),
        np.array([0.5, 1.0, 1.0]),
        0.9,
        0.95,
        np.array([0.0, 0.0, 2.0]),
    )
    assert soc.tolist() == pytest.approx([20.0, 24.5, 24.5 - 5 / 0.95, 22.5 - 5 / 0.95])
