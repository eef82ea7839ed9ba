"""A charger that hangs with its connection open, and one that never answers an optional message:
the first is given up and reads as unknown, the second costs no setpoint any time."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.headers import build_authorization_basic

from voltbridge.control.io import guarded_call
from voltbridge.devices.ocpp import CentralSystem, CentralSystemConfig

OTHER_PASSWORD = "another-long-password"


def _headers(user: str, password: str) -> dict[str, str]:
    return {"Authorization": build_authorization_basic(user, password)}


def test_a_frozen_charger_is_given_up_after_its_silence_limit_and_reads_as_unknown(
    ocpp, caplog
) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig(via_proxy=True) as rig:
            driver = rig.driver
            await rig.plugged_and_ready()
            await driver.set_charge_power(-5.0)
            await rig.advance(15)
            await ocpp.eventually(lambda: driver.sample.at >= ocpp.T0.replace(second=10), "meter")
            assert await driver.plugged_in()

            rig.proxy.frozen = True  # the charger hangs: its socket stays open, nothing comes
            await rig.advance(40)  # within heartbeat interval 60 s + answer timeout 5 s
            assert driver.connected and await driver.plugged_in()
            await rig.advance(40)
            await ocpp.eventually(lambda: not driver.connected, "the frozen charger given up")
            with pytest.raises(ConnectionError, match="not connected"):
                await driver.plugged_in()
            with pytest.raises(ConnectionError, match="unknown"):
                await driver.read_charger()
            # what the controller sees: a fault and no value, never the last power or plug state
            faults: dict[str, str] = {}
            assert await guarded_call("car", driver.plugged_in, 1.0, faults) is None
            assert await guarded_call("car", driver.read_charger, 1.0, faults) is None
            assert "not connected" in faults["car"]
            assert "CP1 sent nothing for" in caplog.text
            rig.proxy.cut()

    ocpp.run(scenario)


async def _boot(ws: ClientConnection) -> None:
    await ws.send(
        json.dumps(
            [2, "boot", "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}]
        )
    )  # fmt: skip
    while json.loads(await ws.recv())[1] != "boot":
        pass


async def _answer_every_request(ws: ClientConnection) -> None:
    """Answer whatever the CSMS asks with a CALLERROR (alive when asked, silent otherwise)."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            frame = json.loads(await ws.recv())
            if frame[0] == 2:
                await ws.send(json.dumps([4, frame[1], "NotSupported", "raw client", {}]))


def test_a_charger_silent_beyond_heartbeat_and_answer_time_has_its_socket_closed(ocpp) -> None:
    async def scenario() -> None:
        clock = ocpp.SteppedClock(ocpp.T0)
        config = CentralSystemConfig(
            port=0,
            heartbeat_interval_s=60,
            response_timeout_s=30.0,
            chargers=[ocpp.charger_config()],
        )
        async with CentralSystem(config, clock) as central:
            url = f"ws://127.0.0.1:{central.port}/ocpp/CP1"
            headers = _headers("CP1", ocpp.PASSWORD)
            async with connect(url, subprotocols=["ocpp2.1"], additional_headers=headers) as ws:
                await _boot(ws)
                answering = asyncio.create_task(_answer_every_request(ws))
                driver = central.charger("CP1")
                silent_s = 0
                while driver.connected and silent_s < 200:
                    clock.advance(1)
                    silent_s += 1
                    await ocpp.settle()  # the watchdog's check and what it sets off are done
                # given up once silent for 60 + 30 s, within a check period or two (90 / 8 s)
                assert driver.last_seen is not None
                silence_s = (clock.now() - driver.last_seen).total_seconds()
                assert 90 <= silence_s <= 90 + 2 * 90 / 8
                # closed as soon as it was given up, without any time passing on the loop
                await asyncio.wait_for(ws.wait_closed(), ocpp.WITHIN_S)
                assert ws.close_reason.startswith("frozen: sent nothing for")
                await answering
                with pytest.raises(ConnectionError):
                    await driver.plugged_in()

    ocpp.run(scenario)


def test_a_charger_that_owes_an_answer_and_says_nothing_is_closed(ocpp, caplog) -> None:
    answer_timeout_s = 7.0

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        config = CentralSystemConfig(
            port=0, response_timeout_s=answer_timeout_s, chargers=[ocpp.charger_config()]
        )
        async with CentralSystem(config, ocpp.SteppedClock(ocpp.T0)) as central:
            url = f"ws://127.0.0.1:{central.port}/ocpp/CP1"
            headers = _headers("CP1", ocpp.PASSWORD)
            async with connect(url, subprotocols=["ocpp2.1"], additional_headers=headers) as ws:
                await _boot(ws)  # then nothing: the default profile sent at connection hangs
                booted_at = loop.time()
                await ws.wait_closed()  # the scenario's guard ends a test where it never closes
                waited_s = loop.time() - booted_at
                assert not central.charger("CP1").connected
        assert "answered no SetChargingProfile and sent nothing else" in caplog.text
        return waited_s

    # given up when its answer timeout ran out, on simulated time: not before, not much after
    assert ocpp.run(scenario) == pytest.approx(answer_timeout_s, abs=ocpp.WITHIN_S)


class _MuteOnAllowedTransfers(ChargePoint21):
    """A 2.1 charger on the ``ocpp`` package that never answers NotifyAllowedEnergyTransfer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profiles: list[dict[str, Any]] = []
        self.notified = asyncio.Event()

    async def route_message(self, raw_msg: str) -> None:
        frame = json.loads(raw_msg)
        if frame[0] == 2 and frame[2] == "NotifyAllowedEnergyTransfer":
            self.notified.set()  # and never answered
            return
        await super().route_message(raw_msg)

    @on("SetChargingProfile")
    def on_set_charging_profile(self, charging_profile: dict[str, Any], **_: Any) -> Any:
        self.profiles.append(charging_profile)
        return result21.SetChargingProfile(status="Accepted")

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = [{**item, "attribute_status": "UnknownComponent"} for item in get_variable_data]
        return result21.GetVariables(get_variable_result=results)


def test_an_unanswered_optional_message_does_not_delay_the_setpoint(ocpp) -> None:
    async def scenario() -> None:
        extra = [ocpp.charger_config(charger_id="CP2", password=OTHER_PASSWORD)]
        # an answer timeout of 5 minutes: waiting for the optional answer would show
        async with ocpp.running_rig(extra=extra, response_timeout_s=300.0) as rig:
            url = f"ws://127.0.0.1:{rig.central.port}/ocpp/CP2"
            headers = _headers("CP2", OTHER_PASSWORD)
            async with connect(url, subprotocols=["ocpp2.1"], additional_headers=headers) as ws:
                cp = _MuteOnAllowedTransfers("CP2", ws)
                reader = asyncio.create_task(cp.start())
                boot = call21.BootNotification(
                    charging_station={"model": "Mute", "vendor_name": "Acme"}, reason="PowerUp"
                )
                assert (await cp.call(boot)).status == "Accepted"
                await cp.call(
                    call21.TransactionEvent(
                        event_type="Started",
                        timestamp="2026-03-01T18:00:00Z",
                        trigger_reason="CablePluggedIn",
                        seq_no=0,
                        transaction_info={"transaction_id": "tx-2"},
                        evse={"id": 1, "connector_id": 1},
                    )
                )
                needs = {
                    "requested_energy_transfer": "AC_BPT",
                    "available_energy_transfer": ["AC_BPT"],
                }
                await cp.call(call21.NotifyEVChargingNeeds(evse_id=1, charging_needs=needs))
                await ocpp.eventually(cp.notified.is_set, "NotifyAllowedEnergyTransfer sent")
                driver = rig.central.charger("CP2")
                # the setpoint goes out at once: well within the 300 s the answer could take
                await asyncio.wait_for(driver.set_charge_power(3.0), ocpp.WITHIN_S)
                period = cp.profiles[-1]["charging_schedule"][0]["charging_schedule_period"][0]
                assert period["setpoint"] == 3000.0 and driver.setpoint_kw == 3.0
                reader.cancel()

    ocpp.run(scenario)
