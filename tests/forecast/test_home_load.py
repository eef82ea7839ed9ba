"""The load forecast at home: learned from the store's recorded load once a day, the site's
profile where nothing was recorded, and a store that cannot be read never stops planning."""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.control.plan_source import planning_grid
from voltbridge.forecast.home_load import LearnedHomeLoad
from voltbridge.forecast.site import expected_load_kw

SITE = load_site(Path(__file__).parents[2] / "examples" / "leaf-uk-v2g.toml")
NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


class Recorded:
    """A stand-in for ``Store.history`` at hourly resolution: ``kw(hour of day)`` every hour."""

    def __init__(self, kw: Any, days: int) -> None:
        self.kw, self.days, self.calls = kw, days, 0

    def __call__(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        assert resolution_s == 3600
        self.calls += 1
        first = max(start, end - timedelta(days=self.days))
        hours = int((end - first).total_seconds() // 3600)
        return [
            {"at": (first + timedelta(hours=h)).isoformat(), "load_kw": self.kw(h % 24)}
            for h in range(hours)
        ]


def test_history_shapes_the_forecast_and_it_is_refitted_once_a_day() -> None:
    evening = Recorded(lambda h: 2.0 if 18 <= h < 22 else 0.2, days=14)
    home = LearnedHomeLoad(SITE, evening)
    for minutes in (15, 30, 45, 0):
        grid = planning_grid(int((NOW + timedelta(minutes=minutes)).timestamp()))
        load = home.load_kw(grid)
    assert evening.calls == 1 and home.fits == 1
    hours = np.array([datetime.fromtimestamp(s, UTC).hour for s in grid.starts_s])
    busy = (hours >= 18) & (hours < 22) & (grid.dt_h == 1.0)
    assert np.allclose(load[busy], 2.0, atol=0.1)
    assert np.allclose(load[~busy & (grid.dt_h == 1.0)], 0.2, atol=0.1)
    home.load_kw(planning_grid(int((NOW + timedelta(days=1)).timestamp())))
    assert evening.calls == 2


def test_without_history_the_site_profile_is_used() -> None:
    grid = planning_grid(int(NOW.timestamp()))
    fresh = LearnedHomeLoad(SITE, Recorded(lambda h: 1.0, days=0))
    assert np.array_equal(fresh.load_kw(grid), expected_load_kw(SITE, grid))
    assert fresh.fits == 0


def test_an_unreadable_store_falls_back_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    def broken(start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        raise OSError("disk gone")

    grid = planning_grid(int(NOW.timestamp()))
    with caplog.at_level(logging.WARNING):
        load = LearnedHomeLoad(SITE, broken).load_kw(grid)
    assert np.array_equal(load, expected_load_kw(SITE, grid))
    assert "disk gone" in caplog.text


def test_a_bug_reading_the_history_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def buggy(start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        raise KeyError("load_kw")  # a row without the field the reader expects

    grid = planning_grid(int(NOW.timestamp()))
    with caplog.at_level(logging.WARNING):
        load = LearnedHomeLoad(SITE, buggy).load_kw(grid)
    assert np.array_equal(load, expected_load_kw(SITE, grid))  # planning goes on
    bug = [r for r in caplog.records if "a bug" in r.getMessage()]
    assert bug and bug[0].exc_info is not None and bug[0].levelno == logging.ERROR
