"""What a plan's stored energy is worth at its horizon's end on a day-ahead tariff: the typical
(time-weighted median) hour of the horizon's last day, as AC energy; the cheapest hour elsewhere."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.control.plan_source import planning_grid
from voltbridge.core.timegrid import TimeGrid
from voltbridge.forecast import forecast_site
from voltbridge.planner.from_site import plan_request
from voltbridge.planner.model import terminal_value, typical_stored_value

EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"


def test_typical_value_is_the_time_weighted_median_of_the_last_day() -> None:
    """Four 15-minute steps at 0.90 then 24 hourly steps: the quarter hours weigh one hour in
    all, so the median of the last day is the 12th-13th cheapest hour, not pulled up by them."""
    start = 1_750_000_000
    edges = np.concatenate(
        (start + 900 * np.arange(4), start + 3600 + 3600 * np.arange(25))
    ).astype(np.int64)
    grid = TimeGrid(edges)
    hourly = np.array([0.10 + 0.01 * k for k in range(24)])  # 0.10 .. 0.33
    prices = np.concatenate((np.full(4, 0.90), hourly))
    # last 24 h: the 24 hourly steps; sorted, half the hours (12 h) reach 0.21
    assert typical_stored_value(prices, grid, 0.9) == pytest.approx(0.9 * 0.21)
    assert typical_stored_value(-prices, grid, 0.9) == 0.0  # never worth less than nothing


def test_day_ahead_plans_value_stored_energy_at_the_typical_hour_time_of_use_at_the_cheapest() -> (
    None
):
    start = datetime(2024, 4, 2, 10, 0, tzinfo=UTC)
    grid = planning_grid(int(start.timestamp()), 48.0, 4.0)
    dynamic = load_site(EXAMPLES / "sigen-dynamic-germany.toml")
    req = plan_request(dynamic, grid, forecast_site(dynamic, grid))
    last = grid.edges_s[1:] > grid.edges_s[-1] - 24 * 3600
    # the last day is hourly: 24 equal weights, half of them reached at the 12th cheapest hour
    ranked = np.sort(req.price_import[last])
    assert ranked.size == 24
    eta = min(s.eta_discharge for s in req.storages)
    assert req.terminal_value_per_kwh is not None
    assert req.terminal_value_per_kwh == pytest.approx(eta * ranked[11])
    cheapest = terminal_value(dataclasses.replace(req, terminal_value_per_kwh=None))
    assert cheapest == pytest.approx(ranked[0]) and req.terminal_value_per_kwh > cheapest
    tou = load_site(EXAMPLES / "ev9-california.toml")
    assert plan_request(tou, grid, forecast_site(tou, grid)).terminal_value_per_kwh is None
