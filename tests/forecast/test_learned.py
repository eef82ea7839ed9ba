"""The load forecast learned from history beats the seasonal-naive baseline on a varying home."""

import numpy as np
import pytest

from voltbridge.forecast.household import household_year_kw
from voltbridge.forecast.learned import learned_load_forecast_kw


def test_learned_forecast_beats_seasonal_naive_on_a_varying_home() -> None:
    temps = 10 - 9 * np.cos(2 * np.pi * (np.arange(365) - 15) / 365)  # a European year [°C]
    hourly = household_year_kw(2026, 4000.0, 21, temps).reshape(-1, 4).mean(axis=1)
    learned_err, naive_err = [], []
    for day in range(35, 200, 5):  # a day-ahead forecast every fifth day, spring to summer
        t = day * 24
        actual = hourly[t : t + 24]
        forecast = learned_load_forecast_kw(hourly[:t], 48)[:24]
        assert forecast.shape == (24,) and forecast.min() >= 0
        learned_err.append(forecast - actual)
        naive_err.append(hourly[t - 24 : t] - actual)  # yesterday, hour by hour
    learned = np.concatenate(learned_err)
    naive = np.concatenate(naive_err)
    assert np.abs(learned).mean() < 0.9 * np.abs(naive).mean()
    assert abs(learned.mean()) < 0.05  # [kW]: not biased by more than a few percent of the mean


def test_short_history_still_forecasts_and_none_is_refused() -> None:
    day = np.concatenate([np.full(8, 0.2), np.full(10, 0.6), np.full(6, 1.2)])
    one = learned_load_forecast_kw(day, 30)
    assert np.allclose(one[:24], day) and np.allclose(one[24:], day[:6])
    assert learned_load_forecast_kw(np.tile(day, 9), 24) == pytest.approx(day, abs=0.05)
    with pytest.raises(ValueError, match="at least one day"):
        learned_load_forecast_kw(day[:20], 24)
