"""The few settings a household changes while the controller runs, validated at the edge."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from voltbridge.core.status import Mode


class VehicleSettings(BaseModel):
    """One car's settings; None means "as the site file and trip schedule say".

    Attributes:
        departure: the next departure (aware); overrides the trip schedule until it passes.
        target_soc_pct: SoC wanted at departure [%].
        mobility_reserve_pct: SoC never used for the house or the grid [%].
        outage_reserve_pct: a lower reserve for the present outage only [%]; cleared when the
            grid is back.
    """

    model_config = ConfigDict(extra="forbid")
    departure: AwareDatetime | None = None
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

    model_config = ConfigDict(extra="forbid")
    mode: Mode = Mode.AUTO
    v2g_allowed: bool = False
    backup_reserve_h: float = Field(default=4.0, ge=0, le=168)
    vehicles: dict[str, VehicleSettings] = Field(default_factory=dict)


class SettingsUpdate(BaseModel):
    """A change to some settings: only the fields given change (``PATCH`` semantics).

    A vehicle's fields given as null reset that field to the site file's value.
    """

    model_config = ConfigDict(extra="forbid")
    mode: Mode | None = None
    v2g_allowed: bool | None = None
    backup_reserve_h: float | None = Field(default=None, ge=0, le=168)
    vehicles: dict[str, VehicleSettings] | None = None


def apply_update(settings: Settings, update: SettingsUpdate, vehicles: Iterable[str]) -> Settings:
    """``settings`` with ``update`` merged in; an unknown vehicle name is a ValueError naming it.

    >>> s = apply_update(Settings(), SettingsUpdate(mode=Mode.OFF), ["ev"])
    >>> s.mode.value
    'off'
    """
    known = set(vehicles)
    changes: dict[str, Any] = {
        k: getattr(update, k) for k in update.model_fields_set if k != "vehicles"
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    merged = settings.model_copy(update=changes)
    if update.vehicles:
        unknown = sorted(set(update.vehicles) - known)
        if unknown:
            raise ValueError(
                f"vehicles.{unknown[0]}: no vehicle of that name; known: {', '.join(sorted(known))}"
            )
        cars = dict(merged.vehicles)
        for name, change in update.vehicles.items():
            old = cars.get(name, VehicleSettings())
            fields = {k: getattr(change, k) for k in change.model_fields_set}
            cars[name] = old.model_copy(update=fields)
        merged = merged.model_copy(update={"vehicles": cars})
    return Settings.model_validate(merged.model_dump())
