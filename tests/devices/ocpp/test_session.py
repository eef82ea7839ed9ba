"""Central system and charging-station simulator over real loopback websockets: the session."""

from __future__ import annotations

from datetime import timedelta

from voltbridge.devices.capabilities import Charger, capabilities_of


def test_boot_plug_and_needs_reach_the_central_system(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            driver = rig.driver
            assert isinstance(driver, Charger) and capabilities_of(driver) == {"charger"}
            assert driver.connected and driver.version == "2.1" and driver.booted
            assert driver.v2x_capabilities["SupportedOperationModes"] == (
                "CentralSetpoint,ChargingOnly,Idle"
            )
            # the safe default profile is installed at stack level 0, ChargingOnly/Idle
            default = rig.station.stack.profiles[1]
            assert (default.purpose, default.stack_level) == ("TxDefaultProfile", 0)
            assert default.periods[0].mode == "Idle"
            assert not await driver.plugged_in()

            await rig.plugged_and_ready()
            assert await driver.plugged_in()
            needs = driver.needs
            assert needs is not None and needs.bidirectional
            assert needs.departure == ocpp.T0 + timedelta(hours=8)
            assert needs.target_soc_pct == 80
            assert needs.energy_requested_kwh == 0.8 * 60 - 30
            assert (needs.max_charge_kw, needs.max_discharge_kw) == (11.0, 9.0)
            assert needs.energy_to_min_v2x_kwh == 0.2 * 60 - 30
            assert rig.station.allowed_transfers == ["AC_BPT", "AC_three_phase"]

            m = await driver.read_charger()
            assert m.device == "CP1" and m.at == ocpp.T0 and m.power_kw == 0.0
            assert m.soc_kwh == 30.0  # 50 % of a capacity estimated from the needs: 60 kWh
            assert driver.capacity_kwh == 60.0

    ocpp.run(scenario)


def test_negative_setpoint_reaches_the_station_as_sent_and_the_soc_falls(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-5.0)
            action, sent = rig.station.received[-1]
            assert action == "SetChargingProfile"
            profile = sent["charging_profile"]
            period = profile["charging_schedule"][0]["charging_schedule_period"][0]
            assert period["operation_mode"] == "CentralSetpoint"
            assert period["setpoint"] == -5000.0
            assert (period["limit"], period["discharge_limit"]) == (11000.0, -7000.0)
            assert (profile["charging_profile_purpose"], profile["stack_level"]) == ("TxProfile", 1)
            assert profile["max_offline_duration"] == 60
            assert profile["transaction_id"] == rig.station.transaction_id
            assert rig.car.setpoint_kw == -5.0 and rig.driver.setpoint_kw == -5.0

            before = await rig.driver.read_charger()
            await rig.advance(60)
            await ocpp.eventually(
                lambda: rig.driver.sample.at >= before.at + timedelta(seconds=50), "meter values"
            )
            after = await rig.driver.read_charger()
            assert after.power_kw == -5.0
            assert after.soc_kwh < before.soc_kwh
            assert rig.car.soc_kwh < 30.0

    ocpp.run(scenario)


def test_setpoints_are_clipped_to_configured_limits(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig(max_discharge_kw=4.0) as rig:
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-9.0)
            assert rig.car.setpoint_kw == -4.0
            await rig.driver.set_charge_power(50.0)
            assert rig.car.setpoint_kw == 11.0

    ocpp.run(scenario)


def test_charging_only_never_discharges(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-5.0)
            assert rig.car.setpoint_kw == -5.0
            await rig.driver.set_charging_only(3.0)
            period = rig.station.received[-1][1]["charging_profile"]["charging_schedule"][0][
                "charging_schedule_period"
            ][0]
            assert period == {"start_period": 0, "operation_mode": "ChargingOnly", "limit": 3000.0}
            assert rig.car.setpoint_kw == 3.0
            soc = rig.car.soc_kwh
            await rig.advance(30)
            assert rig.car.soc_kwh > soc
            await rig.driver.set_idle()
            assert rig.car.setpoint_kw == 0.0

    ocpp.run(scenario)


def test_a_charge_only_charger_config_clamps_discharge_to_zero(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig(max_discharge_kw=0.0) as rig:
            await rig.plugged_and_ready()
            assert rig.station.allowed_transfers == ["AC_three_phase"]
            await rig.driver.set_charge_power(-5.0)
            assert rig.car.setpoint_kw == 0.0

    ocpp.run(scenario)


def test_a_setpoint_before_plug_in_waits_for_the_transaction(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            await rig.driver.set_charge_power(2.0)  # no transaction: kept
            assert rig.car.setpoint_kw == 0.0
            rig.station.plug(True)
            await ocpp.eventually(lambda: rig.car.setpoint_kw == 2.0, "pending setpoint applied")
            rig.station.plug(False)
            await ocpp.eventually(
                lambda: (
                    rig.driver.transaction_id is None and rig.driver.connector_status == "Available"
                ),
                "transaction ended and connector available",
            )
            assert not await rig.driver.plugged_in()
            m = await rig.driver.read_charger()
            assert m.soc_kwh is None  # no car, no state of charge

    ocpp.run(scenario)


def test_remote_stop_and_start(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(4.0)
            await rig.driver.request_stop_transaction()
            assert rig.car.setpoint_kw == 0.0
            await ocpp.eventually(lambda: rig.driver.transaction_id is None, "stop reported")
            tx = await rig.driver.request_start_transaction()
            assert tx is not None and tx == rig.station.transaction_id
            await ocpp.eventually(lambda: rig.driver.transaction_id == tx, "start reported")

    ocpp.run(scenario)


def test_shutdown_sends_the_safe_default_before_closing(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-6.0)
            assert rig.car.setpoint_kw == -6.0
            await rig.central.shutdown()
            action, sent = rig.station.received[-1]
            period = sent["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]
            assert action == "SetChargingProfile" and period["setpoint"] == 0.0
            assert rig.car.setpoint_kw == 0.0
            await ocpp.eventually(lambda: not rig.station.connected, "connection closed")

    ocpp.run(scenario)
