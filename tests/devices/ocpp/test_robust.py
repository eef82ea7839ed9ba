"""Hostile frames from a charger: they are answered as OCPP-J 2.x says, logged one line each and
at a limited rate, and never end the session or reach the driver's state."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.headers import build_authorization_basic

RAW_PASSWORD = "another-long-password"
RAW = "CP2"
ANSWER_WITHIN_S = 1.0
"""Simulated seconds an answer may take (the tests run on simulated time): the peer answers at
once, below any answer timeout (5 s), so this only ends a test whose answer never comes."""


class RawStation:
    """A websocket client that sends exactly what a test writes; the CSMS's own requests get a
    NotImplemented CALLERROR."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def ask(self, raw: str | bytes, message_id: str) -> list[Any]:
        """Send ``raw`` and return the response carrying ``message_id``."""
        await self.ws.send(raw)
        return await self.answer(message_id)

    async def answer(self, message_id: str) -> list[Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), ANSWER_WITHIN_S))
            if frame[0] == 2:
                await self.ws.send(json.dumps([4, frame[1], "NotImplemented", "raw client", {}]))
            elif frame[1] == message_id:
                return list(frame)

    async def call(self, message_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
        return await self.ask(json.dumps([2, message_id, action, payload]), message_id)


@asynccontextmanager
async def raw_station(ocpp: Any) -> AsyncIterator[tuple[Any, RawStation]]:
    """The usual rig (its simulator on CP1) and a raw client connected as CP2."""
    extra = [ocpp.charger_config(charger_id=RAW, password=RAW_PASSWORD)]
    async with ocpp.running_rig(extra=extra) as rig:
        url = f"ws://127.0.0.1:{rig.central.port}/ocpp/{RAW}"
        headers = {"Authorization": build_authorization_basic(RAW, RAW_PASSWORD)}
        async with connect(
            url, subprotocols=["ocpp2.1"], additional_headers=headers, max_queue=None
        ) as ws:
            yield rig, RawStation(ws)


def test_a_frame_nested_too_deep_to_parse_is_answered_and_the_session_kept(ocpp) -> None:
    async def scenario() -> None:
        async with raw_station(ocpp) as (rig, raw):
            for _ in range(20):
                frame = await raw.ask("[" * 10000, "-1")
                assert frame[:3] == [4, "-1", "RpcFrameworkError"]
            assert (await raw.call("hb", "Heartbeat", {}))[0] == 3
            assert rig.central.charger(RAW).connected

    ocpp.run(scenario)


def test_unknown_actions_are_not_implemented_and_known_ones_not_supported(ocpp) -> None:
    """OCPP-J 2.x Part 4 §4.3: NotImplemented "Requested Action is not known by receiver",
    NotSupported "Requested Action is recognized but not supported by the receiver"."""

    async def scenario() -> None:
        async with raw_station(ocpp) as (_, raw):
            assert (await raw.call("u", "FlyToTheMoon", {}))[2] == "NotImplemented"
            assert (await raw.call("k", "GetBaseReport", {"requestId": 1}))[2] == "NotSupported"

    ocpp.run(scenario)


NEEDS = {"requestedEnergyTransfer": "AC_BPT", "availableEnergyTransfer": ["AC_BPT"]}


def _meter(timestamp: str, value: object, **unit: Any) -> dict[str, Any]:
    sampled = {"value": value, "measurand": "Power.Active.Import", "unitOfMeasure": unit}
    return {"evseId": 1, "meterValue": [{"timestamp": timestamp, "sampledValue": [sampled]}]}


def test_invalid_times_and_values_are_refused_before_they_reach_the_driver(ocpp) -> None:
    async def scenario() -> None:
        async with raw_station(ocpp) as (rig, raw):
            driver = rig.central.charger(RAW)
            bad_departure = {
                "evseId": 1,
                "chargingNeeds": {**NEEDS, "departureTime": "2026-02-30T08:00:00Z"},
            }
            status = {"connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}
            started = {
                "eventType": "Started",
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "tx-raw"},
            }
            refused = [
                ("NotifyEVChargingNeeds", bad_departure, "FormatViolation"),
                ("StatusNotification", {**status, "timestamp": "not-a-time"}, "FormatViolation"),
                ("TransactionEvent", {**started, "timestamp": "yesterday"}, "FormatViolation"),
                ("MeterValues", _meter("2026-03-01T25:00:00Z", 1000), "FormatViolation"),
                ("MeterValues", _meter("2026-03-01T18:00:00Z", 1, multiplier=400), "PropertyConstraintViolation"),
                ("MeterValues", _meter("2026-03-01T18:00:00Z", 1e308, unit="kW", multiplier=3), "PropertyConstraintViolation"),
            ]  # fmt: skip
            for n, (action, payload, code) in enumerate(refused):
                frame = await raw.call(f"r{n}", action, payload)
                assert frame[:3] == [4, f"r{n}", code], (action, frame)
            assert driver.needs is None and driver.connector_status is None
            assert driver.transaction_id is None and driver.sample is None
            # the same messages with valid values are taken
            good_needs = {
                "evseId": 1,
                "chargingNeeds": {**NEEDS, "departureTime": "2026-03-02T07:00:00Z"},
            }
            assert (await raw.call("g1", "NotifyEVChargingNeeds", good_needs))[0] == 3
            assert driver.needs is not None and driver.needs.departure is not None
            ok = {**status, "timestamp": "2026-03-01T18:00:00Z"}
            assert (await raw.call("g2", "StatusNotification", ok))[0] == 3
            assert driver.connector_status == "Occupied"
            meter = _meter("2026-03-01T18:00:00.123Z", 2, unit="kW")
            assert (await raw.call("g3", "MeterValues", meter))[0] == 3
            assert driver.sample is not None and driver.sample.power_kw == 2.0

    ocpp.run(scenario)


def _frame_lines(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """The warnings about CP2's frames. Only the frame reader's: the CSMS's own configuration
    exchange with CP2 (refused by the raw client) may log its line before or after the flood,
    as the two sockets' reads happen to interleave."""
    return [
        r
        for r in records
        if r.name == "voltbridge.devices.ocpp.rpc"
        and r.levelno >= logging.WARNING
        and "CP2" in r.getMessage()
    ]


def test_bad_frames_are_logged_one_line_each_at_a_limited_rate(ocpp, caplog) -> None:
    floods = {
        "RpcFrameworkError": "[" * 2000,
        "FormatViolation": '[2, "f", "Heartbeat", {"extra": 1}]',
        "NotImplemented": '[2, "n", "NoSuchAction", {}]',
    }
    per_class = 100

    async def scenario() -> None:
        async with raw_station(ocpp) as (rig, raw):
            caplog.clear()
            for raw_frame in floods.values():
                for _ in range(per_class):
                    await raw.ws.send(raw_frame)
            assert (await raw.call("sync", "Heartbeat", {}))[0] == 3
            lines = _frame_lines(caplog.records)
            assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
            for code in floods:
                mine = [r for r in lines if code in r.getMessage()]
                assert 1 <= len(mine) <= 5, (code, len(mine))
            # a minute later on the injected clock, the next line says how many were dropped
            rig.clock.advance(60)
            caplog.clear()
            await raw.ask(floods["NotImplemented"], "n")
            (line,) = _frame_lines(caplog.records)
            assert f"{per_class - 5} similar lines suppressed" in line.getMessage()

    ocpp.run(scenario)
    assert not any(r.exc_info for r in caplog.records)  # no traceback anywhere, ocpp's included


@pytest.mark.parametrize(
    "answer",
    ['{"status": 5}', '{"status": "Accepted", "bogus": true}', None],
    ids=["wrong-type", "extra-field", "malformed-frame"],
)
def test_an_invalid_answer_fails_the_command_as_a_connection_error(ocpp, answer) -> None:
    """What the controller catches (ConnectionError) is what a charger's bad answer raises; an
    OCPP exception would have escaped its guarded write."""

    async def scenario() -> None:
        async with raw_station(ocpp) as (rig, raw):
            driver = rig.central.charger(RAW)
            tx = {
                "eventType": "Started",
                "timestamp": "2026-03-01T18:00:00Z",
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "tx-raw"},
            }
            assert (await raw.call("t", "TransactionEvent", tx))[0] == 3
            await ocpp.eventually(lambda: driver.transaction_id == "tx-raw", "transaction")
            command = asyncio.create_task(driver.set_charge_power(2.0))
            while True:
                frame = json.loads(await asyncio.wait_for(raw.ws.recv(), ANSWER_WITHIN_S))
                if frame[0] == 2 and frame[2] == "SetChargingProfile" and frame[3]["evseId"] == 1:
                    break
                if frame[0] == 2:
                    await raw.ws.send(json.dumps([4, frame[1], "NotImplemented", "raw", {}]))
            reply = f"[3, {json.dumps(frame[1])}, {answer}]" if answer else f'[3, "{frame[1]}"]'
            await raw.ws.send(reply)
            with pytest.raises(ConnectionError, match="SetChargingProfile"):
                await asyncio.wait_for(command, ANSWER_WITHIN_S)  # not at its timeout
            assert driver.connected and driver.setpoint_kw is None

    ocpp.run(scenario)
