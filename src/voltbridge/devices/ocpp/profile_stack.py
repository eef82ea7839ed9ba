"""The charging profiles a charging station holds and the power [kW] they ask of it now.

Used by the charging-station simulator. Profiles arrive as the ``ocpp`` library hands them to a
handler (snake_case keys). Precedence follows OCPP: a ``TxProfile`` of the running transaction
beats any ``TxDefaultProfile``; within a purpose the highest stack level wins. A profile with
``maxOfflineDuration`` stops counting once the station has been offline longer than that, and is
dropped for good when ``invalidAfterOfflineDuration`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voltbridge.devices.ocpp.schemas import parse_time

SUPPORTED_PURPOSES = ("TxProfile", "TxDefaultProfile")
SUPPORTED_MODES = ("CentralSetpoint", "ChargingOnly", "Idle")


class ProfileRefused(ValueError):
    """A profile the station cannot follow; ``reason`` goes to ``statusInfo.reasonCode``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Period:
    """One schedule period: from ``start_s`` [s] into the schedule; powers [W], + charging."""

    start_s: int
    mode: str
    setpoint_w: float | None = None
    limit_w: float | None = None
    discharge_limit_w: float | None = None


@dataclass(frozen=True)
class HeldProfile:
    """A charging profile as the station keeps it."""

    id: int
    stack_level: int
    purpose: str
    evse_id: int
    periods: tuple[Period, ...]
    transaction_id: str | None = None
    start: datetime | None = None
    duration_s: int | None = None
    max_offline_duration_s: int | None = None
    invalid_after_offline: bool = False


def _phases(period: Mapping[str, Any], key: str) -> float | None:
    """A period's all-phase value: L1 plus L2 and L3 when they are given."""
    if period.get(key) is None:
        return None
    return float(period[key]) + sum(float(period.get(f"{key}_{p}") or 0.0) for p in ("l2", "l3"))


def parse_profile(profile: Mapping[str, Any], evse_id: int) -> HeldProfile:
    """A ``chargingProfile`` (snake_case keys) for ``evse_id``; raises ProfileRefused."""
    purpose = str(profile["charging_profile_purpose"])
    if purpose not in SUPPORTED_PURPOSES:
        raise ProfileRefused("UnsupportedPurpose", f"purpose {purpose} is not supported")
    schedule = profile["charging_schedule"][0]
    if schedule["charging_rate_unit"] != "W":
        raise ProfileRefused("UnsupportedRateUnit", "only chargingRateUnit W is supported")
    periods = []
    for p in schedule["charging_schedule_period"]:
        mode = str(p.get("operation_mode", "ChargingOnly"))  # absent means ChargingOnly
        if mode not in SUPPORTED_MODES:
            raise ProfileRefused("UnsupportedOperationMode", f"operationMode {mode} not supported")
        periods.append(
            Period(
                start_s=int(p["start_period"]),
                mode=mode,
                setpoint_w=_phases(p, "setpoint"),
                limit_w=_phases(p, "limit"),
                discharge_limit_w=_phases(p, "discharge_limit"),
            )
        )
    if profile.get("charging_profile_kind") in ("Absolute", "Recurring") and not schedule.get(
        "start_schedule"
    ):
        raise ProfileRefused("MissingStartSchedule", "an Absolute profile needs startSchedule")
    start = schedule.get("start_schedule")
    return HeldProfile(
        id=int(profile["id"]),
        stack_level=int(profile["stack_level"]),
        purpose=purpose,
        evse_id=evse_id,
        periods=tuple(sorted(periods, key=lambda q: q.start_s)),
        transaction_id=profile.get("transaction_id"),
        start=parse_time(str(start)) if start else None,
        duration_s=schedule.get("duration"),
        max_offline_duration_s=profile.get("max_offline_duration"),
        invalid_after_offline=bool(profile.get("invalid_after_offline_duration", False)),
    )


def period_power_kw(period: Period, max_charge_kw: float, max_discharge_kw: float) -> float:
    """The AC power [kW] (+ charging) a period asks, within its own limits and the car's.

    ``ChargingOnly`` charges at its ``limit`` (the car's maximum without one) and never
    discharges; ``Idle`` is 0; ``CentralSetpoint`` follows ``setpoint`` within ``limit`` and
    ``dischargeLimit``.

    >>> period_power_kw(Period(0, "ChargingOnly", setpoint_w=-5000.0, limit_w=3000.0), 11, 7)
    3.0
    """
    hi = max_charge_kw if period.limit_w is None else min(max_charge_kw, period.limit_w / 1000)
    hi = max(hi, 0.0)
    if period.mode == "Idle":
        return 0.0
    if period.mode == "ChargingOnly":
        return hi
    lo = -max_discharge_kw
    if period.discharge_limit_w is not None:
        lo = max(lo, period.discharge_limit_w / 1000)
    return min(max((period.setpoint_w or 0.0) / 1000, min(lo, 0.0)), hi)


class ProfileStack:
    """The profiles one station holds, by id."""

    def __init__(self) -> None:
        self.profiles: dict[int, HeldProfile] = {}

    def install(self, profile: HeldProfile) -> None:
        """Add ``profile``, replacing one with the same id, or with the same purpose, stack level
        and EVSE (as OCPP requires)."""
        for pid, held in list(self.profiles.items()):
            same_slot = (held.purpose, held.stack_level, held.evse_id) == (
                profile.purpose,
                profile.stack_level,
                profile.evse_id,
            )
            if pid == profile.id or same_slot:
                del self.profiles[pid]
        self.profiles[profile.id] = profile

    def clear(
        self,
        profile_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the profiles matching every given criterion; returns how many."""
        gone = [
            pid
            for pid, p in self.profiles.items()
            if (profile_id is None or pid == profile_id)
            and (purpose is None or p.purpose == purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for pid in gone:
            del self.profiles[pid]
        return len(gone)

    def end_transaction(self) -> None:
        """Drop every ``TxProfile`` (they end with their transaction)."""
        self.clear(purpose="TxProfile")

    def expire_offline(self, offline_s: float | None) -> list[HeldProfile]:
        """Drop the profiles made invalid for good by ``offline_s`` [s] offline; returns them."""
        if offline_s is None:
            return []
        gone = [
            p for p in self.profiles.values() if p.invalid_after_offline and _expired(p, offline_s)
        ]
        for p in gone:
            del self.profiles[p.id]
        return gone

    def active(
        self,
        now: datetime,
        transaction_id: str | None,
        transaction_start: datetime | None,
        offline_s: float | None,
    ) -> tuple[HeldProfile, Period] | None:
        """The profile and period in force at ``now``, or None when no profile applies.

        ``offline_s`` is how long [s] the station has been offline, None while online.
        """
        candidates = [
            p
            for p in self.profiles.values()
            if not (offline_s is not None and _expired(p, offline_s))
            and (p.purpose != "TxProfile" or p.transaction_id == transaction_id)
        ]
        for purpose in SUPPORTED_PURPOSES:
            ranked = sorted(
                (p for p in candidates if p.purpose == purpose),
                key=lambda p: p.stack_level,
                reverse=True,
            )
            for p in ranked:
                period = _period_at(p, now, transaction_start)
                if period is not None:
                    return p, period
        return None


def _expired(profile: HeldProfile, offline_s: float) -> bool:
    limit = profile.max_offline_duration_s
    return limit is not None and offline_s > limit


def _period_at(profile: HeldProfile, now: datetime, tx_start: datetime | None) -> Period | None:
    origin = profile.start or tx_start or now
    elapsed_s = (now - origin).total_seconds()
    if elapsed_s < 0 or (profile.duration_s is not None and elapsed_s >= profile.duration_s):
        return None
    current = None
    for period in profile.periods:
        if period.start_s <= elapsed_s:
            current = period
    return current
