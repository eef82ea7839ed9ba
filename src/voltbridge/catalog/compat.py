"""Whether a vehicle and a charger can do V2H, V2G and V2L at a site, with readable reasons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voltbridge.catalog.models import ChargerSpec, VehicleSpec

EXPORT_POLICIES = ("none", "pv-only", "any")
"""Site export policies: no export, export of solar only, or export of any energy."""

# A charger inlet accepts its own plug and, for CCS, the AC plug that fits its upper half.
_INLET_ACCEPTS: dict[str, frozenset[str]] = {
    "ccs1": frozenset({"ccs1", "type1"}),
    "ccs2": frozenset({"ccs2", "type2"}),
    "chademo": frozenset({"chademo"}),
    "nacs": frozenset({"nacs"}),
    "type1": frozenset({"type1"}),
    "type2": frozenset({"type2"}),
}

_PROTOCOL_NAMES = {
    "chademo": "CHAdeMO",
    "iso15118-20": "ISO 15118-20",
    "iso15118-2-ext": "ISO 15118-2 with maker extensions",
    "din70121-ext": "DIN 70121 with maker extensions",
    "ford-intelligent-backup": "Ford Intelligent Backup Power",
    "gm-energy-v2h": "GM Energy V2H",
    "tesla-powershare": "Tesla Powershare",
}

_CONNECTOR_NAMES = {
    "chademo": "CHAdeMO",
    "ccs1": "CCS1",
    "ccs2": "CCS2",
    "nacs": "NACS (Tesla)",
    "type1": "Type 1 (J1772)",
    "type2": "Type 2",
}


class Mode(StrEnum):
    """Ways a car's battery can serve something other than driving."""

    V2H = "v2h"
    """Vehicle-to-home: the car powers the house through a bidirectional charger."""
    V2G = "v2g"
    """Vehicle-to-grid: the car exports to the grid through a bidirectional charger."""
    V2L = "v2l"
    """Vehicle-to-load: appliances plug into the car's own outlets."""


class Certification(StrEnum):
    """How far a car and a charger are known to work together for V2H/V2G."""

    CERTIFIED = "certified"
    """The makers certify this pair."""
    ELECTRICAL = "electrically compatible"
    """Connector and V2X protocol match and no make lock stops it, but the charger's certified
    cars do not include this one: it may work, no maker stands behind it."""
    UNRECORDED = "not recorded"
    """Connector and protocol match; the catalog records no certification for this charger."""
    INCOMPATIBLE = "incompatible"
    """Connector, protocol, make lock or a one-way charger rule it out."""


@dataclass(frozen=True)
class Verdict:
    """Whether one mode works, in sentences a household understands.

    ``reasons`` says why a mode does not work (empty when ``ok``); ``notes`` adds what is worth
    knowing when it does, such as whether the house keeps power in an outage.
    """

    mode: Mode
    ok: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EffectiveLimits:
    """What a car and charger can do together; ``None`` where either figure is unknown."""

    max_charge_kw: float | None
    """Charging power: the lower of the car's (AC or DC, per charger) and the charger's [kW]."""
    max_discharge_kw: float | None
    """Discharging power, the lower of the car's and the charger's limits [kW]."""
    discharge_floor_pct: float | None
    """Lowest state of charge the car's maker lets V2X reach [%]."""


def _lower(a: float | None, b: float | None) -> float | None:
    """The smaller of two limits, or ``None`` when either is unknown."""
    return None if a is None or b is None else min(a, b)


def effective_limits(vehicle: VehicleSpec, charger: ChargerSpec) -> EffectiveLimits:
    """Combine the car's and the charger's limits (charge, discharge [kW], floor [%]).

    >>> car = VehicleSpec(max_ac_charge_kw=11.0, max_dc_charge_kw=150.0, max_discharge_kw=9.6)
    >>> effective_limits(car, ChargerSpec(current="dc", max_charge_kw=7.4, max_discharge_kw=7.4))
    EffectiveLimits(max_charge_kw=7.4, max_discharge_kw=7.4, discharge_floor_pct=None)
    """
    if charger.current == "dc":
        car_charge_kw = vehicle.max_dc_charge_kw
    elif charger.current == "ac":
        car_charge_kw = vehicle.max_ac_charge_kw
    else:
        car_charge_kw = None
    return EffectiveLimits(
        max_charge_kw=_lower(car_charge_kw, charger.max_charge_kw),
        max_discharge_kw=_lower(vehicle.max_discharge_kw, charger.max_discharge_kw),
        discharge_floor_pct=vehicle.discharge_floor_pct,
    )


def _is_one_way(charger: ChargerSpec) -> bool:
    """A charger that cannot discharge: 0 kW, or no discharge power and no V2X claim."""
    if charger.max_discharge_kw is None:
        return not (charger.v2h or charger.v2g)
    return charger.max_discharge_kw == 0


def _upper_first(text: str) -> str:
    """Capitalise the first letter only, keeping names such as "F-150" as written."""
    return text[:1].upper() + text[1:]


def _car_name(vehicle: VehicleSpec) -> str:
    return f"the {vehicle.make} {vehicle.model}".rstrip()


def _charger_name(charger: ChargerSpec) -> str:
    return f"the {charger.make} {charger.model}".rstrip()


def _names(items: tuple[str, ...], table: dict[str, str]) -> str:
    return ", ".join(table.get(item, item) for item in items)


def _mode_reasons(mode: Mode, label: str, vehicle: VehicleSpec, charger: ChargerSpec) -> list[str]:
    """Reasons the car or the charger itself does not offer ``mode`` (empty when both do)."""
    reasons = []
    car_flag = vehicle.v2h if mode is Mode.V2H else vehicle.v2g
    charger_flag = charger.v2h if mode is Mode.V2H else charger.v2g
    car, box = _car_name(vehicle), _charger_name(charger)
    if car_flag is False:
        reasons.append(f"{_upper_first(car)} cannot {label}: its maker does not offer it.")
    elif car_flag is None:
        reasons.append(
            f"The maker of {car} has not said whether it can {label}, so voltbridge will not "
            "assume it can."
        )
    if charger_flag is False:
        reasons.append(f"{_upper_first(box)} does not support this: it cannot {label}.")
    elif charger_flag is None and not _is_one_way(charger):
        reasons.append(
            f"The maker of {box} has not said whether it can {label}, so voltbridge will not "
            "assume it can."
        )
    return reasons


def _link_reasons(vehicle: VehicleSpec, charger: ChargerSpec) -> list[str]:
    """Reasons the car and the charger cannot work together for V2H/V2G at all."""
    reasons = []
    car, box = _car_name(vehicle), _charger_name(charger)
    if _is_one_way(charger):
        reasons.append(
            f"{_upper_first(box)} is a one-way (unidirectional) charger: it can charge the car "
            "but cannot take power back out of it."
        )
    if vehicle.connector is None or charger.connector is None:
        reasons.append(
            f"The plug type of {car if vehicle.connector is None else box} is unknown, so "
            "voltbridge cannot confirm the charger's connector fits the car."
        )
    elif charger.connector not in _INLET_ACCEPTS[vehicle.connector]:
        reasons.append(
            f"The connector does not fit: {box} has a "
            f"{_CONNECTOR_NAMES[charger.connector]} plug, {car} has a "
            f"{_CONNECTOR_NAMES[vehicle.connector]} inlet."
        )
    if vehicle.v2x_protocols is None or charger.v2x_protocols is None:
        reasons.append(
            f"The V2X protocol of {car if vehicle.v2x_protocols is None else box} is not "
            "published, so voltbridge cannot confirm the two can talk to each other."
        )
    elif not set(vehicle.v2x_protocols) & set(charger.v2x_protocols):
        reasons.append(
            "They speak no common V2X protocol: "
            f"{car} uses {_names(vehicle.v2x_protocols, _PROTOCOL_NAMES) or 'none'}, "
            f"{box} uses {_names(charger.v2x_protocols, _PROTOCOL_NAMES) or 'none'}."
        )
    allowed = {make.casefold() for make in charger.compatible_makes}
    if allowed and vehicle.make.casefold() not in allowed:
        reasons.append(
            f"{_upper_first(box)} only works both ways with "
            f"{' or '.join(charger.compatible_makes)} vehicles, not with a {vehicle.make}."
        )
    return reasons


def certification(vehicle: VehicleSpec, charger: ChargerSpec) -> Certification:
    """Whether this pair is certified, only electrically compatible, or neither.

    >>> car = VehicleSpec(id="ev", make="Hyundai", connector="ccs1",
    ...                   v2x_protocols=("iso15118-20",), v2h=True)
    >>> box = ChargerSpec(connector="ccs1", v2x_protocols=("iso15118-20",), v2h=True,
    ...                   max_discharge_kw=11.5, certified_vehicles=("kia-ev9-99kwh",))
    >>> certification(car, box).value
    'electrically compatible'
    """
    if _link_reasons(vehicle, charger):
        return Certification.INCOMPATIBLE
    if vehicle.id in charger.certified_vehicles:
        return Certification.CERTIFIED
    if charger.certified_vehicles:
        return Certification.ELECTRICAL
    return Certification.UNRECORDED


def _certification_sentence(vehicle: VehicleSpec, charger: ChargerSpec) -> tuple[str, ...]:
    """A note for a pair that should work but that no maker certifies."""
    if certification(vehicle, charger) is not Certification.ELECTRICAL:
        return ()
    return (
        f"Only electrically compatible: {_charger_name(charger)} is certified with "
        f"{', '.join(charger.certified_vehicles)}, not with {_car_name(vehicle)}; connector and "
        "protocol match, so it should work, but ask both makers before relying on it "
        "(warranty, backup).",
    )


def _site_reasons(export_policy: str, v2g_allowed: bool) -> list[str]:
    """Reasons the site or the household rules out V2G."""
    reasons = []
    if export_policy == "none":
        reasons.append(
            "Your site does not allow exporting electricity (export policy 'none'); V2G means "
            "sending the car's energy to the grid, which needs export policy 'any'."
        )
    elif export_policy == "pv-only":
        reasons.append(
            "Your site only allows exporting solar power (export policy 'pv-only'); V2G would "
            "export energy from the car's battery, which needs export policy 'any'."
        )
    if not v2g_allowed:
        reasons.append(
            "You have chosen not to allow V2G (letting the grid draw on the car's battery)."
        )
    return reasons


def _v2l_verdict(vehicle: VehicleSpec) -> Verdict:
    """V2L uses the car's own outlets, so it depends on the car alone."""
    car = _car_name(vehicle)
    if vehicle.v2l is True:
        power = f" up to {vehicle.v2l_kw:g} kW" if vehicle.v2l_kw is not None else ""
        return Verdict(
            Mode.V2L,
            True,
            (),
            (f"{_upper_first(car)} can power appliances from its own outlets{power}.",),
        )
    if vehicle.v2l is False:
        return Verdict(
            Mode.V2L,
            False,
            (f"{_upper_first(car)} has no outlets of its own for appliances (V2L).",),
        )
    return Verdict(
        Mode.V2L,
        False,
        (f"The maker of {car} has not said whether it can power appliances (V2L).",),
    )


def check_compatibility(
    vehicle: VehicleSpec, charger: ChargerSpec, export_policy: str, v2g_allowed: bool
) -> dict[Mode, Verdict]:
    """Verdict for each mode for this car, charger, site export policy and household preference.

    ``export_policy`` is one of ``EXPORT_POLICIES``. Anything not published counts against a
    mode: voltbridge only says "ok" when every requirement is known to hold.

    >>> car = VehicleSpec(make="Nissan", model="Leaf", connector="chademo",
    ...                   v2x_protocols=("chademo",), v2h=True, v2g=True, v2l=False)
    >>> box = ChargerSpec(connector="chademo", v2x_protocols=("chademo",), v2h=True, v2g=True,
    ...                   max_discharge_kw=7.4)
    >>> {m.value: v.ok for m, v in check_compatibility(car, box, "none", True).items()}
    {'v2h': True, 'v2g': False, 'v2l': False}
    """
    if export_policy not in EXPORT_POLICIES:
        raise ValueError(
            f"export_policy must be one of {', '.join(EXPORT_POLICIES)}, not {export_policy!r}"
        )
    link = _link_reasons(vehicle, charger)

    v2h = _mode_reasons(Mode.V2H, "power a home (V2H)", vehicle, charger) + link
    v2g = (
        _mode_reasons(Mode.V2G, "send power to the grid (V2G)", vehicle, charger)
        + link
        + _site_reasons(export_policy, v2g_allowed)
    )
    car, box = _car_name(vehicle), _charger_name(charger)
    certified = _certification_sentence(vehicle, charger)
    v2h_ok = (
        f"{_upper_first(car)} can power the home through {box}.",
        _backup_sentence(charger),
        *certified,
    )
    v2g_ok = (f"{_upper_first(car)} can send power to the grid through {box}.", *certified)
    return {
        Mode.V2H: Verdict(Mode.V2H, not v2h, tuple(v2h), () if v2h else v2h_ok),
        Mode.V2G: Verdict(Mode.V2G, not v2g, tuple(v2g), () if v2g else v2g_ok),
        Mode.V2L: _v2l_verdict(vehicle),
    }


def _backup_sentence(charger: ChargerSpec) -> str:
    """Whether the pair also keeps the lights on in a power cut."""
    if charger.grid_forming is True:
        power = f" (up to {charger.backup_kw:g} kW)" if charger.backup_kw is not None else ""
        return f"During a power cut it can keep the house running from the car{power}."
    if charger.grid_forming is False:
        return "It cannot run the house during a power cut; it works only while the grid is up."
    return "Whether it can run the house during a power cut is not published."
