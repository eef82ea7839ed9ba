"""Dynamic price series: step function, retail formula, coverage errors, the shipped EPEX data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.tariffs import Tariff, TariffError, import_prices, load_shipped

CSV = "start,price\n2024-01-01T00:00Z,0.10\n2024-01-01T01:00+00:00,0.20\n2024-01-01T02:00Z,-0.05\n"


def grid(start: str, hours: float, step_minutes: int, align: bool = True) -> TimeGrid:
    return TimeGrid.regular(datetime.fromisoformat(start), hours, step_minutes, align=align)


def series_tariff(tmp_path: Path, text: str = CSV, **series: float) -> Tariff:
    (tmp_path / "prices.csv").write_text(text)
    table = {
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "import": {"series": {"file": "prices.csv", "adder": 0.1, "multiplier": 2.0, **series}},
    }
    return Tariff.model_validate(table).resolve_paths(tmp_path)


def test_each_price_holds_until_the_next_row(tmp_path: Path) -> None:
    prices = import_prices(series_tariff(tmp_path), grid("2024-01-01T00:00+00:00", 3, 30))
    # retail = (price + 0.1) * 2
    assert prices == pytest.approx([0.4, 0.4, 0.6, 0.6, 0.1, 0.1])


def test_step_straddling_two_rows_gets_the_mean(tmp_path: Path) -> None:
    prices = import_prices(series_tariff(tmp_path), grid("2024-01-01T00:30+00:00", 2, 60, False))
    assert prices == pytest.approx([0.5, 0.35])


def test_last_row_lasts_the_usual_spacing_and_no_more(tmp_path: Path) -> None:
    tariff = series_tariff(tmp_path)
    assert import_prices(tariff, grid("2024-01-01T02:00+00:00", 1, 15)) == pytest.approx([0.1] * 4)
    with pytest.raises(TariffError) as caught:
        import_prices(tariff, grid("2024-01-01T02:00+00:00", 2, 15))
    message = str(caught.value)
    assert "prices.csv covers 2024-01-01 01:00 to 2024-01-01 04:00 (Europe/Berlin)" in message
    assert "also needs 2024-01-01 04:00 to 2024-01-01 05:00" in message
    assert "fallback_rate" in message


def test_missing_dates_before_the_series_are_named(tmp_path: Path) -> None:
    with pytest.raises(TariffError, match="needs 2023-12-31 00:00 to 2024-01-01 01:00"):
        import_prices(series_tariff(tmp_path), grid("2023-12-31T00:00+01:00", 30, 60))


def test_fallback_rate_fills_outside_the_series(tmp_path: Path) -> None:
    tariff = series_tariff(tmp_path, fallback_rate=0.3)
    prices = import_prices(tariff, grid("2023-12-31T23:00+00:00", 5, 60))
    assert prices == pytest.approx([0.3, 0.4, 0.6, 0.1, 0.3])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("when,price\n", "'start' and 'price'"),
        ("start,price\n2024-01-01T00:00,0.1\n2024-01-01T01:00,0.1\n", ":2: start"),
        ("start,price\n2024-01-01T00:00Z,abc\n2024-01-01T01:00Z,0.1\n", ":2: price 'abc'"),
        (
            "start,price\n2024-01-01T01:00Z,0.1\n2024-01-01T00:00Z,0.1\n",
            ":3: 'start' must increase",
        ),
        ("start,price\n2024-01-01T01:00Z,0.1\n", "at least two rows"),
    ],
)
def test_unusable_csv_is_reported_with_its_line(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(TariffError, match=words):
        import_prices(series_tariff(tmp_path, text), grid("2024-01-01T00:00+00:00", 1, 60))


def test_missing_file_points_at_resolve_paths() -> None:
    tariff = Tariff.model_validate({"currency": "EUR", "import": {"series": {"file": "nope.csv"}}})
    with pytest.raises(TariffError, match="resolve_paths"):
        import_prices(tariff, grid("2024-01-01T00:00+00:00", 1, 60))


def test_edited_csv_is_read_again(tmp_path: Path) -> None:
    tariff = series_tariff(tmp_path)
    one_hour = grid("2024-01-01T00:00+00:00", 1, 60)
    assert import_prices(tariff, one_hour) == pytest.approx([0.4])
    (tmp_path / "prices.csv").write_text(CSV.replace("0.10", "0.150"))
    assert import_prices(tariff, one_hour) == pytest.approx([0.5])


def test_shipped_epex_series_covers_two_weeks_across_the_spring_clock_change() -> None:
    epex = load_shipped("epex-de-2024-spring")
    two_weeks = grid("2024-03-25T00:00+01:00", 335, 60)  # 31 March has 23 hours
    prices = import_prices(epex, two_weeks)
    assert two_weeks.n == 335
    # 6 April 2024 13:00-14:00 CEST: -59.92 EUR/MWh -> (-0.05992 + 0.17754) * 1.19
    saturday = two_weeks.step_at(datetime.fromisoformat("2024-04-06T13:00+02:00"))
    assert prices[saturday] == pytest.approx(0.1399678)
    # 31 March: 01:00 CET is followed by 03:00 CEST (64.98 EUR/MWh)
    after_jump = two_weeks.step_at(datetime.fromisoformat("2024-03-31T03:00+02:00"))
    assert after_jump == two_weeks.step_at(datetime.fromisoformat("2024-03-31T01:00+01:00")) + 1
    assert prices[after_jump] == pytest.approx((0.06498 + 0.17754) * 1.19)
    wholesale = prices / 1.19 - 0.17754
    assert np.count_nonzero(wholesale < -1e-9) == 22


def test_shipped_epex_series_names_the_missing_local_dates() -> None:
    with pytest.raises(TariffError, match="needs 2024-04-08 00:00 to 2024-04-09 00:00"):
        import_prices(load_shipped("epex-de-2024-spring"), grid("2024-04-07T00:00+02:00", 48, 60))
