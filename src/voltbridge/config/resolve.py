"""Resolving a site's vehicles and chargers against the catalog into complete specifications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voltbridge.catalog import (
    ChargerSpec,
    EffectiveLimits,
    VehicleSpec,
    effective_limits,
    load_catalog,
)
from voltbridge.config.errors import Problem
from voltbridge.config.models import ChargerEntry, Site, VehicleEntry

SITE_SOURCE = "site file"

_VEHICLE_FIELDS = (
    "usable_kwh",
    "consumption_kwh_per_km",
    "max_discharge_kw",
    "chemistry",
    "connector",
    "v2x_protocols",
    "v2h",
    "v2g",
    "v2l",
    "discharge_floor_pct",
    "warranty_discharge_limit_kwh",
    "warranty_years",
)
_CHARGER_FIELDS = (
    "current",
    "max_charge_kw",
    "max_discharge_kw",
    "efficiency",
    "connector",
    "v2x_protocols",
    "ocpp",
    "v2h",
    "v2g",
    "grid_forming",
)

DEFAULT_CHARGER_EFFICIENCY = 0.92
"""One-way charger efficiency assumed when neither the catalog nor the site gives one [-].

An assumption, not a published figure: most makers publish none. 92 % one way (about 85 %
round trip) is a cautious middle for bidirectional power electronics at partial load; set
``vehicles[i].charger.efficiency`` when the installer measured it."""


class ResolveError(ValueError):
    """A vehicle or charger cannot be resolved; ``field`` is its path in the site file."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _merged(
    lookup: Callable[[str], VehicleSpec | ChargerSpec] | None,
    model: str | None,
    where: str,
    default: dict[str, object],
    site_values: dict[str, object],
) -> dict[str, object]:
    """The catalog entry ``model`` (or ``default``) with the site's non-empty values on top,
    each marked in ``sources`` as coming from the site file."""
    base = default
    if model is not None and lookup is not None:
        try:
            base = lookup(model).model_dump()
        except KeyError as exc:
            raise ResolveError(f"{where}.model", str(exc.args[0])) from None
    sources = dict(base.get("sources", {}))  # type: ignore[call-overload]
    for name, value in site_values.items():
        if value is not None:
            base[name] = tuple(value) if isinstance(value, list) else value
            sources[name] = SITE_SOURCE
    return {**base, "sources": sources}


def resolve_vehicle(entry: VehicleEntry, where: str, charger_current: str | None) -> VehicleSpec:
    """The vehicle's full specification: the catalog model (if any) with the site's values on top."""
    values: dict[str, object] = {name: getattr(entry, name) for name in _VEHICLE_FIELDS}
    charge_key = "max_ac_charge_kw" if charger_current == "ac" else "max_dc_charge_kw"
    values[charge_key] = entry.max_charge_kw
    default: dict[str, object] = {"id": "custom", "make": "Custom", "model": entry.name}
    data = _merged(load_catalog().vehicle, entry.model, where, default, values)
    try:
        return VehicleSpec.model_validate(data)
    except ValueError as exc:
        raise ResolveError(where, f"invalid vehicle values: {exc}") from None


def resolve_charger(entry: ChargerEntry, where: str) -> ChargerSpec:
    """The charger's full specification: the catalog model (if any) with the site's values on top."""
    values: dict[str, object] = {name: getattr(entry, name) for name in _CHARGER_FIELDS}
    default: dict[str, object] = {"id": "custom", "make": "Custom", "model": "Custom charger"}
    data = _merged(load_catalog().charger, entry.model, where, default, values)
    try:
        return ChargerSpec.model_validate(data)
    except ValueError as exc:
        raise ResolveError(where, f"invalid charger values: {exc}") from None


@dataclass(frozen=True)
class ResolvedVehicle:
    """A site vehicle with its charger, both complete, and the limits that apply to the pair.

    Attributes:
        usable_kwh: [kWh]
        consumption_kwh_per_km: [kWh/km]
        max_charge_kw: AC-side charge limit of car and charger together [kW]
        max_discharge_kw: AC-side discharge limit [kW]; 0 when the pair cannot discharge
        efficiency: one-way charger efficiency [-]
    """

    entry: VehicleEntry
    vehicle: VehicleSpec
    charger: ChargerSpec
    limits: EffectiveLimits
    usable_kwh: float
    consumption_kwh_per_km: float
    max_charge_kw: float
    max_discharge_kw: float
    efficiency: float
    notes: tuple[str, ...] = ()


def _known_limit(
    both: float | None,
    car: float | None,
    charger: float | None,
    what: str,
    name: str,
    notes: list[str],
) -> float | None:
    """The pair's limit [kW]; with one side unknown, the known side, and a note saying so."""
    if both is not None:
        return both
    known = car if car is not None else charger
    if known is not None:
        unknown_side, known_side = ("car", "charger") if car is None else ("charger", "car")
        notes.append(
            f"{name}: the {unknown_side}'s {what} power is not published; planning with the "
            f"{known_side}'s {known:g} kW"
        )
    return known


def resolve_pair(entry: VehicleEntry, index: int) -> ResolvedVehicle:
    """Resolve one site vehicle and its charger; raise ResolveError naming the missing figure."""
    where = f"vehicles[{index}]"
    charger = resolve_charger(entry.charger, f"{where}.charger")
    vehicle = resolve_vehicle(entry, where, charger.current)
    limits = effective_limits(vehicle, charger)
    model = f"the catalog's {vehicle.id}" if entry.model else "a custom vehicle"
    notes: list[str] = []
    usable = vehicle.usable_kwh
    if usable is None and vehicle.gross_kwh is not None:
        usable = vehicle.gross_kwh
        notes.append(
            f"{entry.name}: the usable capacity of {vehicle.id} is not published; planning with "
            f"the gross {usable:g} kWh (set vehicles[{index}].usable_kwh if you know it)"
        )
    if usable is None:
        raise ResolveError(f"{where}.usable_kwh", f"{model} has no public capacity; set usable_kwh")
    needs_consumption = any(t.km > 0 for t in entry.trips)
    if vehicle.consumption_kwh_per_km is None and needs_consumption:
        raise ResolveError(
            f"{where}.consumption_kwh_per_km",
            f"{model} has no consumption figure and trips have distances; set consumption_kwh_per_km",
        )
    car_charge = vehicle.max_dc_charge_kw if charger.current == "dc" else vehicle.max_ac_charge_kw
    max_charge = _known_limit(
        limits.max_charge_kw, car_charge, charger.max_charge_kw, "charge", entry.name, notes
    )
    if max_charge is None:
        raise ResolveError(
            f"{where}.max_charge_kw",
            "neither the car's nor the charger's charge power is known; set "
            f"vehicles[{index}].max_charge_kw or vehicles[{index}].charger.max_charge_kw",
        )
    max_discharge = _known_limit(
        limits.max_discharge_kw,
        vehicle.max_discharge_kw,
        charger.max_discharge_kw,
        "discharge",
        entry.name,
        notes,
    )
    return ResolvedVehicle(
        entry=entry,
        vehicle=vehicle,
        charger=charger,
        limits=limits,
        usable_kwh=usable,
        consumption_kwh_per_km=vehicle.consumption_kwh_per_km or 0.0,
        max_charge_kw=max_charge,
        max_discharge_kw=max_discharge or 0.0,
        efficiency=charger.efficiency or DEFAULT_CHARGER_EFFICIENCY,
        notes=tuple(notes),
    )


_RESOLVED: dict[int, tuple[Site, list[ResolvedVehicle]]] = {}


def resolve_vehicles(site: Site) -> list[ResolvedVehicle]:
    """Every vehicle of the site resolved (the site was validated, so this does not fail).

    Remembered per site object (sites are immutable): the simulator re-plans tens of thousands
    of times with the same site.
    """
    hit = _RESOLVED.get(id(site))
    if hit is not None and hit[0] is site:
        return hit[1]
    resolved = [resolve_pair(v, i) for i, v in enumerate(site.vehicles)]
    if len(_RESOLVED) > 64:
        _RESOLVED.clear()
    _RESOLVED[id(site)] = (site, resolved)
    return resolved


def resolve_all(site: Site) -> list[Problem]:
    """Problems found resolving the site's vehicles and chargers; empty when all resolve."""
    problems = []
    for i, entry in enumerate(site.vehicles):
        try:
            resolve_pair(entry, i)
        except ResolveError as exc:
            problems.append(Problem(exc.field, str(exc)))
    return problems
