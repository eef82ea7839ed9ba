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
ANSWER_WITHIN_S = 1.0
"""Simulated seconds an answer may take (the tests run on simulated time): the peer answers at
once, below any answer timeout (5 s), so this only ends a test whose answer never comes."""


def _auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": build_authorization_basic(user, password)}


async def _refusal(url: str, headers: dict[str, str], subprotocols: list[str]) -> Any:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, subprotocols=subprotocols, additional_headers=headers):
            pass
    return info.value.response


async def _refused(url: str, headers: dict[str, str], subprotocols: list[str]) -> int:
    return int((await _refusal(url, headers, subprotocols)).status_code)


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
            good = _auth("CP2", OTHER_PASSWORD)
            assert await _refused(f"{base}/CP2", good, ["ocpp1.6"]) == 400
            assert await _refused(f"{base}/CP2", good, []) == 400
            async with connect(f"{base}/CP2", subprotocols=ok, additional_headers=good) as ws:
                assert ws.subprotocol == "ocpp2.1"
            assert rig.driver.connected  # the simulator was never disturbed

    ocpp.run(scenario)


def test_unknown_and_known_identities_are_refused_alike(ocpp) -> None:
    """An attacker learns nothing from the handshake: an identity that does not exist gets the
    very answer a known one with a wrong password gets (it used to be 404 against 401)."""

    async def scenario() -> None:
        async with ocpp.running_rig() as rig:
            base = f"ws://127.0.0.1:{rig.central.port}/ocpp"
            ok = ["ocpp2.1"]
            known = await _refusal(f"{base}/CP1", _auth("CP1", OTHER_PASSWORD), ok)
            unknown = await _refusal(f"{base}/CP9", _auth("CP9", OTHER_PASSWORD), ok)
            bare = await _refusal(f"{base}/CP9", {}, ok)
            for response in (unknown, bare):
                assert response.status_code == known.status_code == 401
                assert response.body == known.body
                assert response.headers["WWW-Authenticate"] == known.headers["WWW-Authenticate"]

    ocpp.run(scenario)


def test_identities_match_case_insensitively(ocpp) -> None:
    async def scenario() -> None:
        extra = [ocpp.charger_config(charger_id="wallbox-1", password=OTHER_PASSWORD)]
        async with ocpp.running_rig(extra=extra) as rig:
            url = f"ws://127.0.0.1:{rig.central.port}/ocpp/WALLBOX-1"
            headers = _auth("WALLBOX-1", OTHER_PASSWORD)
            async with connect(url, subprotocols=["ocpp2.1"], additional_headers=headers) as ws:
                driver = rig.central.charger("wallbox-1")
                assert rig.central.charger("Wallbox-1") is driver
                await ocpp.eventually(lambda: driver.connected, "WALLBOX-1 served as wallbox-1")
                await ws.send('[2, "hb", "Heartbeat", {}]')
                assert (await _answer(ws, "hb"))[0] == 3

    ocpp.run(scenario)


async def _answer(ws: ClientConnection, message_id: str) -> list[Any]:
    """The response to ``message_id``; requests from the CSMS meanwhile get a CALLERROR."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_WITHIN_S))
        if frame[0] == 2:
            await ws.send(json.dumps([4, frame[1], "NotImplemented", "raw test client", {}]))
            continue
        if frame[1] == message_id:
            return frame


async def _answers_until(ws: ClientConnection, message_id: str) -> list[list[Any]]:
    """Every response up to and including the one to ``message_id``, in order."""
    seen: list[list[Any]] = []
    while not seen or seen[-1][1] != message_id:
        frame = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_WITHIN_S))
        if frame[0] == 2:
            await ws.send(json.dumps([4, frame[1], "NotImplemented", "raw test client", {}]))
        else:
            seen.append(frame)
    return seen


NESTED_PAYLOAD = '{"customData": {"vendorId": "x", "deep": ' + "[" * 40 + "]" * 40 + "}}"
NAN_METER = (
    '{"evseId": 1, "meterValue": [{"timestamp": "2026-03-01T18:00:00Z", '
    '"sampledValue": [{"value": NaN, "measurand": "Power.Active.Import"}]}]}'
)
MALFORMED = [
    # not an RPC message at all: the message id cannot be read, so "-1" (Part 4 §4.2.3, §4.3)
    ("this is not json", "-1", "RpcFrameworkError"),
    ("[" * 10000, "-1", "RpcFrameworkError"),
    ("[2, " + "[" * 10000, "-1", "RpcFrameworkError"),
    ('{"not": "a list"}', "-1", "RpcFrameworkError"),
    ("[]", "-1", "RpcFrameworkError"),
    ('["2", "m0", "Heartbeat", {}]', "-1", "RpcFrameworkError"),
    ('[2, 17, "Heartbeat", {}]', "-1", "RpcFrameworkError"),
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "-1", "RpcFrameworkError"),
    # an RPC message whose id can be read
    ('[2, "m2", "Heartbeat"]', "m2", "RpcFrameworkError"),
    ('[2, "m2b", 5, {}]', "m2b", "RpcFrameworkError"),
    ('[2, "m3", "BootNotification", {"reason": "PowerUp"}]', "m3", "ProtocolError"),
    (
        '[2, "m4", "BootNotification", {"reason": "PowerUp", '
        '"chargingStation": {"model": 5, "vendorName": "x"}}]',
        "m4",
        "TypeConstraintViolation",
    ),
    ('[2, "m5", "Heartbeat", {"extra": 1}]', "m5", "FormatViolation"),
    ('[2, "m5b", "Heartbeat", []]', "m5b", "FormatViolation"),
    (f'[2, "m5c", "Heartbeat", {NESTED_PAYLOAD}]', "m5c", "FormatViolation"),
    (f'[2, "m5d", "MeterValues", {NAN_METER}]', "m5d", "TypeConstraintViolation"),
    ('[2, "m6", "NoSuchAction", {}]', "m6", "NotImplemented"),
    ('[2, "m7", "Reset", {"type": "Immediate"}]', "m7", "NotSupported"),
    # ignored (unknown message type, Part 4 §4.1) or dropped (a response nobody waits for)
    ('[5, "m1", "Heartbeat", {}]', None, None),
    ('[6, "m1b", "NotifyPeriodicEventStream", {}]', None, None),
    ('[3, "nobody-asked", {}]', None, None),
    ('[4, "nobody-asked", "GenericError"]', None, None),
]


def test_malformed_frames_get_a_call_error_and_the_server_keeps_serving(ocpp) -> None:
    async def scenario() -> None:
        extra = [ocpp.charger_config(charger_id="CP2", password=OTHER_PASSWORD)]
        async with ocpp.running_rig(extra=extra) as rig:
            url = f"ws://127.0.0.1:{rig.central.port}/ocpp/CP2"
            headers = _auth("CP2", OTHER_PASSWORD)
            async with connect(url, subprotocols=["ocpp2.1"], additional_headers=headers) as ws:
                for n, (raw, message_id, code) in enumerate(MALFORMED):
                    await ws.send(raw)
                    await ws.send(f'[2, "ok{n}", "Heartbeat", {{}}]')
                    answers = await _answers_until(ws, f"ok{n}")
                    expected = [] if code is None else [[4, message_id, code]]
                    assert [a[:3] for a in answers[:-1]] == expected, (raw[:80], answers)
                    assert answers[-1][0] == 3, (raw[:80], answers)  # the session goes on
                await ws.send(b"\xff\xfe binary")
                assert (await _answer(ws, "-1"))[2] == "RpcFrameworkError"
                await ws.send('[2, "ok", "Heartbeat", {}]')
                frame = await _answer(ws, "ok")
                assert frame[0] == 3 and frame[2]["currentTime"] == "2026-03-01T18:00:00Z"
                assert rig.central.charger("CP2").connected
            # the other charger was served all along
            await rig.plugged_and_ready()
            await rig.driver.set_charge_power(-2.0)
            assert rig.car.setpoint_kw == -2.0

    ocpp.run(scenario)


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

    ocpp.run(scenario)


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

    ocpp.run(scenario)
