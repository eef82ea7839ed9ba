"""Pure parsers turning a charger's OCPP meter values and charging needs into voltbridge units.

Inputs are payload fragments as the ``ocpp`` library hands them to handlers (snake_case keys).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from voltbridge.devices.ocpp.schemas import parse_time

BIDIRECTIONAL_TRANSFERS = frozenset({"AC_BPT", "AC_BPT_DER", "DC_BPT", "DC_ACDP_BPT"})
"""Energy transfer modes (``EnergyTransferModeEnumType``) that can discharge the car."""

_POWER_UNITS = {"W": 1e-3, "kW": 1.0}
_ENERGY_UNITS = {"Wh": 1e-3, "kWh": 1.0}


@dataclass(frozen=True)
class MeterSample:
    """The latest values a charger reported; a field stays None until first reported.

    Attributes:
        at: when the newest of these values was sampled (aware UTC).
        power_kw: AC power [kW], + charging, - discharging (import minus export).
        energy_import_kwh: the ``Energy.Active.Import.Register`` [kWh].
        energy_export_kwh: the ``Energy.Active.Export.Register`` [kWh].
        soc_pct: the car's state of charge [%].
    """

    at: datetime
    power_kw: float | None = None
    energy_import_kwh: float | None = None
    energy_export_kwh: float | None = None
    soc_pct: float | None = None


MAX_MULTIPLIER = 9
"""Largest power of ten [-] a ``unitOfMeasure.multiplier`` may scale a value by, either way; one
beyond it is a charger's bug, and taking 1e-400 W as 0 W would hide it."""


def _number(value: object, what: str) -> float:
    """``value`` as a finite float, else a ValueError naming ``what``."""
    try:
        number = float(value)  # type: ignore[arg-type]  # the schema made it a number
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{what} {str(value)[:30]} is not a finite number")
    return number


def _scaled(sampled: Mapping[str, Any], units: Mapping[str, float], default: str) -> float:
    uom = sampled.get("unit_of_measure") or {}
    unit = str(uom.get("unit", default))
    if unit not in units:
        raise ValueError(f"unit {unit!r} not understood; expected one of {', '.join(units)}")
    multiplier = int(uom.get("multiplier", 0))
    if abs(multiplier) > MAX_MULTIPLIER:
        raise ValueError(f"multiplier {multiplier} is outside -{MAX_MULTIPLIER}..{MAX_MULTIPLIER}")
    value = _number(sampled["value"], str(sampled.get("measurand", "value")))
    return _number(value * units[unit] * 10.0**multiplier, "scaled value")


def _total(values: dict[str, list[tuple[str | None, float]]], measurand: str) -> float | None:
    """The all-phase value of a measurand: the unphased value, else the sum of the phase values."""
    found = values.get(measurand)
    if not found:
        return None
    whole = [v for phase, v in found if phase is None]
    return whole[-1] if whole else sum(v for _, v in found)


def merge_meter_values(
    previous: MeterSample | None, meter_value: Sequence[Mapping[str, Any]], latest: datetime
) -> MeterSample | None:
    """``previous`` updated with each entry of a ``meterValue`` list, oldest first.

    Understood measurands: ``Power.Active.Import``/``Power.Active.Export`` [W or kW],
    ``Energy.Active.Import.Register``/``Energy.Active.Export.Register`` [Wh or kWh] and ``SoC``
    [%]; others are ignored. Timestamps later than ``latest`` (our clock) are moved back to it,
    so a charger whose clock runs ahead cannot make its data look fresher than it is.
    Returns ``previous`` unchanged when nothing understood was reported.

    Raises:
        ValueError: a value is not finite, a unit or multiplier is not understood, or a state of
            charge is outside 0..100 %: the whole list is refused, nothing of it is kept.
    """
    sample = previous
    entries = sorted(meter_value, key=lambda mv: parse_time(str(mv["timestamp"])))
    for entry in entries:
        values: dict[str, list[tuple[str | None, float]]] = {}
        for sv in entry.get("sampled_value", []):
            measurand = str(sv.get("measurand", "Energy.Active.Import.Register"))
            if measurand.startswith("Power.Active."):
                value = _scaled(sv, _POWER_UNITS, "W")
            elif measurand.startswith("Energy.Active."):
                value = _scaled(sv, _ENERGY_UNITS, "Wh")
            elif measurand == "SoC":
                value = _number(sv["value"], "SoC")
                if not 0.0 <= value <= 100.0:
                    raise ValueError(f"SoC {value} % is outside 0..100 %")
            else:
                continue
            values.setdefault(measurand, []).append((sv.get("phase"), value))
        if not values:
            continue
        at = min(parse_time(str(entry["timestamp"])), latest)
        if sample is not None and at < sample.at:
            continue  # an older value arriving late never overrides a newer one
        imp = _total(values, "Power.Active.Import")
        exp = _total(values, "Power.Active.Export")
        base = sample if sample is not None else MeterSample(at)
        power = base.power_kw if imp is None and exp is None else (imp or 0.0) - (exp or 0.0)
        e_imp = _total(values, "Energy.Active.Import.Register")
        e_exp = _total(values, "Energy.Active.Export.Register")
        soc = _total(values, "SoC")
        sample = replace(
            base,
            at=at,
            power_kw=power,
            energy_import_kwh=base.energy_import_kwh if e_imp is None else e_imp,
            energy_export_kwh=base.energy_export_kwh if e_exp is None else e_exp,
            soc_pct=base.soc_pct if soc is None else soc,
        )
    return sample


@dataclass(frozen=True)
class EvChargingNeeds:
    """What the car asked for in its latest ``NotifyEVChargingNeeds``, in voltbridge units.

    Attributes:
        received_at: when voltbridge received it (aware UTC).
        requested_transfer: the energy transfer mode asked, e.g. ``AC_BPT`` (bidirectional AC).
        available_transfers: the modes the car offers.
        departure: estimated departure time (aware UTC).
        energy_requested_kwh: energy to the requested state of charge [kWh].
        target_soc_pct: state of charge wanted at departure [%].
        min_charge_kw, max_charge_kw: the car's charge power range [kW], >= 0.
        min_discharge_kw, max_discharge_kw: its discharge power range [kW], >= 0.
        energy_to_min_soc_kwh, energy_to_max_soc_kwh: energy [kWh] to its minimum and maximum
            state of charge (negative when above it).
        energy_to_min_v2x_kwh, energy_to_max_v2x_kwh: energy [kWh] to the bottom and the top of
            the range it allows for V2X cycling (negative when above it).
        ev_capacity_kwh: the battery's capacity [kWh] when the car gives it (DC charging only).
    """

    received_at: datetime
    requested_transfer: str
    available_transfers: tuple[str, ...] = ()
    control_mode: str | None = None
    departure: datetime | None = None
    energy_requested_kwh: float | None = None
    target_soc_pct: float | None = None
    min_charge_kw: float | None = None
    max_charge_kw: float | None = None
    min_discharge_kw: float | None = None
    max_discharge_kw: float | None = None
    energy_to_min_soc_kwh: float | None = None
    energy_to_max_soc_kwh: float | None = None
    energy_to_min_v2x_kwh: float | None = None
    energy_to_max_v2x_kwh: float | None = None
    ev_capacity_kwh: float | None = None

    @property
    def bidirectional(self) -> bool:
        """True when the car asked for a mode that can discharge it."""
        return self.requested_transfer in BIDIRECTIONAL_TRANSFERS


def _kilo(params: Mapping[str, Any], key: str) -> float | None:
    """``params[key]`` [W or Wh] in [kW or kWh]; per-phase L2/L3 values are added to L1."""
    if params.get(key) is None:
        return None
    total = _number(params[key], key)
    for phase in ("_l2", "_l3"):
        if params.get(key + phase) is not None:
            total += _number(params[key + phase], key + phase)
    return _number(total / 1000.0, key)


def parse_charging_needs(needs: Mapping[str, Any], received_at: datetime) -> EvChargingNeeds:
    """The ``chargingNeeds`` of a ``NotifyEVChargingNeedsRequest`` (snake_case keys).

    Raises:
        ValueError: a number is not finite or the departure is not a real moment.
    """
    v2x: Mapping[str, Any] = needs.get("v2x_charging_parameters") or {}
    ac: Mapping[str, Any] = needs.get("ac_charging_parameters") or {}
    dc: Mapping[str, Any] = needs.get("dc_charging_parameters") or {}
    energy = _kilo(v2x, "ev_target_energy_request")
    if energy is None:
        energy = _kilo(ac, "energy_amount") if ac else _kilo(dc, "energy_amount")
    target = v2x.get("target_soc", dc.get("full_soc"))
    departure = needs.get("departure_time")
    return EvChargingNeeds(
        received_at=received_at,
        requested_transfer=str(needs["requested_energy_transfer"]),
        available_transfers=tuple(str(m) for m in needs.get("available_energy_transfer") or ()),
        control_mode=needs.get("control_mode"),
        departure=parse_time(str(departure)) if departure else None,
        energy_requested_kwh=energy,
        target_soc_pct=None if target is None else _number(target, "target SoC"),
        min_charge_kw=_kilo(v2x, "min_charge_power"),
        max_charge_kw=_kilo(v2x, "max_charge_power") or _kilo(dc, "ev_max_power"),
        min_discharge_kw=_kilo(v2x, "min_discharge_power"),
        max_discharge_kw=_kilo(v2x, "max_discharge_power"),
        energy_to_min_soc_kwh=_kilo(v2x, "ev_min_energy_request"),
        energy_to_max_soc_kwh=_kilo(v2x, "ev_max_energy_request"),
        energy_to_min_v2x_kwh=_kilo(v2x, "ev_min_v2x_energy_request"),
        energy_to_max_v2x_kwh=_kilo(v2x, "ev_max_v2x_energy_request"),
        ev_capacity_kwh=_kilo(dc, "ev_energy_capacity"),
    )


def capacity_from_needs(needs: EvChargingNeeds, soc_pct: float | None) -> float | None:
    """The car's usable capacity [kWh] as its needs imply it, or None when they cannot tell.

    In order: the capacity the car states (DC); the requested energy [kWh] over the gap between
    the target and present state of charge [%]; the energy to its maximum state of charge, taken
    as 100 %, over the empty share. Gaps under 5 % are too small to divide by.

    >>> from datetime import UTC, datetime
    >>> n = EvChargingNeeds(datetime(2026, 1, 1, tzinfo=UTC), "AC_BPT", energy_requested_kwh=30.0,
    ...     target_soc_pct=80.0)
    >>> capacity_from_needs(n, soc_pct=40.0)
    75.0
    """
    if needs.ev_capacity_kwh:
        return needs.ev_capacity_kwh
    if soc_pct is None:
        return None
    target, energy = needs.target_soc_pct, needs.energy_requested_kwh
    if target is not None and energy is not None and abs(target - soc_pct) >= 5.0:
        capacity = energy / ((target - soc_pct) / 100.0)
        if capacity > 0:
            return capacity
    to_full = needs.energy_to_max_soc_kwh
    if to_full is not None and to_full > 0 and soc_pct <= 95.0:
        return to_full / (1.0 - soc_pct / 100.0)
    return None
