"""The learned clear-sky index: its blend worked by hand, and it beats yesterday's PV."""

import numpy as np
import pytest

from voltbridge.forecast.pv_learned import learned_clearsky_index, persistence_pv_kw

# A clear-sky day [kW]: dark 0-6 and 18-24, 2 kW from 6 to 18.
CLEAR_DAY = np.r_[np.zeros(6), np.full(12, 2.0), np.zeros(6)]


def test_no_history_is_the_typical_index_or_the_clear_sky() -> None:
    assert np.allclose(learned_clearsky_index(np.zeros(0), np.zeros(0), 0.6), 0.6)
    assert np.allclose(learned_clearsky_index(np.zeros(0), np.zeros(0), None), 1.0)


def test_one_day_blends_yesterday_with_the_typical_month() -> None:
    # Yesterday delivered 0.4 of the clear sky in every hour; the month's typical index is 0.8.
    # Long-run: 1 day of 0.4 trusted 1/(1+3), so 0.25*0.4 + 0.75*0.8 = 0.7. The hour shape is
    # flat (every hour at the same ratio). Blend: 0.2*0.4 + 0.5*0.4 + 0.3*0.7 = 0.49.
    k = learned_clearsky_index(CLEAR_DAY * 0.4, CLEAR_DAY, 0.8)
    assert k[6:18] == pytest.approx(np.full(12, 0.49))


def test_the_hourly_part_and_the_hour_shape() -> None:
    # Three days at 0.5 in the morning (6-12) and 1.0 in the afternoon (12-18), no typical index.
    pv_day = CLEAR_DAY * np.r_[np.zeros(6), np.full(6, 0.5), np.full(6, 1.0), np.zeros(6)]
    pv, clear = np.tile(pv_day, 3), np.tile(CLEAR_DAY, 3)
    k = learned_clearsky_index(pv, clear, None)
    # k_day = k_long = 0.75; shape: 0.5/0.75 and 1/0.75 trusted 3/(3+7) = 0.3.
    morning_shape = 0.3 * (0.5 / 0.75) + 0.7
    afternoon_shape = 0.3 * (1.0 / 0.75) + 0.7
    assert k[8] == pytest.approx(morning_shape * (0.2 * 0.5 + 0.5 * 0.75 + 0.3 * 0.75))
    assert k[14] == pytest.approx(afternoon_shape * (0.2 * 1.0 + 0.5 * 0.75 + 0.3 * 0.75))


def test_history_that_is_not_whole_days_is_refused() -> None:
    with pytest.raises(ValueError, match="whole days"):
        learned_clearsky_index(np.zeros(30), np.zeros(30), 0.5)


def test_beats_yesterdays_pv_on_persistent_changeable_weather() -> None:
    # Daily clear-sky index: an AR(1) around 0.6 (weather persists, then returns), 200 days.
    rng = np.random.default_rng(3)
    k = np.empty(200)
    k[0] = 0.6
    for d in range(1, 200):
        k[d] = np.clip(0.6 + 0.6 * (k[d - 1] - 0.6) + rng.normal(0, 0.2), 0.05, 1.1)
    clear = np.tile(CLEAR_DAY, 200)
    pv = clear * np.repeat(k, 24) * rng.uniform(0.9, 1.1, clear.size)
    learned, persistence = [], []
    for d in range(30, 200):
        actual = pv[d * 24 : (d + 1) * 24]
        index = learned_clearsky_index(pv[: d * 24], clear[: d * 24], 0.6)
        learned.append(CLEAR_DAY * index - actual)
        persistence.append(persistence_pv_kw(pv[: d * 24]) - actual)
    learned_mae = np.abs(np.concatenate(learned)).mean()
    persistence_mae = np.abs(np.concatenate(persistence)).mean()
    assert learned_mae < 0.95 * persistence_mae  # measured 0.168 against 0.186 kW
