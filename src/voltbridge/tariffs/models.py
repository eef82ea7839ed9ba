"""Pydantic models of a tariff, written as the ``[tariff]`` table of a site TOML file.

A site file either names a shipped tariff (``[tariff] name = "pge-ev2a"``, optionally overriding
fields) or writes one inline. Times of day are local wall-clock times in the tariff's timezone.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from voltbridge.tariffs import registry

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "hol")
"""Day kinds in the order the price tables use; ``hol`` is a public holiday (when configured)."""

_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "all": tuple(range(8)),
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6, 7),
}
_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def _clock(value: Any) -> str:
    if isinstance(value, time):
        if value.second or value.microsecond:
            raise ValueError(f"{value.isoformat()} has seconds; tariff times are whole minutes")
        return f"{value.hour:02d}:{value.minute:02d}"
    if not isinstance(value, str):
        raise ValueError('a time of day must be written "HH:MM", e.g. "16:00"')
    match = _CLOCK.match(value)
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (99, 99)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(
            f'{value!r} is not a time of day; write "HH:MM" with hours 00-23 and minutes 00-59 '
            '("24:00" is allowed as an end)'
        )
    return value


def _month_day(value: Any) -> str:
    problem = ValueError(f'{value!r} is not a date of the year; write "MM-DD", e.g. "06-01"')
    match = _MONTH_DAY.match(value) if isinstance(value, str) else None
    if match is None:
        raise problem
    try:
        date(2024, int(match.group(1)), int(match.group(2)))
    except ValueError:
        raise problem from None
    return match.group(0)


def _days(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str) and value in _DAY_GROUPS:
        return value
    if isinstance(value, list | tuple) and value and all(day in DAY_NAMES for day in value):
        return tuple(value)
    raise ValueError(
        f'{value!r} is not a day selection; use "all", "weekdays", "weekends" '
        f"or a list of {', '.join(DAY_NAMES)}"
    )


Rate = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A price [currency/kWh]; TOML numbers only (a quoted "0.3" is refused)."""
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Month = Annotated[int, Field(strict=True, ge=1, le=12)]
ClockTime = Annotated[str, BeforeValidator(_clock)]
MonthDay = Annotated[str, BeforeValidator(_month_day)]
DaySpec = Annotated[str | tuple[str, ...], BeforeValidator(_days)]


def clock_seconds(clock: str) -> int:
    """Seconds after local midnight [s] of a validated ``"HH:MM"`` time.

    >>> clock_seconds("24:00"), clock_seconds("07:30")
    (86400, 27000)
    """
    hours, minutes = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _fmt_clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeWindow(_Model):
    """A daily window of local wall-clock time on some days; it may wrap midnight (21:00-07:00)."""

    days: DaySpec = "all"
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _check_window(self) -> Self:
        if self.start == "24:00":
            raise ValueError('start "24:00" is the end of the day; start the window at "00:00"')
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start}; a window needs a length "
                '(write start = "00:00", end = "24:00" for the whole day)'
            )
        return self

    def day_kinds(self) -> tuple[int, ...]:
        """Day kinds the window applies to (0 = Monday ... 6 = Sunday, 7 = holiday)."""
        if isinstance(self.days, str):
            return _DAY_GROUPS[self.days]
        return tuple(sorted({DAY_NAMES.index(day) for day in self.days}))

    def ranges_s(self) -> list[tuple[int, int]]:
        """The window as ranges of seconds after local midnight [s], split at midnight."""
        start, end = clock_seconds(self.start), clock_seconds(self.end)
        return [(start, end)] if start < end else [(start, 86400), (0, end)]


class Period(TimeWindow):
    """A named time-of-use period with its rate [currency/kWh]."""

    name: str
    rate: Rate


class Season(_Model):
    """Part of the year (whole months, or ``start``/``end`` as "MM-DD", inclusive, may wrap)."""

    name: str
    months: tuple[Month, ...] | None = None
    start: MonthDay | None = None
    end: MonthDay | None = None
    periods: tuple[Period, ...] = ()
    default_rate: Rate | None = None

    @model_validator(mode="after")
    def _check_season(self) -> Self:
        by_months = self.months is not None
        if by_months == (self.start is not None or self.end is not None):
            raise ValueError(f"season {self.name!r}: give either months or start and end")
        if not by_months and (self.start is None or self.end is None):
            raise ValueError(f'season {self.name!r}: give both start and end ("MM-DD")')
        if self.months is not None and len(set(self.months)) != len(self.months):
            raise ValueError(f"season {self.name!r}: a month is listed twice")
        if self.months == ():
            raise ValueError(f"season {self.name!r}: months is empty")
        for i, first in enumerate(self.periods):
            for second in self.periods[i + 1 :]:
                _check_overlap(self.name, first, second)
        return self

    def month_days(self) -> list[tuple[int, int]]:
        """Every (month, day of month) in the season, 29 February included."""
        if self.months is not None:
            return [
                (month, day)
                for month in self.months
                for day in range(1, calendar.monthrange(2024, month)[1] + 1)
            ]
        assert self.start is not None and self.end is not None
        first = date(2024, *map(int, self.start.split("-")))
        last = date(2024, *map(int, self.end.split("-")))
        # Count on the 366 days of a leap year, wrapping past 31 December.
        new_year = date(2024, 1, 1)
        first_index = (first - new_year).days
        count = (last - first).days % 366 + 1
        days = (new_year + timedelta(days=(first_index + i) % 366) for i in range(count))
        return [(day.month, day.day) for day in days]


def _check_overlap(season: str, first: Period, second: Period) -> None:
    shared = sorted(set(first.day_kinds()) & set(second.day_kinds()))
    if not shared:
        return
    for a_lo, a_hi in first.ranges_s():
        for b_lo, b_hi in second.ranges_s():
            lo, hi = max(a_lo, b_lo), min(a_hi, b_hi)
            if lo < hi:
                days = ",".join(DAY_NAMES[kind] for kind in shared)
                raise ValueError(
                    f"season {season!r}: periods {first.name!r} ({first.start}-{first.end}) and "
                    f"{second.name!r} ({second.start}-{second.end}) overlap on {days} "
                    f"{_fmt_clock(lo)}-{_fmt_clock(hi)}; each moment needs exactly one rate"
                )


class PriceSeries(_Model):
    """A dynamic price series: a CSV with ``start`` (ISO 8601 with offset) and ``price`` columns.

    The retail price is ``(price + adder) * multiplier`` [currency/kWh]: ``adder`` holds network
    fees and levies [currency/kWh], ``multiplier`` VAT (1.19 for 19 %). Each row's price holds
    until the next row's start; the last row lasts the series' most common spacing. A file whose
    name ends in ``.gz`` is read gzip-compressed (a year of hourly prices is 270 kB as text).

    Outside the series' coverage, ``fallback_rate`` stands in; or, with ``repeat = true``, the
    series repeats with a period of whole weeks (the most recent whole weeks it covers), so that a
    simulation of another year runs on real prices with weekdays and, roughly, seasons kept.
    """

    file: Path
    adder: Annotated[float, Field(strict=True, allow_inf_nan=False)] = 0.0
    multiplier: Annotated[float, Field(strict=True, allow_inf_nan=False)] = 1.0
    fallback_rate: Rate | None = None
    repeat: bool = False

    @model_validator(mode="after")
    def _one_way_outside(self) -> Self:
        if self.repeat and self.fallback_rate is not None:
            raise ValueError(
                "give fallback_rate or repeat = true, not both: each says what applies outside "
                "the series"
            )
        return self


class PriceSchedule(_Model):
    """Import or export prices: exactly one of a flat ``rate``, TOU ``periods`` (one all-year
    season) or ``seasons``, or a ``series``. A bare number in TOML means a flat rate."""

    rate: Rate | None = None
    periods: tuple[Period, ...] | None = None
    seasons: tuple[Season, ...] | None = None
    series: PriceSeries | None = None
    default_rate: Rate | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_is_flat(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"rate": data}
        return data

    @model_validator(mode="after")
    def _check_schedule(self) -> Self:
        given = [
            key
            for key in ("rate", "periods", "seasons", "series")
            if getattr(self, key) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of rate, periods, seasons or series"
                + (f" (got {' and '.join(given)})" if given else "")
            )
        if self.periods == () or self.seasons == ():
            raise ValueError(f"{given[0]} is empty; list at least one")
        if self.default_rate is not None and self.periods is None and self.seasons is None:
            raise ValueError("default_rate only applies to time-of-use periods or seasons")
        if self.kind == "tou":
            from voltbridge.tariffs.tou import compile_schedule  # here: tou imports this module

            compile_schedule(self)
        return self

    @property
    def kind(self) -> Literal["flat", "tou", "series"]:
        """``"flat"``, ``"tou"`` or ``"series"``."""
        if self.rate is not None:
            return "flat"
        return "series" if self.series is not None else "tou"

    def all_seasons(self) -> tuple[Season, ...]:
        """The seasons, with shorthand ``periods`` as one season covering the whole year."""
        if self.periods is not None:
            return (Season(name="all year", months=tuple(range(1, 13)), periods=self.periods),)
        return self.seasons or ()


class DemandCharge(_Model):
    """A charge on the month's highest average import power [currency/kW] in a window."""

    name: str = "demand"
    rate_per_kw: NonNegative
    period: TimeWindow | None = None
    months: tuple[Month, ...] | None = None
    billing: Literal["monthly"] = "monthly"


def _flat_zero() -> PriceSchedule:
    return PriceSchedule(rate=0.0)


class Tariff(_Model):
    """A retail electricity tariff: import and export prices, fixed and demand charges.

    Attributes:
        name: a shipped tariff's id (its fields are the base the others override) or a label.
        currency: ISO 4217 code; every price is in this currency.
        timezone: IANA zone the TOU periods are written in; ``None`` until ``with_timezone``.
        holidays: country code of the ``holidays`` package; those days are day kind ``hol``.
        import_: import prices [currency/kWh] (TOML key ``import``).
        export: export credit [currency/kWh], 0 unless given.
        fixed_per_day: fixed charge [currency/day].
        demand_charges: charges on monthly peak import power [currency/kW].
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str | None = None
    title: str | None = None
    source: str | None = None
    effective: date | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    timezone: str | None = None
    holidays: str | None = None
    holiday_subdivision: str | None = None
    import_: PriceSchedule = Field(alias="import")
    export: PriceSchedule = Field(default_factory=_flat_zero)
    fixed_per_day: NonNegative = 0.0
    demand_charges: tuple[DemandCharge, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _expand_shipped(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return data
        name = data["name"]
        if name in registry.shipped_ids():
            return registry.merge_override(registry.shipped_table(name), data)
        if "import" not in data and "import_" not in data:
            raise ValueError(
                f"{name!r} is not a shipped tariff (shipped: {', '.join(registry.shipped_ids())}); "
                "name one of those or write the tariff inline with an [tariff.import] table"
            )
        return data

    @model_validator(mode="after")
    def _check_tariff(self) -> Self:
        if self.timezone is not None:
            check_timezone(self.timezone)
        if self.holiday_subdivision is not None and self.holidays is None:
            raise ValueError("holiday_subdivision needs holidays (a country code) too")
        if self.holidays is not None:
            try:
                holidays_pkg.country_holidays(self.holidays, subdiv=self.holiday_subdivision)
            except NotImplementedError:
                raise ValueError(
                    f"holidays {self.holidays!r} with subdivision {self.holiday_subdivision!r} is "
                    "not known to the holidays package; use a country code such as US, GB or DE"
                ) from None
            from voltbridge.tariffs.tou import (
                check_holidays_covered,
            )  # here: tou imports this module

            for label, schedule in (("import", self.import_), ("export", self.export)):
                if schedule.kind == "tou":
                    check_holidays_covered(schedule, label)
        return self

    def with_timezone(self, tz: str) -> Tariff:
        """This tariff with ``timezone`` set to the site's ``tz`` if the tariff names none.

        A tariff that names its own zone keeps it: its periods are the utility's local time.
        """
        if self.timezone is not None:
            return self
        check_timezone(tz)
        return self.model_copy(update={"timezone": tz})

    def resolve_paths(self, base_dir: Path) -> Tariff:
        """A copy whose relative series CSV paths are made absolute against ``base_dir``."""
        update = {
            field: _resolved(schedule, base_dir)
            for field, schedule in (("import_", self.import_), ("export", self.export))
        }
        return self.model_copy(update=update)


def _resolved(schedule: PriceSchedule, base_dir: Path) -> PriceSchedule:
    series = schedule.series
    if series is None or series.file.is_absolute():
        return schedule
    absolute = series.model_copy(update={"file": (base_dir / series.file).resolve()})
    return schedule.model_copy(update={"series": absolute})


def check_timezone(tz: str) -> None:
    """Raise ``ValueError`` unless ``tz`` is a known IANA timezone (e.g. ``Europe/London``)."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{tz!r} is not an IANA timezone such as 'America/Los_Angeles'") from None
