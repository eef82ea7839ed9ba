"""The few settings a household changes while the controller runs, validated at the edge.

Types are strict (pydantic strict mode): ``true`` is not 1.0 h, ``"yes"`` is not a boolean,
``"5"`` is not a number and a number is not a date, so a client's slip is refused with the field
named instead of being read as something nobody meant. A change is then checked against the
present (a departure inside ``DEPARTURE_WINDOW_H``) and against the other settings it must agree
with (a target below the mobility reserve, an outage reserve above it), naming both fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from voltbridge.core.status import Mode
from voltbridge.core.timegrid import ensure_utc

DEPARTURE_WINDOW_H = 7 * 24.0
"""A departure set by the household must lie after now and at most this far ahead [h].

After now: a departure in the past cannot be planned for and would be dropped without a word.
At most a week ahead: the trip schedule repeats weekly and the plan looks 48 h ahead, so a
one-off departure further out belongs in the schedule or can be set later; past a week it is
almost always a slip of the day, month or year that would otherwise sit unseen."""


def _iso_datetime(value: object) -> object:
    """Text is read as ISO 8601 only (strict mode alone would refuse all text; lax mode would
    also take numbers and digit strings as Unix times)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO 8601 date and time; give e.g. 2026-07-02T07:30:00-07:00"
            ) from None
    return value


Departure = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
"""An aware datetime, given as one or as ISO 8601 text with its offset."""

ModeField = Annotated[Mode, Field(strict=False)]
"""A mode by its name (strict mode would take only the Python enum, never its JSON text)."""


class VehicleSettings(BaseModel):
    """One car's settings; None means "as the site file and trip schedule say".

    Attributes:
        departure: the next departure (aware); overrides the trip schedule until it passes.
        target_soc_pct: SoC wanted at departure [%].
        mobility_reserve_pct: SoC never used for the house or the grid [%].
        outage_reserve_pct: a lower reserve for the present outage only [%]; cleared when the
            grid is back.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    departure: Departure | None = None
    target_soc_pct: float | None = Field(default=None, ge=0, le=100)
    mobility_reserve_pct: float | None = Field(default=None, ge=0, le=100)
    outage_reserve_pct: float | None = Field(default=None, ge=0, le=100)


class Settings(BaseModel):
    """What the household set.

    Attributes:
        mode: auto, charge-now, backup-only, v2l or off.
        v2g_allowed: whether the cars may export to the grid (where car, charger and site allow).
        backup_reserve_h: hours of essential load kept in store [h].
        vehicles: per car, by name.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    mode: ModeField = Mode.AUTO
    v2g_allowed: bool = False
    backup_reserve_h: float = Field(default=4.0, ge=0, le=168)
    vehicles: dict[str, VehicleSettings] = Field(default_factory=dict)


class SettingsUpdate(BaseModel):
    """A change to some settings: only the fields given change (``PATCH`` semantics).

    A vehicle's fields given as null reset that field to the site file's value.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    mode: ModeField | None = None
    v2g_allowed: bool | None = None
    backup_reserve_h: float | None = Field(default=None, ge=0, le=168)
    vehicles: dict[str, VehicleSettings] | None = None


class CarDefaults(Protocol):
    """What the site file says of a car (``VehicleLimits`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def mobility_reserve_pct(self) -> float:
        """[%]"""
        ...

    @property
    def target_soc_pct(self) -> float:
        """[%]"""
        ...


def apply_update(
    settings: Settings, update: SettingsUpdate, cars: Iterable[CarDefaults], now: datetime
) -> Settings:
    """``settings`` with ``update`` merged in, checked at ``now`` against the site's ``cars``.

    Raises ValueError ``"<field>: <what is wrong>"`` (the API turns it into a 422 naming the
    field) for an unknown vehicle, a departure outside ``(now, now + DEPARTURE_WINDOW_H]``, or a
    change that contradicts another setting (see ``check_car``).

    >>> from types import SimpleNamespace as Car
    >>> from datetime import UTC
    >>> ev = Car(name="ev", mobility_reserve_pct=30.0, target_soc_pct=80.0)
    >>> now = datetime(2026, 7, 1, tzinfo=UTC)
    >>> apply_update(Settings(), SettingsUpdate(mode=Mode.OFF), [ev], now).mode.value
    'off'
    >>> low = SettingsUpdate(vehicles={"ev": VehicleSettings(target_soc_pct=20)})
    >>> apply_update(Settings(), low, [ev], now)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: vehicles.ev.target_soc_pct: 20 % is below vehicles.ev.mobility_reserve_pct (30 %, from the site file): ...
    """
    defaults = {car.name: car for car in cars}
    changes: dict[str, Any] = {
        k: getattr(update, k) for k in update.model_fields_set if k != "vehicles"
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    merged = settings.model_copy(update=changes)
    if update.vehicles:
        unknown = sorted(set(update.vehicles) - set(defaults))
        if unknown:
            raise ValueError(
                f"vehicles.{unknown[0]}: no vehicle of that name; known: "
                f"{', '.join(sorted(defaults)) or 'none'}"
            )
        cars_now = dict(merged.vehicles)
        for name, change in update.vehicles.items():
            fields = {k: getattr(change, k) for k in change.model_fields_set}
            check_departure(name, change, now)
            car = cars_now.get(name, VehicleSettings()).model_copy(update=fields)
            check_car(name, car, defaults[name], change.model_fields_set)
            cars_now[name] = car
        merged = merged.model_copy(update={"vehicles": cars_now})
    return Settings.model_validate(merged.model_dump())


def check_departure(name: str, change: VehicleSettings, now: datetime) -> None:
    """ValueError unless a departure given in ``change`` lies in ``(now, now + window]``."""
    if change.departure is None:
        return
    departure, now = ensure_utc(change.departure), ensure_utc(now)
    latest = now + timedelta(hours=DEPARTURE_WINDOW_H)
    field = f"vehicles.{name}.departure"
    if departure <= now:
        raise ValueError(
            f"{field}: {_iso(departure)} is not after now ({_iso(now)}); give the next departure"
        )
    if departure > latest:
        raise ValueError(
            f"{field}: {_iso(departure)} is more than {DEPARTURE_WINDOW_H / 24:g} days ahead "
            f"(latest {_iso(latest)}); check the date, or put regular trips in the site file's "
            f"trip schedule"
        )


def check_car(name: str, car: VehicleSettings, site: CarDefaults, given: set[str]) -> None:
    """ValueError naming both fields when ``car`` (after a change of the fields ``given``)
    contradicts itself: a departure target below the mobility reserve (the car would leave with
    less than what is kept for driving), or an outage reserve above it (it lowers the reserve
    for an outage; above it, it would keep more from the house than the household asked for).

    Only pairs with a field in ``given`` are checked, so a contradiction stored earlier never
    blocks an unrelated change. Values left unset are the site file's.
    """
    prefix = f"vehicles.{name}."
    reserve, reserve_from = _value(car.mobility_reserve_pct, site.mobility_reserve_pct)
    target, target_from = _value(car.target_soc_pct, site.target_soc_pct)
    if {"target_soc_pct", "mobility_reserve_pct"} & given and target < reserve:
        why = "the target at departure must be at least the mobility reserve"
        if "target_soc_pct" in given:
            raise ValueError(
                f"{prefix}target_soc_pct: {target:g} % is below {prefix}mobility_reserve_pct "
                f"({reserve:g} %{reserve_from}): {why}; raise the target or lower the reserve"
            )
        raise ValueError(
            f"{prefix}mobility_reserve_pct: {reserve:g} % is above {prefix}target_soc_pct "
            f"({target:g} %{target_from}): {why}; lower the reserve or raise the target"
        )
    outage = car.outage_reserve_pct
    if (
        {"outage_reserve_pct", "mobility_reserve_pct"} & given
        and outage is not None
        and outage > reserve
    ):
        blamed = "outage_reserve_pct" if "outage_reserve_pct" in given else "mobility_reserve_pct"
        raise ValueError(
            f"{prefix}{blamed}: {prefix}outage_reserve_pct ({outage:g} %) is above "
            f"{prefix}mobility_reserve_pct ({reserve:g} %{reserve_from}): the outage reserve "
            f"lowers the mobility reserve for this outage; give at most {reserve:g} %"
        )


def _value(setting: float | None, site: float) -> tuple[float, str]:
    """The value in force and where it comes from (for the message)."""
    return (site, ", from the site file") if setting is None else (setting, "")


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
