"""The central system's edge: handshake authentication, subprotocols, TLS, malformed frames and
OCPP 2.0.1 chargers, with raw websocket clients where the simulator would be too polite."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.headers import build_authorization_basic

OTHER_PASSWORD = "another-long-password"


def _auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": build_authorization_basic(user, password)}


async def _refused(url: str, headers: dict[str, str], subprotocols: list[str]) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, subprotocols=subprotocols, additional_headers=headers):
            pass
    return info.value.response.status_code


def test_handshake_refuses_unknown_chargers_bad_credentials_and_other_subprotocols(ocpp) -> None:
    async def scenario() -> None:
        extra = [ocpp.charger_config(charger_id="CP2", password=OTHER_PASSWORD)]
        async with ocpp.running_rig(extra=extra) as rig:
            base = f"ws://127.0.0.1:{rig.central.port}/ocpp"
            ok = ["ocpp2.1"]
            assert await _refused(f"{base}/CP2", {}, ok) == 401
            assert await _refused(f"{base}/CP2", _auth("CP2", "wrong-password-123456"), ok) == 401
            assert await _refused(f"{base}/CP2", _auth("CP1", ocpp.PASSWORD), ok) == 401
            assert await _refused(f"{base}/CP2", _auth("CP2", ocpp.PASSWORD), ok) == 401
            assert await _refused(f"{base}/CP9", _auth("CP9", OTHER_PASSWORD), ok) == 404
            good = _auth("CP2", OTHER_PASSWORD)
            assert await _refused(f"{base}/CP2", good, ["ocpp1.6"]) == 400
            assert await _refused(f"{base}/CP2", good, []) == 400
            async with connect(f"{base}/CP2", subprotocols=ok, additional_headers=good) as ws:
                assert ws.subprotocol == "ocpp2.1"
            assert rig.driver.connected  # the simulator was never disturbed

    asyncio.run(scenario())


async def _answer(ws: ClientConnection, message_id: str) -> list[Any]:
    """The response to ``message_id``; requests from the CSMS meanwhile get a CALLERROR."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5.0))
        if frame[0] == 2:
            await ws.send(json.dumps([4, frame[1], "NotImplemented", "raw test client", {}]))
            continue
        if frame[1] == message_id:
            return frame


def test_malformed_frames_get_a_call_error_and_the_server_keeps_serving(ocpp) -> None:
    async def scenario() -> None:
        extra = [ocpp.charger_config(charger_id="CP2", password=OTHER_PASSWORD)]
        async with ocpp.running_rig(extra=extra) as rig:
            url = f"ws://127.0.0.1:{rig.central.port}/ocpp/CP2"
            headers = _auth("CP2", OTHER_PASSWORD)
            async with connect(url, subprotocols=["ocpp2.1"], additional_headers=headers) as ws:
                cases = [
                    ("this is not json", "-1", "FormatViolation"),
                    ('{"not": "a list"}', "-1", "ProtocolError"),
                    ('[5, "m1", "Heartbeat", {}]', "m1", "MessageTypeNotSupported"),
                    ('[2, "m2", "Heartbeat"]', "m2", "ProtocolError"),
                    ('[2, "m3", "BootNotification", {"reason": "PowerUp"}]', "m3", "ProtocolError"),
                    (
                        '[2, "m4", "BootNotification", {"reason": "PowerUp", '
                        '"chargingStation": {"model": 5, "vendorName": "x"}}]',
                        "m4",
                        "TypeConstraintViolation",
                    ),
                    ('[2, "m5", "Heartbeat", {"extra": 1}]', "m5", "FormatViolation"),
                    ('[2, "m6", "NoSuchAction", {}]', "m6", "NotSupported"),
                    ('[2, "m7", "Reset", {"type": "Immediate"}]', "m7", "NotImplemented"),
                ]
                for raw, message_id, code in cases:
                    await ws.send(raw)
                    frame = await _answer(ws, message_id)
                    assert frame[0] == 4 and frame[2] == code, (raw, frame)
                await ws.send('[2, "ok", "Heartbeat", {}]')
                frame = await _answer(ws, "ok")
                assert frame[0] == 3 and frame[2]["currentTime"] == "2026-03-01T18:00:00Z"
            # the other charger was served all along
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-2.0)
            assert rig.car.setpoint_kw == -2.0

    asyncio.run(scenario())


class _LegacyCharger(ChargePoint201):
    """An OCPP 2.0.1 (charge-only) charger built on the library, recording its profiles."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profiles: list[dict[str, Any]] = []

    @on("SetChargingProfile")
    def on_set_charging_profile(self, charging_profile: dict[str, Any], **_: Any) -> Any:
        self.profiles.append(charging_profile)
        return result201.SetChargingProfile(status="Accepted")

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = [{**item, "attribute_status": "UnknownComponent"} for item in get_variable_data]
        return result201.GetVariables(get_variable_result=results)


def test_an_ocpp_201_charger_never_gets_a_negative_setpoint(ocpp, caplog) -> None:
    async def scenario() -> None:
        extra = [ocpp.charger_config(charger_id="OLD", password=OTHER_PASSWORD)]
        async with ocpp.running_rig(extra=extra) as rig:
            url = f"ws://127.0.0.1:{rig.central.port}/ocpp/OLD"
            headers = _auth("OLD", OTHER_PASSWORD)
            async with connect(url, subprotocols=["ocpp2.0.1"], additional_headers=headers) as ws:
                cp = _LegacyCharger("OLD", ws)
                reader = asyncio.create_task(cp.start())
                boot = call201.BootNotification(
                    charging_station={"model": "Old", "vendor_name": "Acme"}, reason="PowerUp"
                )
                assert (await cp.call(boot)).status == "Accepted"
                await cp.call(
                    call201.TransactionEvent(
                        event_type="Started",
                        timestamp="2026-03-01T18:00:00Z",
                        trigger_reason="CablePluggedIn",
                        seq_no=0,
                        transaction_info={"transaction_id": "tx-old"},
                        evse={"id": 1, "connector_id": 1},
                    )
                )
                driver = rig.central.charger("OLD")
                await ocpp.eventually(lambda: driver.transaction_id == "tx-old", "transaction")
                assert driver.version == "2.0.1"
                await driver.set_charge_power(-5.0)
                period = cp.profiles[-1]["charging_schedule"][0]["charging_schedule_period"][0]
                assert period == {"start_period": 0, "limit": 0.0}
                assert "max_offline_duration" not in cp.profiles[-1]
                assert "clamped to 0 kW" in caplog.text
                await driver.set_charge_power(4.0)
                period = cp.profiles[-1]["charging_schedule"][0]["charging_schedule_period"][0]
                assert period == {"start_period": 0, "limit": 4000.0}
                default = cp.profiles[0]  # installed at connection, 2.0.1-valid
                assert default["charging_profile_purpose"] == "TxDefaultProfile"
                reader.cancel()

    asyncio.run(scenario())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_security_profile_2(ocpp, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip

    async def scenario() -> None:
        async with ocpp.running_rig(tls=(cert, key)) as rig:
            assert rig.central.url("CP1").startswith("wss://")
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-1.5)
            assert rig.car.setpoint_kw == -1.5

    asyncio.run(scenario())
