"""Time-of-use prices on 15-minute, hourly and irregular grids across DST, weekends, holidays."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.tariffs import Tariff, TariffError, import_prices, load_shipped

# A weekday-only peak starting at half past, so an hourly step can straddle it.
HALF_PAST = {
    "currency": "USD",
    "timezone": "America/New_York",
    "holidays": "US",
    "import": {
        "default_rate": 0.10,
        "periods": [
            {"name": "peak", "days": "weekdays", "start": "16:30", "end": "20:30", "rate": 0.40},
            {"name": "night", "start": "23:00", "end": "06:00", "rate": 0.05},
        ],
    },
}


def grid(start: str, hours: float, step_minutes: int, align: bool = True) -> TimeGrid:
    """A grid starting at a local ISO time with its UTC offset written out."""
    return TimeGrid.regular(datetime.fromisoformat(start), hours, step_minutes, align=align)


def half_past() -> Tariff:
    return Tariff.model_validate(HALF_PAST)


def test_quarter_hour_grid_is_exact_at_a_half_past_boundary() -> None:
    prices = import_prices(half_past(), grid("2025-07-07T16:00-04:00", 1, 15))  # a Monday
    assert prices.tolist() == [0.10, 0.10, 0.40, 0.40]


def test_hourly_step_straddling_the_boundary_gets_the_time_weighted_mean() -> None:
    prices = import_prices(half_past(), grid("2025-07-07T16:00-04:00", 3, 60))
    assert prices == pytest.approx([0.25, 0.40, 0.40])


def test_shorter_first_step_is_weighted_by_its_own_length() -> None:
    # 16:10-17:00 local: 20 minutes at 0.10 then 30 minutes at 0.40.
    prices = import_prices(half_past(), grid("2025-07-07T16:10-04:00", 1.5, 60))
    assert prices == pytest.approx([(20 * 0.10 + 30 * 0.40) / 50, 0.40])
    quarter = import_prices(half_past(), grid("2025-07-07T16:20-04:00", 0.5, 15))
    assert quarter.tolist() == [0.10, 0.40, 0.40]  # 16:20-16:30, 16:30-16:45, 16:45-16:50


def test_weekday_period_skips_weekends_and_public_holidays() -> None:
    tariff = half_past()
    at_six_pm = {
        "2025-07-03T18:00-04:00": 0.40,  # Thursday
        "2025-07-04T18:00-04:00": 0.10,  # Friday, Independence Day
        "2025-07-05T18:00-04:00": 0.10,  # Saturday
        "2025-07-07T18:00-04:00": 0.40,  # Monday
    }
    for start, expected in at_six_pm.items():
        assert import_prices(tariff, grid(start, 1, 60)).tolist() == [expected], start


def test_period_wrapping_midnight() -> None:
    prices = import_prices(half_past(), grid("2025-07-05T22:00-04:00", 10, 60))
    assert prices.tolist() == [0.10] + [0.05] * 7 + [0.10] * 2  # 22:00 ... 07:00


def test_ev2a_spring_forward_day_has_23_hours_and_five_peak_hours() -> None:
    # 8 March 2026, Los Angeles: 02:00 PST jumps to 03:00 PDT.
    day = grid("2026-03-08T00:00-08:00", 23, 15)
    prices = import_prices(load_shipped("pge-ev2a"), day)
    assert day.n == 92
    assert np.count_nonzero(prices == 0.41099) == 20  # winter peak 16:00-21:00, 5 h
    assert np.count_nonzero(prices == 0.39428) == 16  # partial peak 15-16 and 21-24, 4 h
    assert np.count_nonzero(prices == 0.22558) == 56  # off-peak 00:00-15:00 less the lost hour
    peak_start = datetime.fromisoformat("2026-03-08T16:00-07:00")
    assert prices[day.step_at(peak_start)] == 0.41099
    assert prices[day.step_at(peak_start) - 1] == 0.39428


def test_ev2a_fall_back_day_prices_the_repeated_hour_by_its_wall_time() -> None:
    # 1 November 2026: 01:00-02:00 happens twice (PDT, then PST).
    day = grid("2026-11-01T00:00-07:00", 25, 60)
    prices = import_prices(load_shipped("pge-ev2a"), day)
    assert day.n == 25
    assert prices.tolist() == [0.22558] * 16 + [0.39428] + [0.41099] * 5 + [0.39428] * 3


def test_ev2a_summer_and_winter_seasons() -> None:
    ev2a = load_shipped("pge-ev2a")
    assert import_prices(ev2a, grid("2026-05-31T17:00-07:00", 1, 60)).tolist() == [0.41099]
    assert import_prices(ev2a, grid("2026-06-01T17:00-07:00", 1, 60)).tolist() == [0.53809]
    assert import_prices(ev2a, grid("2026-09-30T15:00-07:00", 1, 60)).tolist() == [0.42760]
    assert import_prices(ev2a, grid("2026-10-01T15:00-07:00", 1, 60)).tolist() == [0.39428]


def test_uk_clocks_going_forward_keep_the_flux_bands_on_local_time() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST, so the local day is 00:00Z-23:00Z.
    flux = load_shipped("octopus-flux")
    day = grid("2026-03-29T00:00+00:00", 23, 30)
    prices = import_prices(flux, day)
    assert prices[:2].tolist() == [0.3352, 0.3352]  # 00:00-01:00 GMT, evening band
    assert prices[2:8].tolist() == [0.2011] * 6  # 02:00-05:00 BST = 01:00-04:00 UTC
    assert np.count_nonzero(prices == 0.4693) == 6  # 16:00-19:00 BST
    assert prices[day.step_at(datetime.fromisoformat("2026-03-29T16:00+01:00"))] == 0.4693


def test_uk_clocks_going_back_repeat_an_evening_band_hour() -> None:
    # 25 October 2026: 02:00 BST becomes 01:00 GMT; the local day lasts 25 hours.
    day = grid("2026-10-25T00:00+01:00", 25, 60)
    prices = import_prices(load_shipped("octopus-flux"), day)
    assert (
        prices.tolist() == [0.3352] * 3 + [0.2011] * 3 + [0.3352] * 11 + [0.4693] * 3 + [0.3352] * 5
    )


def test_tou_without_timezone_says_how_to_set_one() -> None:
    table = {key: value for key, value in HALF_PAST.items() if key != "timezone"}
    tariff = Tariff.model_validate(table)
    with pytest.raises(TariffError, match="with_timezone"):
        import_prices(tariff, grid("2025-07-07T16:00-04:00", 1, 15))
    located = tariff.with_timezone("America/New_York")
    assert import_prices(located, grid("2025-07-07T16:00-04:00", 1, 15))[-1] == 0.40
    assert located.with_timezone("Europe/Paris").timezone == "America/New_York"
