"""The MQTT bridge against a real Mosquitto, with a second client playing Home Assistant.

Home Assistant's side is a plain aiomqtt client with its own broker user: it reads the discovery
topics (each payload checked against the rules of ``ha_schema``), watches the state change as the
controller publishes statuses, changes the mode, sends bad commands and reads the refusals, and
sees everything come back after the broker is stopped and started again on the same port. Time
is a stepped virtual clock the test moves; every wait is on a message or an event, with a
generous timeout as a hang guard only.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.api.fakes import NOW, FakeHandle, demo_status
from tests.runtime.ha_schema import check_discovery
from tests.runtime.mqtt_broker import (
    HA_PASSWORD,
    HA_USER,
    PASSWORD,
    USER,
    Broker,
    make_broker,
    make_certificates,
)
from voltbridge.config.models import MqttConfig
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import Mode
from voltbridge.runtime import ha_discovery
from voltbridge.runtime.mqtt import LAST_RETRY_S, MqttBridge

GUARD_S = 60.0
"""Hang guard for each wait [s] (a wait normally ends in milliseconds)."""


class SteppedClock(VirtualClock):
    """A virtual clock whose ``sleep`` returns only once the test has moved it past the end."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now() + timedelta(seconds=max(seconds, 0.0)), waiter)
        self._sleepers.append(entry)
        try:
            await waiter
        finally:
            self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        for end, waiter in list(self._sleepers):
            if end <= self.now() and not waiter.done():
                waiter.set_result(None)


class HomeAssistant:
    """The other side: every message on the discovery and voltbridge topics, newest per topic."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latest: dict[str, bytes] = {}
        self.errors: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()
        self.client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HomeAssistant:
        self.client = aiomqtt.Client("127.0.0.1", self.port, username=HA_USER, password=HA_PASSWORD)
        await self.client.__aenter__()
        await self.client.subscribe("homeassistant/#", qos=1)
        await self.client.subscribe("voltbridge/#", qos=1)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None and self.client is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.client.__aexit__(None, None, None)

    async def _read(self) -> None:
        assert self.client is not None
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            async with self.changed:
                self.latest[message.topic.value] = message.payload
                if message.topic.value == "voltbridge/error":
                    self.errors.append(json.loads(message.payload))
                self.changed.notify_all()

    async def until(self, what: Callable[[], bool]) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(what), GUARD_S)

    def doc(self, topic: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.latest[topic])
        return value

    def discovery(self) -> dict[str, dict[str, Any]]:
        return {t: json.loads(p) for t, p in self.latest.items() if t.endswith("/config") and p}

    async def send(self, topic: str, payload: str, retain: bool = False) -> None:
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1, retain=retain)


SITE = ha_discovery.Site(name="test home", vehicles=("ev9",), currency="USD", battery=True)
EXPECTED_ENTITIES = len(ha_discovery.discovery_messages(ha_discovery.Topics(), SITE))


def bridge_for(
    broker: Broker, handle: FakeHandle, clock: SteppedClock, password: str = PASSWORD
) -> tuple[MqttBridge, list[tuple[str, str]]]:
    refused: list[tuple[str, str]] = []
    config = MqttConfig(host="127.0.0.1", port=broker.port, username=USER, publish_every_s=5.0)
    bridge = MqttBridge(
        handle,
        config,
        clock,
        SITE,
        password=password,
        money_today=lambda: {"net_cost": 1.234, "savings": 2.5},
        on_refused=lambda topic, why: refused.append((topic, why)),
    )
    return bridge, refused


def running(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(coro(), 5 * GUARD_S))


async def wait_set(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), GUARD_S)


def test_home_assistant_sees_controls_and_survives_a_broker_restart(tmp_path: Path) -> None:
    broker = make_broker(tmp_path / "broker")
    clock = SteppedClock(NOW)
    handle = FakeHandle(demo_status(), None, clock)
    broker.start()

    async def scenario() -> None:
        bridge, refused = bridge_for(broker, handle, clock)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            async with HomeAssistant(broker.port) as ha:
                # discovery, availability and the first state, all retained
                await ha.until(
                    lambda: (
                        len(ha.discovery()) == EXPECTED_ENTITIES
                        and "voltbridge/vehicle/ev9/state" in ha.latest
                        and ha.latest.get("voltbridge/availability") == b"online"
                    )
                )
                check_discovery(ha.discovery(), "homeassistant")
                site = ha.doc("voltbridge/state")
                assert site["grid_kw"] == pytest.approx(-0.2)
                assert site["house_kw"] == 1.2 and site["pv_kw"] == 6.0
                assert site["money_today"] == 1.23 and site["savings_today"] == 2.5
                assert site["next_action"] == "charging ev9 at 3.1 kW from surplus PV"
                assert site["next_departure"] == "2026-07-02T14:45:00Z"
                assert ha.doc("voltbridge/vehicle/ev9/state")["soc_pct"] == 62.0
                assert ha.doc("voltbridge/settings")["backup_reserve_h"] == 6.0

                # the controller moves on: the state follows, once the throttle's interval is up
                handle.publish(demo_status(at=NOW + timedelta(seconds=2), soc_pct=63.5))
                clock.advance(5.0)
                await ha.until(lambda: ha.doc("voltbridge/vehicle/ev9/state")["soc_pct"] == 63.5)

                # a command changes the mode, through apply_settings with source "mqtt"
                await ha.send("voltbridge/set/mode", "charge-now")
                await ha.until(lambda: ha.doc("voltbridge/settings")["mode"] == "charge-now")
                assert handle.updates[-1][0].mode is Mode.CHARGE_NOW
                assert handle.updates[-1][1] == "mqtt"

                # bad commands are refused with a message and nothing changes
                bad = [
                    ("voltbridge/set/mode", "turbo", "mode: Input should be"),
                    ("voltbridge/set/backup_reserve_h", "500", "backup_reserve_h: Input should"),
                    ("voltbridge/set/settings", "{mode: off", "settings: not JSON"),
                    ("voltbridge/vehicle/ev9/set/target_soc_pct", "10", "below vehicles.ev9"),
                    ("voltbridge/vehicle/ev7/set/target_soc_pct", "90", "vehicles.ev7: no"),
                    ("voltbridge/set/storm_watch_cancel", "PRESS", "storm watch is off"),
                ]
                for topic, payload, _ in bad:
                    await ha.send(topic, payload)
                await ha.until(lambda: len(ha.errors) == len(bad))
                for error, (topic, payload, says) in zip(ha.errors, bad, strict=True):
                    assert error["topic"] == topic and error["payload"] == payload
                    assert says in error["error"], error
                assert [t for t, _ in refused] == [t for t, _, _ in bad]
                assert len(handle.updates) == 1 and handle.settings.mode is Mode.CHARGE_NOW

                # the broker goes away and comes back (forgetting every retained message)
            broker.stop()
            await wait_set(bridge.retrying)
            assert not bridge.connected.is_set()
            broker.start()
            clock.advance(LAST_RETRY_S)
            await wait_set(bridge.connected)
            async with HomeAssistant(broker.port) as ha:
                await ha.until(
                    lambda: (
                        len(ha.discovery()) == EXPECTED_ENTITIES
                        and ha.latest.get("voltbridge/availability") == b"online"
                        and "voltbridge/state" in ha.latest
                        and "voltbridge/vehicle/ev9/state" in ha.latest
                    )
                )
                assert ha.doc("voltbridge/settings")["mode"] == "charge-now"
                assert ha.doc("voltbridge/vehicle/ev9/state")["soc_pct"] == 63.5
                check_discovery(ha.discovery(), "homeassistant")
                assert bridge.connections == 2

                # a clean stop says offline (retained), as the last will would
                stop.set()
                await asyncio.wait_for(task, GUARD_S)
                await ha.until(lambda: ha.latest.get("voltbridge/availability") == b"offline")
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)

    try:
        running(scenario)
    finally:
        broker.stop()


def test_the_last_will_says_offline_when_the_connection_drops(tmp_path: Path) -> None:
    """The bridge's socket is cut without a DISCONNECT: the broker publishes the will, and the
    bridge reconnects (after its wait on the clock) and says online again."""
    broker = make_broker(tmp_path / "broker")
    clock = SteppedClock(NOW)
    handle = FakeHandle(demo_status(), None, clock)
    broker.start()

    async def scenario() -> None:
        bridge, _ = bridge_for(broker, handle, clock)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            async with HomeAssistant(broker.port) as ha:
                await wait_set(bridge.connected)
                await ha.until(lambda: ha.latest.get("voltbridge/availability") == b"online")
                client = bridge._client
                assert client is not None
                sock = client._client.socket()
                assert isinstance(sock, socket.socket)
                sock.shutdown(socket.SHUT_RDWR)
                await ha.until(lambda: ha.latest.get("voltbridge/availability") == b"offline")
                await wait_set(bridge.retrying)
                clock.advance(LAST_RETRY_S)
                await wait_set(bridge.connected)
                await ha.until(lambda: ha.latest.get("voltbridge/availability") == b"online")
                assert bridge.connections == 2
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)

    try:
        running(scenario)
    finally:
        broker.stop()


def test_a_wrong_password_is_retried_and_never_raises(tmp_path: Path) -> None:
    broker = make_broker(tmp_path / "broker")
    clock = SteppedClock(NOW)
    handle = FakeHandle(replace(demo_status()), None, clock)
    broker.start()

    async def scenario() -> None:
        bridge, _ = bridge_for(broker, handle, clock, password="not the password")
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        await wait_set(bridge.retrying)
        assert bridge.connections == 0 and bridge.last_error is not None
        assert "authori" in bridge.last_error.lower(), bridge.last_error
        stop.set()
        await asyncio.wait_for(task, GUARD_S)
        assert handle.queues == []  # unsubscribed

    try:
        running(scenario)
    finally:
        broker.stop()


@pytest.mark.parametrize("trusted", [True, False])
def test_tls_to_the_broker_checks_its_certificate(tmp_path: Path, trusted: bool) -> None:
    """Over TLS with the broker's CA the bridge connects (Home Assistant, on the plain listener,
    sees it online); with another CA it refuses the broker and keeps retrying."""
    broker = make_broker(tmp_path / "broker", tls=True)
    assert broker.tls_port is not None
    ca = tmp_path / "broker" / "certs" / "ca.pem"
    if not trusted:
        ca = make_certificates(tmp_path / "other")[0]
    clock = SteppedClock(NOW)
    handle = FakeHandle(demo_status(), None, clock)
    config = MqttConfig(host="127.0.0.1", port=broker.tls_port, username=USER, tls=True, ca_file=ca)
    bridge = MqttBridge(handle, config, clock, SITE, password=PASSWORD)
    broker.start()

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            if trusted:
                async with HomeAssistant(broker.port) as ha:
                    await wait_set(bridge.connected)
                    await ha.until(lambda: ha.latest.get("voltbridge/availability") == b"online")
                    await ha.until(lambda: len(ha.discovery()) == EXPECTED_ENTITIES)
            else:
                await wait_set(bridge.retrying)
                assert bridge.connections == 0
                assert "certificate" in (bridge.last_error or "").lower(), bridge.last_error
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)

    try:
        running(scenario)
    finally:
        broker.stop()
