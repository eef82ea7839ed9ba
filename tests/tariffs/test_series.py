"""Dynamic price series: step function, retail formula, coverage errors, the shipped EPEX data."""

from __future__ import annotations

import gzip
import itertools
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


def test_gzipped_csv_reads_like_plain(tmp_path: Path) -> None:
    (tmp_path / "prices.csv.gz").write_bytes(gzip.compress(CSV.encode()))
    table = {"currency": "EUR", "import": {"series": {"file": "prices.csv.gz"}}}
    tariff = Tariff.model_validate(table).resolve_paths(tmp_path)
    assert import_prices(tariff, grid("2024-01-01T00:00+00:00", 3, 60)) == pytest.approx(
        [0.1, 0.2, -0.05]
    )


WEEK_CSV = "start,price\n" + "".join(
    f"2024-01-{1 + h // 24:02d}T{h % 24:02d}:00Z,{h / 1000:.3f}\n" for h in range(8 * 24 + 5)
)  # 8 days and 5 hours, hour h costs h/1000: one whole week repeats, the last one


def test_repeat_replays_the_last_whole_weeks_outside_the_series(tmp_path: Path) -> None:
    tariff = series_tariff(tmp_path, WEEK_CSV, adder=0.0, multiplier=1.0, repeat=True)
    # inside: the rows themselves, also the first day, which is not in the repeated week
    inside = import_prices(tariff, grid("2024-01-01T00:00+00:00", 3, 60))
    assert inside == pytest.approx([0.0, 0.001, 0.002])
    # the repeated week is hours 29..196 (the series ends after hour 196): hour 197 is hour 29,
    # so is hour 197 + 168; before the start, hour -163 (25 Dec 05:00) is -163 + 2 * 168 = 173
    after = import_prices(tariff, grid("2024-01-09T05:00+00:00", 2, 60))
    assert after == pytest.approx([0.029, 0.030])
    later = import_prices(tariff, grid("2024-01-16T05:00+00:00", 1, 60))
    assert later == pytest.approx([0.029])
    before = import_prices(tariff, grid("2023-12-25T05:00+00:00", 1, 60))
    assert before == pytest.approx([0.173])
    # a step straddling the series' end averages its last hour and the first repeated one
    edge = import_prices(tariff, grid("2024-01-09T04:30+00:00", 1, 60, align=False))
    assert edge == pytest.approx([(0.196 + 0.029) / 2])


def test_repeat_and_fallback_rate_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        series_tariff(tmp_path, repeat=True, fallback_rate=0.3)


def test_repeat_needs_a_whole_week(tmp_path: Path) -> None:
    tariff = series_tariff(tmp_path, repeat=True)
    with pytest.raises(TariffError, match="at least one week"):
        import_prices(tariff, grid("2024-01-02T00:00+00:00", 1, 60))


def test_shipped_two_years_are_real_hourly_prices_in_local_time() -> None:
    """Checked against the file independently of the loader: row counts, clock changes, and
    the two records (-500 EUR/MWh on 2 July 2023, 936.28 on 12 December 2024)."""
    path = Path(__file__).parents[2] / "src/voltbridge/tariffs/data/epex-de-lu-2023-2024.csv.gz"
    rows = gzip.decompress(path.read_bytes()).decode().splitlines()[1:]
    assert len(rows) == 8760 + 8784
    starts = [datetime.fromisoformat(r.split(",")[0]) for r in rows]
    gaps = {b.timestamp() - a.timestamp() for a, b in itertools.pairwise(starts)}
    assert gaps == {3600.0}  # every UTC hour once, in order
    by_day: dict[str, int] = {}
    for r in rows:
        by_day[r[:10]] = by_day.get(r[:10], 0) + 1
    assert by_day["2024-03-31"] == 23 and by_day["2024-10-27"] == 25
    assert by_day["2023-03-26"] == 23 and by_day["2023-10-29"] == 25
    year = load_shipped("epex-de-2023-2024")
    hours = grid("2024-01-01T00:00+01:00", 8784, 60)
    wholesale = import_prices(year, hours) / 1.19 - 0.17754
    assert wholesale.max() == pytest.approx(0.93628)
    assert 78.0 < wholesale.mean() * 1000 < 79.0
    assert np.count_nonzero(wholesale < -1e-9) == 457
    july = import_prices(year, grid("2023-07-02T14:00+02:00", 1, 60)) / 1.19 - 0.17754
    assert july == pytest.approx([-0.5])


def test_shipped_two_years_run_any_year_without_a_flat_rate() -> None:
    year = load_shipped("epex-de-2023-2024")
    hours = grid("2026-01-01T00:00+01:00", 8760, 60)
    wholesale = import_prices(year, hours) / 1.19 - 0.17754
    assert np.unique(np.round(wholesale, 5)).size > 4000  # real, varying prices all year
    assert np.count_nonzero(wholesale < -1e-9) > 300
