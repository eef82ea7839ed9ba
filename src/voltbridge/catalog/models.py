"""Typed, validated specifications of bidirectional vehicles and chargers (catalog or site file)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

UNKNOWN = "unknown"
"""How a data file writes a figure that is not public; it becomes ``None`` when loaded."""

Connector = Literal["chademo", "ccs1", "ccs2", "nacs", "type1", "type2"]
Chemistry = Literal["nmc", "lfp", "nca", "unknown"]
Current = Literal["ac", "dc"]

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
Fraction = Annotated[float, Field(gt=0, le=1)]
KebabId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]

# A rated consumption above this is almost surely Wh/km or kWh/100 km typed as kWh/km.
_MAX_PLAUSIBLE_KWH_PER_KM = 2.0


def unknown_to_none(data: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Copy ``data``, turning the string ``"unknown"`` into ``None`` in the given fields only.

    Only nullable fields are converted, so a legitimate value such as ``chemistry = "unknown"``
    is left alone.

    >>> unknown_to_none({"usable_kwh": "unknown", "chemistry": "unknown"}, ["usable_kwh"])
    {'usable_kwh': None, 'chemistry': 'unknown'}
    """
    wanted = set(fields)
    return {
        key: (None if key in wanted and isinstance(value, str) and value == UNKNOWN else value)
        for key, value in data.items()
    }


@cache
def _nullable_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the model's fields whose type admits ``None`` (where "unknown" is accepted)."""
    return frozenset(
        name for name, info in model.model_fields.items() if type(None) in get_args(info.annotation)
    )


class _Spec(BaseModel):
    """Shared behaviour: frozen, no stray keys, "unknown" read as None, sources checked."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    @model_validator(mode="before")
    @classmethod
    def _read_unknowns(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return unknown_to_none(data, _nullable_fields(cls))
        return data

    @model_validator(mode="after")
    def _check_source_keys(self) -> Self:
        stray = sorted(set(getattr(self, "sources", {})) - set(type(self).model_fields))
        if stray:
            raise ValueError(
                f"sources names fields that do not exist: {', '.join(stray)}; "
                "each key of `sources` must be the name of a field it documents"
            )
        return self


class VehicleSpec(_Spec):
    """A bidirectional-capable vehicle: battery, power both ways, V2X support and warranty limits.

    Numbers are ``None`` where the figure is not public ("unknown" in data files); capability
    flags are ``None`` where the manufacturer has not said. Every figure from the catalog has a
    citation in ``sources`` under the field's name. A site file can build one for a car that is
    not in the catalog; every field has a default.
    """

    id: KebabId = "custom"
    """Catalog identifier, kebab-case, e.g. ``kia-ev9-99kwh``."""
    make: str = "Custom"
    """Manufacturer."""
    model: str = "Custom vehicle"
    """Model name."""
    variant: str = ""
    """Battery, drive or market variant the figures apply to."""
    years: str = ""
    """Model years the figures apply to, e.g. ``"2022-"``."""
    chemistry: Chemistry = "unknown"
    """Cell chemistry family."""
    usable_kwh: PositiveFloat | None = None
    """Usable (net) battery capacity [kWh]."""
    gross_kwh: PositiveFloat | None = None
    """Gross (nominal) battery capacity [kWh]."""
    consumption_kwh_per_km: PositiveFloat | None = None
    """Rated energy consumption, from the wall where the rating is EPA [kWh/km]."""
    max_ac_charge_kw: PositiveFloat | None = None
    """On-board (AC) charger limit [kW]."""
    max_dc_charge_kw: PositiveFloat | None = None
    """Peak DC charging power the car accepts [kW]."""
    max_discharge_kw: NonNegativeFloat | None = None
    """V2H/V2G discharge power the car allows through its charge port [kW]."""
    connector: Connector | None = None
    """Charge inlet used for V2X (the DC inlet where the car has two)."""
    v2x_protocols: tuple[str, ...] | None = None
    """V2X protocols the car speaks, e.g. ``("chademo",)`` or ``("iso15118-20",)``."""
    v2h: bool | None = None
    """Can power a home through a bidirectional charger (vehicle-to-home)."""
    v2g: bool | None = None
    """Can export to the grid through a bidirectional charger (vehicle-to-grid)."""
    v2l: bool | None = None
    """Has its own outlet(s) for appliances (vehicle-to-load)."""
    v2l_kw: PositiveFloat | None = None
    """Power of the car's own outlets [kW]."""
    discharge_floor_pct: Percent | None = None
    """Lowest state of charge the manufacturer lets V2X discharge reach [%]."""
    warranty_years: PositiveFloat | None = None
    """Battery warranty duration [years]."""
    warranty_km: PositiveFloat | None = None
    """Battery warranty distance [km]."""
    warranty_discharge_limit_kwh: PositiveFloat | None = None
    """Energy that may be discharged through V2X while keeping the battery warranty [kWh]."""
    notes: str = ""
    """Free text: conditions, market restrictions, caveats."""
    sources: dict[str, str] = Field(default_factory=dict)
    """Citation for each figure, keyed by field name."""

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if (
            self.usable_kwh is not None
            and self.gross_kwh is not None
            and self.usable_kwh > self.gross_kwh
        ):
            raise ValueError(
                f"usable_kwh ({self.usable_kwh}) is larger than gross_kwh ({self.gross_kwh}); "
                "usable capacity is the part of the gross capacity the car lets you use"
            )
        if (
            self.consumption_kwh_per_km is not None
            and self.consumption_kwh_per_km > _MAX_PLAUSIBLE_KWH_PER_KM
        ):
            raise ValueError(
                f"consumption_kwh_per_km = {self.consumption_kwh_per_km} is not plausible; "
                "give kWh per km (e.g. 0.18), not Wh/km or kWh/100 km"
            )
        if self.v2l is False and self.v2l_kw is not None:
            raise ValueError("v2l_kw is set but v2l is false; remove v2l_kw or set v2l = true")
        return self


class ChargerSpec(_Spec):
    """A home charger, usually bidirectional: power both ways, protocols, backup, restrictions.

    ``current`` is how it charges the car ("dc": the conversion is in the charger; "ac": the
    car's on-board charger converts). ``max_discharge_kw`` of 0 means it cannot take power out of
    the car. ``compatible_makes`` lists the only makes it does V2X with (empty: any make);
    ``certified_vehicles`` the catalog vehicles certified with it.
    """

    id: KebabId = "custom"
    """Catalog identifier, kebab-case, e.g. ``wallbox-quasar-2``."""
    make: str = "Custom"
    """Manufacturer."""
    model: str = "Custom charger"
    """Model name."""
    current: Current | None = None
    """How it charges the car: "ac" (car's on-board charger) or "dc" (charger converts)."""
    max_charge_kw: PositiveFloat | None = None
    """Charging power limit [kW]."""
    max_discharge_kw: NonNegativeFloat | None = None
    """Discharging power limit, 0 for a one-way charger [kW]."""
    backup_kw: PositiveFloat | None = None
    """Output when islanded from the grid during an outage [kW]."""
    efficiency: Fraction | None = None
    """Conversion efficiency as a fraction; ``efficiency_note`` says one-way or round trip [-]."""
    efficiency_note: str = ""
    """What ``efficiency`` measures (one-way at rated power, round trip, ...)."""
    connector: Connector | None = None
    """Plug on the charger's cable."""
    v2x_protocols: tuple[str, ...] | None = None
    """V2X protocols it speaks to the car."""
    ocpp: tuple[str, ...] | None = None
    """OCPP versions it speaks to a central system, e.g. ``("1.6", "2.0.1")``; empty if none."""
    v2h: bool | None = None
    """Supports vehicle-to-home."""
    v2g: bool | None = None
    """Supports vehicle-to-grid (export)."""
    v2l: bool | None = None
    """Supports vehicle-to-load through the charger itself (rare; V2L is usually the car's)."""
    grid_forming: bool | None = None
    """Can island and power the house from the car during an outage."""
    compatible_vehicles: str = ""
    """Manufacturer's statement of which vehicles it does V2X with."""
    compatible_makes: tuple[str, ...] = ()
    """Makes its firmware restricts V2X to; empty means no restriction (any car whose connector
    and V2X protocol match may work, "electrically compatible")."""
    certified_vehicles: tuple[str, ...] = ()
    """Catalog ids of the vehicles the makers certify for V2X with this charger; any other car
    that matches is only electrically compatible (it may work, no maker stands behind it)."""
    notes: str = ""
    """Free text: conditions, accessories needed, caveats."""
    sources: dict[str, str] = Field(default_factory=dict)
    """Citation for each figure, keyed by field name."""

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.max_discharge_kw == 0 and (self.v2h or self.v2g):
            raise ValueError(
                "max_discharge_kw is 0 (one-way charger) but v2h or v2g is true; "
                "a charger that cannot discharge the car cannot do V2H or V2G"
            )
        return self
