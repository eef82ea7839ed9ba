"""Pydantic models of a utility program, as shipped in ``programs/data/*.toml`` or written inline.

A program says what a household is paid for: energy delivered in events (against a baseline),
capacity offered per month, a monthly credit with conditions; when events may come (local hours,
months, how often, with how much notice); and what skipping one costs. Figures are in the
program's currency; times of day are local wall-clock times in the program's timezone (the
site's when the program gives none).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voltbridge.programs.events import EVENT_KINDS, ProgramEventKind

Money = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
"""An amount [currency] or a rate [currency/kWh, currency/kW]; TOML numbers only."""
Hours = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Month = Annotated[int, Field(strict=True, ge=1, le=12)]
Hour = Annotated[int, Field(strict=True, ge=0, le=24)]
Count = Annotated[int, Field(strict=True, ge=0)]

BaselineRule = Literal["zero-export", "10-of-10", "5-of-10"]
"""How delivered energy is measured (see ``voltbridge.programs.baseline``):

- ``zero-export``: against a fixed baseline of 0 kW net import: what counts is the export.
- ``10-of-10``: against the mean of the same window on the 10 most recent eligible days.
- ``5-of-10``: against the mean of the 5 of those 10 days with the highest use in the window.
"""

BASELINE_RULES: tuple[BaselineRule, ...] = ("zero-export", "10-of-10", "5-of-10")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Baseline(_Model):
    """The rule that turns metered net import into delivered energy."""

    rule: BaselineRule
    same_day_adjustment_cap_pct: Annotated[float, Field(strict=True, ge=0, le=100)] | None = None
    """Scale the day-matching baseline by the ratio of actual to baseline use in the hours
    before the event, the ratio held within 100 +/- this [%]; None: no adjustment."""
    adjustment_hours: Annotated[int, Field(strict=True, ge=1, le=6)] = 3
    """How many hours before the event (ending one hour before it) the adjustment looks at [h]."""
    weekend_days: Annotated[int, Field(strict=True, ge=1, le=10)] = 4
    """Eligible weekend/holiday days averaged for an event on a weekend or holiday."""

    @model_validator(mode="after")
    def _adjustment_needs_days(self) -> Self:
        if self.rule == "zero-export" and self.same_day_adjustment_cap_pct is not None:
            raise ValueError(
                "same_day_adjustment_cap_pct: the zero-export baseline is fixed; "
                "a same-day adjustment applies to 10-of-10 and 5-of-10 only"
            )
        return self


class EventPayment(_Model):
    """Payment for energy delivered in events."""

    per_kwh: Money
    """Paid per kWh delivered against the baseline [currency/kWh]."""
    baseline: Baseline
    kind: ProgramEventKind = "reduce"
    """What events ask for: ``reduce`` (draw less than the baseline, export counts too) or
    ``export`` (deliver to the grid)."""
    floor_at_zero: bool = True
    """An event whose delivered energy comes out negative counts as 0 (no claw-back)."""
    cap_at_requested: bool = False
    """Only delivery up to the event's requested kW is paid, step by step."""

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in EVENT_KINDS:
            raise ValueError(f"kind {value!r} is not one of {EVENT_KINDS}")
        return value


class CapacityPayment(_Model):
    """Payment per kW of capacity offered, per month of the capacity season."""

    per_kw_month: Money
    """[currency/(kW month)]"""
    months: tuple[Month, ...] = tuple(range(1, 13))
    """Months in which capacity is paid."""


class MonthlyCredit(_Model):
    """A fixed credit per month, earned when the car was plugged in long enough."""

    amount: Money
    """Credit per month [currency]; a part month earns its share of days."""
    min_plugged_in_h_per_day: Annotated[float, Field(strict=True, ge=0, le=24)] = 0.0
    """Hours a day a car must be plugged in for the day to qualify [h]."""
    min_qualifying_days_pct: Annotated[float, Field(strict=True, ge=0, le=100)] = 100.0
    """Share of the month's days that must qualify for the credit [%]."""


class EventWindow(_Model):
    """When events may be called: local hours of the day and months of the year."""

    start_hour: Hour
    """First local hour an event may cover [h after midnight]."""
    end_hour: Hour
    """Local hour by which every event has ended [h after midnight]."""
    months: tuple[Month, ...] = tuple(range(1, 13))
    """Months of the event season."""
    min_event_h: Hours = 1.0
    """Shortest event [h]."""
    max_event_h: Hours | None = None
    """Longest event [h]; None: the whole window."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end_hour <= self.start_hour:
            raise ValueError(
                f"end_hour ({self.end_hour}) must be after start_hour ({self.start_hour}); "
                "an event window does not wrap midnight"
            )
        if not 0 < self.min_event_h <= self.longest_h:
            raise ValueError(
                f"min_event_h ({self.min_event_h}) must be above 0 and at most "
                f"max_event_h ({self.longest_h})"
            )
        if self.longest_h > self.end_hour - self.start_hour:
            raise ValueError(
                f"max_event_h ({self.max_event_h}) is longer than the window "
                f"{self.start_hour}:00-{self.end_hour}:00"
            )
        if len(set(self.months)) != len(self.months) or not self.months:
            raise ValueError("months must list each month once, at least one")
        return self

    @property
    def longest_h(self) -> float:
        """The longest event: ``max_event_h``, else the whole window [h]."""
        if self.max_event_h is None:
            return float(self.end_hour - self.start_hour)
        return self.max_event_h


class Limits(_Model):
    """How much a program may ask of a household."""

    max_events_per_year: Count | None = None
    max_hours_per_year: Hours | None = None
    min_notice_h: Hours = 0.0
    """Least notice the utility gives before an event [h]."""
    typical_events_per_year: Annotated[float, Field(strict=True, ge=0)] | None = None
    """How many events a year the simulator draws on average (an assumption, not a rule)."""


class OptOut(_Model):
    """What skipping an event or falling short costs."""

    allowed: bool = True
    """Whether the household may skip an event; a skip is settled with the penalties either way
    (what else a refused skip costs is the utility's rule, shown to the household)."""
    penalty_per_event: Money = 0.0
    """Charged for each skipped event [currency]."""
    penalty_per_kwh_short: Money = 0.0
    """Charged per kWh of the requested energy not delivered, skipped or not [currency/kWh]."""


class Source(_Model):
    """Where figures come from: a document, when it was read, what it says."""

    url: str = Field(min_length=8)
    accessed: date
    says: str = Field(min_length=3)
    verified: bool
    """False when the figure could not be checked against the document itself."""
    figures: tuple[str, ...] = Field(min_length=1)
    """Dotted paths of the figures it supports, e.g. ``event.per_kwh``."""


class Program(_Model):
    """A utility or aggregator program a household can take part in."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str = ""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """ISO 4217 code of every amount in the program."""
    timezone: str | None = None
    """IANA name for the local hours; None: the site's."""
    region: str = ""
    event: EventPayment | None = None
    capacity: CapacityPayment | None = None
    credit: MonthlyCredit | None = None
    window: EventWindow | None = None
    limits: Limits = Field(default_factory=Limits)
    opt_out: OptOut = Field(default_factory=OptOut)
    notes: str = ""
    sources: tuple[Source, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as 'America/Los_Angeles'"
            ) from None
        return value

    @model_validator(mode="after")
    def _pays_something(self) -> Self:
        if self.event is None and self.capacity is None and self.credit is None:
            raise ValueError(
                f"program {self.id!r} pays nothing: give at least one of event, capacity, credit"
            )
        if self.event is not None and self.window is None:
            raise ValueError(
                f"program {self.id!r}: window is missing; an event payment needs its hours"
            )
        return self

    def zone(self, site_timezone: str) -> ZoneInfo:
        """The timezone of the program's local hours: its own, else the site's."""
        return ZoneInfo(self.timezone or site_timezone)
