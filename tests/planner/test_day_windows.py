"""A car's warranty budget in the plan: one allowance per local day, as the controller counts it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.core.timegrid import TimeGrid
from voltbridge.planner.from_site import day_windows

BERLIN = ZoneInfo("Europe/Berlin")


def test_windows_split_at_local_midnight_through_a_dst_change() -> None:
    """From 20:00 on Sat 25 Oct 2025 for 48 h at hourly steps: 4 steps of Saturday, the 25 of
    Sunday (clocks go back at 03:00) and the 19 left of Monday; each step counts to the local
    day it starts in."""
    start = datetime(2025, 10, 25, 20, 0, tzinfo=BERLIN)
    grid = TimeGrid.regular(start, 48, 60)
    wins = day_windows(grid, "Europe/Berlin", 3.4, 1.25)
    assert [(w.first, w.stop) for w in wins] == [(0, 4), (4, 29), (29, 48)]
    assert [w.stored_kwh for w in wins] == [1.25, 3.4, 3.4]
    for w in wins:
        days = {t.astimezone(BERLIN).date() for t in grid.starts()[w.first : w.stop]}
        assert days == {w.at.date()}
        assert w.at.astimezone(BERLIN).time() == datetime.min.time()


@pytest.mark.parametrize(
    ("left", "first"), [(None, 3.4), (0.0, 0.0), (-0.2, 0.0), (9.0, 3.4), (2.0, 2.0)]
)
def test_today_gets_what_is_left(left: float | None, first: float) -> None:
    """Unknown: a whole day's allowance; never below 0 nor above a day's."""
    start = datetime(2025, 7, 12, 10, 7, tzinfo=BERLIN)
    grid = TimeGrid.regular(start, 30, 15, align=False)
    wins = day_windows(grid, "Europe/Berlin", 3.4, left)
    assert wins[0].stored_kwh == pytest.approx(first)
    assert all(w.stored_kwh == pytest.approx(3.4) for w in wins[1:])
    covered = np.concatenate([np.arange(w.first, w.stop) for w in wins])
    np.testing.assert_array_equal(covered, np.arange(grid.n))  # every step once, in order
    assert wins[1].at == datetime(2025, 7, 13, tzinfo=BERLIN) and len(wins) == 2


def test_a_grid_inside_one_day_is_one_window() -> None:
    grid = TimeGrid.regular(datetime(2025, 1, 6, 8, tzinfo=BERLIN), 4, 15)
    (w,) = day_windows(grid, "Europe/Berlin", 3.4, 1.0)
    assert (w.first, w.stop, w.stored_kwh) == (0, grid.n, 1.0)


def test_plan_request_hands_the_controllers_count_to_the_plan() -> None:
    """The sigen example's ID.4 (10,000 kWh over 8 years: 3.42 kWh a day)."""
    from pathlib import Path

    from voltbridge.config import load_site
    from voltbridge.forecast import forecast_site
    from voltbridge.planner.from_site import plan_request

    site = load_site(
        Path(__file__).parents[2] / "src/voltbridge/examples/sigen-dynamic-germany.toml"
    )
    grid = TimeGrid.regular(datetime(2025, 1, 6, 17, tzinfo=BERLIN), 24, 60)
    fc = forecast_site(site, grid)
    req = plan_request(site, grid, fc, budget_left_kwh={"id4": 0.5})
    car = next(s for s in req.storages if s.kind == "vehicle")
    daily = 10000.0 / 8 / 8760 * 24
    assert [w.stored_kwh for w in car.budget_windows] == pytest.approx([0.5, daily])
    assert car.discharge_budget_kwh is None
