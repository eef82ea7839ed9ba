"""Payloads the charging-station simulator sends, built with the schema's own (camelCase) keys.

Built by hand rather than through the library's dataclasses because per-phase keys such as
``maxChargePower_L2`` would come out as ``maxChargePowerL2``, which the 2.1 schema rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voltbridge.devices.ocpp.rpc import iso


@dataclass(frozen=True)
class CarReading:
    """What the station measures: AC power [kW] (+ charging), its energy registers [kWh] and the
    car's state of charge [%] (None without a car)."""

    power_kw: float
    import_kwh: float
    export_kwh: float
    soc_pct: float | None


def meter_value(at: datetime, r: CarReading) -> list[dict[str, Any]]:
    """A one-entry ``meterValue`` list: import and export power [W], registers [Wh], SoC [%]."""
    sampled: list[dict[str, Any]] = [
        _sv(max(r.power_kw, 0.0) * 1000, "Power.Active.Import", "W"),
        _sv(max(-r.power_kw, 0.0) * 1000, "Power.Active.Export", "W"),
        _sv(r.import_kwh * 1000, "Energy.Active.Import.Register", "Wh"),
        _sv(r.export_kwh * 1000, "Energy.Active.Export.Register", "Wh"),
    ]
    if r.soc_pct is not None:
        sampled.append({**_sv(r.soc_pct, "SoC", "Percent"), "location": "EV"})
    return [{"timestamp": iso(at), "sampledValue": sampled}]


def _sv(value: float, measurand: str, unit: str) -> dict[str, Any]:
    return {"value": round(value, 3), "measurand": measurand, "unitOfMeasure": {"unit": unit}}


def boot_notification(model: str, vendor: str, reason: str = "PowerUp") -> dict[str, Any]:
    """A ``BootNotificationRequest``."""
    return {"reason": reason, "chargingStation": {"model": model[:20], "vendorName": vendor[:50]}}


def status_notification(at: datetime, evse_id: int, status: str) -> dict[str, Any]:
    """A ``StatusNotificationRequest`` for connector 1 of ``evse_id``."""
    return {"timestamp": iso(at), "connectorStatus": status, "evseId": evse_id, "connectorId": 1}


def transaction_event(
    *,
    at: datetime,
    event: str,
    trigger: str,
    seq_no: int,
    transaction_id: str,
    evse_id: int,
    reading: CarReading,
    offline: bool,
    charging_state: str | None = None,
    stopped_reason: str | None = None,
    context: str = "Sample.Periodic",
) -> dict[str, Any]:
    """A ``TransactionEventRequest`` carrying one meter value."""
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    values = meter_value(at, reading)
    for sv in values[0]["sampledValue"]:
        sv["context"] = context
    payload: dict[str, Any] = {
        "eventType": event,
        "timestamp": iso(at),
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
        "meterValue": values,
        "offline": offline,
    }
    if event == "Started":
        payload["evse"] = {"id": evse_id, "connectorId": 1}
    return payload


@dataclass(frozen=True)
class CarNeeds:
    """What the simulated car tells the charger it needs.

    Attributes:
        departure: when it leaves (aware).
        capacity_kwh: usable capacity [kWh]; soc_kwh: present energy [kWh].
        target_soc_pct: wanted at departure [%].
        v2x_min_soc_pct, v2x_max_soc_pct: the range [%] it allows for V2X cycling.
        max_charge_kw, max_discharge_kw: its AC power limits [kW], >= 0.
    """

    departure: datetime
    capacity_kwh: float
    soc_kwh: float
    target_soc_pct: float
    v2x_min_soc_pct: float
    v2x_max_soc_pct: float
    max_charge_kw: float
    max_discharge_kw: float


def charging_needs(at: datetime, evse_id: int, n: CarNeeds) -> dict[str, Any]:
    """A 2.1 ``NotifyEVChargingNeedsRequest`` with V2X parameters (powers [W], energies [Wh])."""

    def to_pct_wh(pct: float) -> float:
        return round((pct / 100.0 * n.capacity_kwh - n.soc_kwh) * 1000.0, 1)

    bidirectional = n.max_discharge_kw > 0
    v2x = {
        "minChargePower": 0.0,
        "maxChargePower": n.max_charge_kw * 1000.0,
        "minDischargePower": 0.0,
        "maxDischargePower": n.max_discharge_kw * 1000.0,
        "evTargetEnergyRequest": to_pct_wh(n.target_soc_pct),
        "evMinEnergyRequest": to_pct_wh(0.0),
        "evMaxEnergyRequest": to_pct_wh(100.0),
        "evMinV2XEnergyRequest": to_pct_wh(n.v2x_min_soc_pct),
        "evMaxV2XEnergyRequest": to_pct_wh(n.v2x_max_soc_pct),
        "targetSoC": round(n.target_soc_pct),
    }
    return {
        "evseId": evse_id,
        "timestamp": iso(at),
        "chargingNeeds": {
            "requestedEnergyTransfer": "AC_BPT" if bidirectional else "AC_three_phase",
            "availableEnergyTransfer": ["AC_three_phase", "AC_BPT"]
            if bidirectional
            else ["AC_three_phase"],
            "controlMode": "DynamicControl",
            "departureTime": iso(n.departure),
            "v2xChargingParameters": v2x,
        },
    }
