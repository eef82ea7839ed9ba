"""SetChargingProfile payloads voltbridge sends, built with the schema's own (camelCase) keys.

Two profiles per charger: a ``TxDefaultProfile`` at stack level 0 (``ChargingOnly`` at the
configured offline charge limit, never discharging) that the charger falls back to on its own,
and a ``TxProfile`` at stack level 1 carrying the central setpoint, valid only for
``maxOfflineDuration`` seconds while the charger cannot reach voltbridge. Powers are sent in W;
OCPP 2.1 signs setpoints as voltbridge does: negative means discharge.

>>> p = setpoint_profile(transaction_id="tx-1", setpoint_kw=-3.5, max_charge_kw=11,
...     max_discharge_kw=7, max_offline_duration_s=60, version="2.1")
>>> p["chargingSchedule"][0]["chargingSchedulePeriod"]
[{'startPeriod': 0, 'operationMode': 'CentralSetpoint', 'setpoint': -3500.0, 'limit': 11000.0, 'dischargeLimit': -7000.0}]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from voltbridge.devices.ocpp.rpc import iso

DEFAULT_PROFILE_ID = 1
"""Id of the safe default ``TxDefaultProfile``."""
SETPOINT_PROFILE_ID = 2
"""Id of the ``TxProfile`` that carries the central setpoint (replaced on every change)."""
DEFAULT_STACK_LEVEL, SETPOINT_STACK_LEVEL = 0, 1


class OperationMode(StrEnum):
    """The OCPP 2.1 operation modes voltbridge uses (``OperationModeEnumType``)."""

    CENTRAL_SETPOINT = "CentralSetpoint"
    """Follow ``setpoint`` [W], + charging, - discharging."""
    CHARGING_ONLY = "ChargingOnly"
    """Charge up to ``limit`` [W]; never discharge."""
    IDLE = "Idle"
    """Neither charge nor discharge."""


@dataclass(frozen=True)
class PeriodRequest:
    """What one schedule period asks of the charger.

    Attributes:
        mode: the operation mode.
        setpoint_kw: signed AC setpoint [kW] (``CentralSetpoint`` only), + charging.
        limit_kw: charge limit [kW], >= 0.
        discharge_limit_kw: discharge limit [kW], >= 0 (sent as a negative ``dischargeLimit``).
        phase_setpoints_kw: setpoints of L1, L2, L3 [kW] instead of one total ``setpoint_kw``.
    """

    mode: OperationMode
    setpoint_kw: float | None = None
    limit_kw: float | None = None
    discharge_limit_kw: float | None = None
    phase_setpoints_kw: tuple[float, float, float] | None = None


def watts(kw: float) -> float:
    """Power [kW] → [W], rounded to 0.1 W."""
    return round(kw * 1000.0, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def schedule_period(request: PeriodRequest, version: str) -> dict[str, Any]:
    """One ``ChargingSchedulePeriodType`` starting at 0 s, with the schema's exact keys.

    Per-phase keys are written ``setpoint_L2``/``setpoint_L3`` as the 2.1 schema spells them. For
    OCPP 2.0.1 (no operation modes, no setpoints) the period is a charge ``limit`` [W] >= 0: a
    negative setpoint becomes 0.
    """
    if version == "2.0.1":
        if request.mode is OperationMode.CENTRAL_SETPOINT:
            total = request.setpoint_kw
            if request.phase_setpoints_kw is not None:
                total = sum(request.phase_setpoints_kw)
            kw = max(total or 0.0, 0.0)
        elif request.mode is OperationMode.CHARGING_ONLY:
            kw = max(request.limit_kw or 0.0, 0.0)
        else:
            kw = 0.0
        return {"startPeriod": 0, "limit": watts(kw)}
    period: dict[str, Any] = {"startPeriod": 0, "operationMode": request.mode.value}
    if request.phase_setpoints_kw is not None:
        l1, l2, l3 = request.phase_setpoints_kw
        period.update(setpoint=watts(l1), setpoint_L2=watts(l2), setpoint_L3=watts(l3))
    elif request.setpoint_kw is not None:
        period["setpoint"] = watts(request.setpoint_kw)
    if request.limit_kw is not None:
        period["limit"] = watts(max(request.limit_kw, 0.0))
    if request.discharge_limit_kw is not None:
        period["dischargeLimit"] = -watts(max(request.discharge_limit_kw, 0.0)) + 0.0
    return period


def charging_profile(
    *,
    profile_id: int,
    stack_level: int,
    purpose: str,
    period: PeriodRequest,
    version: str,
    transaction_id: str | None = None,
    start: datetime | None = None,
    max_offline_duration_s: int | None = None,
) -> dict[str, Any]:
    """A ``ChargingProfileType`` with one schedule of one period, in W.

    ``start`` makes it ``Absolute`` from that moment, otherwise ``Relative`` (from the start of the
    transaction). ``max_offline_duration_s`` (2.1 only) bounds how long the profile stays valid
    while the charger is offline; it then becomes invalid for good
    (``invalidAfterOfflineDuration``), so a stale setpoint never resumes on reconnection.
    """
    schedule: dict[str, Any] = {
        "id": profile_id,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [schedule_period(period, version)],
    }
    if start is not None:
        schedule["startSchedule"] = iso(start)
    profile: dict[str, Any] = {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute" if start is not None else "Relative",
        "chargingSchedule": [schedule],
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    if max_offline_duration_s is not None and version != "2.0.1":
        profile["maxOfflineDuration"] = max_offline_duration_s
        profile["invalidAfterOfflineDuration"] = True
    return profile


def default_profile(*, offline_charge_kw: float, version: str) -> dict[str, Any]:
    """The safe default: ``TxDefaultProfile``, stack level 0, ``ChargingOnly`` up to
    ``offline_charge_kw`` [kW] (``Idle`` at 0), valid offline without a time limit."""
    mode = OperationMode.CHARGING_ONLY if offline_charge_kw > 0 else OperationMode.IDLE
    return charging_profile(
        profile_id=DEFAULT_PROFILE_ID,
        stack_level=DEFAULT_STACK_LEVEL,
        purpose="TxDefaultProfile",
        period=PeriodRequest(mode, limit_kw=offline_charge_kw),
        version=version,
    )


def setpoint_profile(
    *,
    transaction_id: str,
    setpoint_kw: float,
    max_charge_kw: float,
    max_discharge_kw: float,
    max_offline_duration_s: int,
    version: str,
    start: datetime | None = None,
) -> dict[str, Any]:
    """The central setpoint [kW] (+ charging) as a ``TxProfile`` at stack level 1, bounded by
    ``limit`` = ``max_charge_kw`` and ``dischargeLimit`` = -``max_discharge_kw`` [kW]."""
    return mode_profile(
        PeriodRequest(
            OperationMode.CENTRAL_SETPOINT,
            setpoint_kw=setpoint_kw,
            limit_kw=max_charge_kw,
            discharge_limit_kw=max_discharge_kw,
        ),
        transaction_id=transaction_id,
        max_offline_duration_s=max_offline_duration_s,
        version=version,
        start=start,
    )


def mode_profile(
    period: PeriodRequest,
    *,
    transaction_id: str,
    max_offline_duration_s: int,
    version: str,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Any ``period`` (``ChargingOnly``, ``Idle``, ...) as the transaction's ``TxProfile``."""
    return charging_profile(
        profile_id=SETPOINT_PROFILE_ID,
        stack_level=SETPOINT_STACK_LEVEL,
        purpose="TxProfile",
        period=period,
        version=version,
        transaction_id=transaction_id,
        start=start,
        max_offline_duration_s=max_offline_duration_s,
    )


def set_charging_profile_request(evse_id: int, profile: dict[str, Any]) -> dict[str, Any]:
    """The ``SetChargingProfileRequest`` payload for ``profile`` on ``evse_id`` (0: every EVSE)."""
    return {"evseId": evse_id, "chargingProfile": profile}
