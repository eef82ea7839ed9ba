"""Payloads against the OCPP JSON schemas shipped with the ``ocpp`` package, and the per-phase
key finding: the library's snake→camel conversion cannot produce ``setpoint_L2``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import FormatViolationError
from ocpp.messages import Call, _validate_payload
from ocpp.v21 import ChargePoint, call
from ocpp.v21.datatypes import (
    ChargingProfileType,
    ChargingSchedulePeriodType,
    ChargingScheduleType,
    V2XChargingParametersType,
)

from voltbridge.devices.ocpp.profile_stack import parse_profile
from voltbridge.devices.ocpp.profiles import (
    OperationMode,
    PeriodRequest,
    default_profile,
    mode_profile,
    set_charging_profile_request,
    setpoint_profile,
)
from voltbridge.devices.ocpp.station_messages import (
    CarNeeds,
    CarReading,
    boot_notification,
    charging_needs,
    meter_value,
    status_notification,
    transaction_event,
)

T = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def valid(action: str, payload: dict[str, Any], version: str = "2.1") -> bool:
    """True when ``payload`` passes the schema of ``action``'s request (raises otherwise)."""
    _validate_payload(Call("1", action, payload), version)
    return True


class _Silent:
    """A transport that must never be written to."""

    async def send(self, message: str) -> None:
        raise AssertionError(f"the library sent {message}")

    async def recv(self) -> str:
        raise AssertionError("nothing to receive")


def test_library_turns_per_phase_keys_into_keys_the_schema_rejects() -> None:
    period = ChargingSchedulePeriodType(
        start_period=0,
        operation_mode="CentralSetpoint",
        setpoint=-1000.0,
        setpoint_l2=-1000.0,
        setpoint_l3=-1000.0,
    )
    produced = snake_to_camel_case(remove_nones(serialize_as_dict(period)))
    assert produced == {
        "startPeriod": 0,
        "operationMode": "CentralSetpoint",
        "setpoint": -1000.0,
        "setpointL2": -1000.0,  # the schema spells it setpoint_L2
        "setpointL3": -1000.0,
    }
    needs = V2XChargingParametersType(max_charge_power=3680.0, max_charge_power_l2=3680.0)
    assert "maxChargePowerL2" in snake_to_camel_case(remove_nones(serialize_as_dict(needs)))
    # so the library refuses to send the dataclass: schema validation fails before sending
    request = call.SetChargingProfile(
        evse_id=1,
        charging_profile=ChargingProfileType(
            id=2,
            stack_level=1,
            charging_profile_purpose="TxProfile",
            charging_profile_kind="Relative",
            transaction_id="tx",
            charging_schedule=[
                ChargingScheduleType(
                    id=2, charging_rate_unit="W", charging_schedule_period=[period]
                )
            ],
        ),
    )
    with pytest.raises(FormatViolationError, match="setpointL2"):
        asyncio.run(ChargePoint("CP1", _Silent()).call(request))


def test_our_per_phase_profile_uses_the_schema_keys_and_reads_back_whole() -> None:
    period = PeriodRequest(OperationMode.CENTRAL_SETPOINT, phase_setpoints_kw=(-1.0, -1.0, -1.5))
    payload = set_charging_profile_request(
        1, mode_profile(period, transaction_id="tx", max_offline_duration_s=60, version="2.1")
    )
    sent = payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]
    assert (sent["setpoint"], sent["setpoint_L2"], sent["setpoint_L3"]) == (-1000, -1000, -1500)
    assert valid("SetChargingProfile", payload)
    # what a handler receives: the library's camel→snake conversion gives setpoint_l2
    received = camel_to_snake_case(payload)
    assert (
        "setpoint_l2"
        in received["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]
    )
    held = parse_profile(received["charging_profile"], evse_id=1)
    assert held.periods[0].setpoint_w == -3500.0


@pytest.mark.parametrize("version", ["2.1", "2.0.1"])
def test_profiles_pass_the_schema_of_their_version(version: str) -> None:
    for profile in (
        default_profile(offline_charge_kw=0.0, version=version),
        default_profile(offline_charge_kw=3.7, version=version),
        setpoint_profile(
            transaction_id="tx",
            setpoint_kw=-4.2,
            max_charge_kw=11,
            max_discharge_kw=7,
            max_offline_duration_s=60,
            version=version,
            start=T,
        ),
        mode_profile(
            PeriodRequest(OperationMode.IDLE),
            transaction_id="tx",
            max_offline_duration_s=0,
            version=version,
        ),
    ):
        assert valid("SetChargingProfile", set_charging_profile_request(1, profile), version)
        period = profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]
        if version == "2.0.1":
            assert set(period) == {"startPeriod", "limit"} and period["limit"] >= 0


def test_the_station_messages_pass_the_21_schemas() -> None:
    reading = CarReading(power_kw=-3.0, import_kwh=1.5, export_kwh=0.25, soc_pct=47.5)
    needs = CarNeeds(T, 60.0, 30.0, 80.0, 20.0, 90.0, 11.0, 9.0)
    assert valid("BootNotification", boot_notification("sim-v2x", "voltbridge"))
    assert valid("StatusNotification", status_notification(T, 1, "Occupied"))
    assert valid("MeterValues", {"evseId": 1, "meterValue": meter_value(T, reading)})
    assert valid("NotifyEVChargingNeeds", charging_needs(T, 1, needs))
    for event, state, reason in (("Started", "EVConnected", None), ("Ended", None, "Remote")):
        tx = transaction_event(
            at=T,
            event=event,
            trigger="CablePluggedIn",
            seq_no=0,
            transaction_id="tx",
            evse_id=1,
            reading=reading,
            offline=False,
            charging_state=state,
            stopped_reason=reason,
        )
        assert valid("TransactionEvent", tx)
