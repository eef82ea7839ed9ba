"""What the simulated station does with the profiles it holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.charge_point import camel_to_snake_case

from voltbridge.devices.ocpp.profile_stack import (
    Period,
    ProfileRefused,
    ProfileStack,
    parse_profile,
    period_power_kw,
)
from voltbridge.devices.ocpp.profiles import default_profile, setpoint_profile

T = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def _held(profile: dict[str, Any]) -> Any:
    return parse_profile(camel_to_snake_case(profile), evse_id=1)


def test_tx_profile_wins_until_offline_too_long_then_the_default_applies() -> None:
    stack = ProfileStack()
    stack.install(_held(default_profile(offline_charge_kw=2.0, version="2.1")))
    sp = setpoint_profile(
        transaction_id="tx",
        setpoint_kw=-5.0,
        max_charge_kw=11,
        max_discharge_kw=7,
        max_offline_duration_s=60,
        version="2.1",
    )
    stack.install(_held(sp))
    held, period = stack.active(T, "tx", T, offline_s=None)
    assert held.purpose == "TxProfile" and period_power_kw(period, 11, 9) == -5.0
    _, period = stack.active(T, "another-tx", T, offline_s=None)  # not this transaction's
    assert period.mode == "ChargingOnly" and period_power_kw(period, 11, 9) == 2.0
    assert stack.active(T, "tx", T, offline_s=59)[0].purpose == "TxProfile"
    assert stack.active(T, "tx", T, offline_s=61)[0].purpose == "TxDefaultProfile"
    assert [p.id for p in stack.expire_offline(61)] == [2]
    assert stack.active(T, "tx", T, offline_s=None)[0].purpose == "TxDefaultProfile"


def test_modes_and_limits() -> None:
    assert period_power_kw(Period(0, "Idle", setpoint_w=5000.0), 11, 9) == 0.0
    assert period_power_kw(Period(0, "ChargingOnly"), 11, 9) == 11.0
    assert period_power_kw(Period(0, "ChargingOnly", limit_w=-3000.0), 11, 9) == 0.0
    sp = Period(0, "CentralSetpoint", setpoint_w=-9000.0, discharge_limit_w=-4000.0)
    assert period_power_kw(sp, 11, 9) == -4.0
    assert period_power_kw(Period(0, "CentralSetpoint", setpoint_w=-9000.0), 11, 5) == -5.0


def test_absolute_schedules_start_on_time_and_bad_profiles_are_refused() -> None:
    sp = setpoint_profile(
        transaction_id="tx",
        setpoint_kw=3.0,
        max_charge_kw=11,
        max_discharge_kw=7,
        max_offline_duration_s=60,
        version="2.1",
        start=T + timedelta(minutes=5),
    )
    stack = ProfileStack()
    stack.install(_held(sp))
    assert stack.active(T, "tx", T, None) is None
    assert stack.active(T + timedelta(minutes=5), "tx", T, None) is not None
    bad = camel_to_snake_case(sp)
    bad["charging_schedule"][0]["charging_rate_unit"] = "A"
    with pytest.raises(ProfileRefused) as info:
        parse_profile(bad, 1)
    assert info.value.reason == "UnsupportedRateUnit"
    bad = camel_to_snake_case(sp)
    bad["charging_schedule"][0]["charging_schedule_period"][0]["operation_mode"] = "LocalFrequency"
    with pytest.raises(ProfileRefused, match="LocalFrequency"):
        parse_profile(bad, 1)
