"""The ``[tariff]`` table: inline tariffs, shipped references, and errors that name the field."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from voltbridge.core import TimeGrid
from voltbridge.tariffs import Tariff, import_prices, load_shipped

INLINE_TOU = """
[tariff]
currency = "USD"
timezone = "America/Los_Angeles"
holidays = "US"
fixed_per_day = 0.5

[[tariff.import.seasons]]
name = "summer"
months = [6, 7, 8, 9]
default_rate = 0.30
periods = [
  { name = "peak", days = "weekdays", start = "16:00", end = "21:00", rate = 0.55 },
  { name = "night", start = 23:00:00, end = "07:00", rate = 0.15 },
]

[[tariff.import.seasons]]
name = "winter"
start = "10-01"
end = "05-31"
default_rate = 0.28

[tariff.export]
rate = 0.05

[[tariff.demand_charges]]
name = "peak demand"
rate_per_kw = 12.5
period = { days = "weekdays", start = "16:00", end = "21:00" }
"""


def tariff_table(text: str) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads(text)["tariff"]
    return table


def errors(table: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        Tariff.model_validate(table)
    return [(tuple(error["loc"]), error["msg"]) for error in caught.value.errors()]


def test_inline_tou_tariff_from_toml() -> None:
    tariff = Tariff.model_validate(tariff_table(INLINE_TOU))
    assert tariff.import_.kind == "tou"
    assert tariff.export.rate == 0.05
    assert tariff.demand_charges[0].rate_per_kw == 12.5
    assert tariff.import_.seasons is not None
    assert tariff.import_.seasons[0].periods[1].start == "23:00"  # a TOML time is accepted


def test_season_written_as_month_days_wraps_the_new_year() -> None:
    tariff = Tariff.model_validate(tariff_table(INLINE_TOU))
    january = TimeGrid.regular(datetime(2026, 1, 15, 20, tzinfo=UTC), 1, 60)
    assert import_prices(tariff, january).tolist() == [0.28]


def test_reference_to_a_shipped_tariff_with_an_override() -> None:
    table = tariff_table('[tariff]\nname = "pge-ev2a"\nfixed_per_day = 0.19713\n')
    tariff = Tariff.model_validate(table)
    assert tariff.fixed_per_day == 0.19713
    assert tariff.import_ == load_shipped("pge-ev2a").import_
    assert tariff.source is not None and "EV2" in tariff.source


def test_override_of_a_different_kind_replaces_the_shipped_schedule() -> None:
    tariff = Tariff.model_validate({"name": "octopus-flux", "import": {"rate": 0.25}})
    assert tariff.import_.kind == "flat"
    assert tariff.export.kind == "tou"


def test_unknown_shipped_name_lists_the_known_ones() -> None:
    ((_, msg),) = errors({"name": "pge-ev9"})
    assert "pge-ev2a" in msg and "inline" in msg


def test_a_quoted_rate_is_refused_at_its_field() -> None:
    table = tariff_table(INLINE_TOU.replace("rate = 0.55", 'rate = "0.55"'))
    assert errors(table) == [
        (("import", "seasons", 0, "periods", 0, "rate"), "Input should be a valid number")
    ]


def test_hour_25_is_refused_at_its_field() -> None:
    ((loc, msg),) = errors(
        tariff_table(INLINE_TOU.replace('end = "21:00", rate = 0.55', 'end = "25:00", rate = 0.55'))
    )
    assert loc == ("import", "seasons", 0, "periods", 0, "end")
    assert "'25:00' is not a time of day" in msg


def test_24_00_is_an_end_only() -> None:
    window = {"name": "all", "start": "24:00", "end": "06:00", "rate": 0.1}
    ((loc, msg),) = errors({"currency": "EUR", "import": {"periods": [window]}})
    assert loc == ("import", "periods", 0)
    assert "00:00" in msg


def test_overlapping_periods_name_both() -> None:
    table = tariff_table(INLINE_TOU.replace("start = 23:00:00", 'start = "20:00"'))
    ((loc, msg),) = errors(table)
    assert loc == ("import", "seasons", 0)
    assert "'peak' (16:00-21:00) and 'night' (20:00-07:00)" in msg
    assert "mon,tue,wed,thu,fri 20:00-21:00" in msg


def test_month_in_two_seasons_is_an_error() -> None:
    ((loc, msg),) = errors(tariff_table(INLINE_TOU.replace('start = "10-01"', 'start = "09-01"')))
    assert loc == ("import",)
    assert "'summer' and 'winter' both cover 09-01" in msg


def test_uncovered_time_without_a_default_rate_is_an_error() -> None:
    table = tariff_table(INLINE_TOU.replace("default_rate = 0.30\n", ""))
    ((loc, msg),) = errors(table)
    assert loc == ("import",)
    assert "season 'summer' has no rate on mon 07:00-16:00" in msg


def test_months_outside_every_season_need_a_schedule_default() -> None:
    table = tariff_table(INLINE_TOU.replace('end = "05-31"', 'end = "04-30"'))
    ((_, msg),) = errors(table)
    assert "in no season" in msg
    table["import"]["default_rate"] = 0.2
    may = TimeGrid.regular(datetime(2026, 5, 15, 20, tzinfo=UTC), 1, 60)
    assert import_prices(Tariff.model_validate(table), may).tolist() == [0.2]


def test_holidays_need_a_rate_when_only_weekdays_are_priced() -> None:
    table = {
        "currency": "USD",
        "holidays": "US",
        "import": {
            "periods": [
                {"name": "wk", "days": "weekdays", "start": "00:00", "end": "24:00", "rate": 0.3},
                {
                    "name": "we",
                    "days": ["sat", "sun"],
                    "start": "00:00",
                    "end": "24:00",
                    "rate": 0.2,
                },
            ]
        },
    }
    ((_, msg),) = errors(table)
    assert "import: season 'all year' has no rate on hol 00:00-24:00" in msg
    del table["holidays"]
    Tariff.model_validate(table)  # without holidays there is no 'hol' day to price


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ({"timezone": "Mars/Olympus"}, (), "not an IANA timezone"),
        ({"holidays": "XX"}, (), "not known to the holidays package"),
        ({"currency": "usd"}, ("currency",), "pattern"),
        ({"tarif": 1}, ("tarif",), "Extra inputs"),
        ({"import": {"rate": 0.2, "series": {"file": "x.csv"}}}, ("import",), "exactly one"),
        ({"import": {"periods": []}}, ("import",), "periods is empty"),
        ({"import": {"rate": 0.2, "default_rate": 0.1}}, ("import",), "default_rate only"),
        ({"holiday_subdivision": "CA"}, (), "needs holidays"),
        ({"fixed_per_day": -1.0}, ("fixed_per_day",), "greater than or equal"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], where: tuple[str, ...], words: str) -> None:
    table = {"currency": "USD", "import": 0.2, **change}
    ((loc, msg),) = errors(table)
    assert loc == where
    assert words in msg


def test_bad_day_selection_is_named() -> None:
    period = {"name": "p", "days": "weekday", "start": "07:00", "end": "19:00", "rate": 0.3}
    ((loc, msg),) = errors(
        {"currency": "EUR", "import": {"periods": [period], "default_rate": 0.1}}
    )
    assert loc == ("import", "periods", 0, "days")
    assert '"weekdays"' in msg


def test_resolve_paths_makes_series_files_absolute(tmp_path: Path) -> None:
    tariff = Tariff.model_validate({"currency": "EUR", "import": {"series": {"file": "p.csv"}}})
    resolved = tariff.resolve_paths(tmp_path)
    assert resolved.import_.series is not None
    assert resolved.import_.series.file == (tmp_path / "p.csv").resolve()
    assert tariff.import_.series is not None and tariff.import_.series.file == Path("p.csv")


def test_export_defaults_to_zero_and_a_bare_number_is_flat() -> None:
    tariff = Tariff.model_validate({"currency": "GBP", "import": 0.245})
    assert (tariff.import_.rate, tariff.export.rate) == (0.245, 0.0)
