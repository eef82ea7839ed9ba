"""The MQTT bridge: voltbridge's running controller seen and steered from Home Assistant.

One asyncio MQTT client (aiomqtt) keeps a connection to the broker. On every connect it says
``online`` on the availability topic (the broker says ``offline`` for it, the last will, when the
connection drops), then publishes every discovery payload and the current state, all retained, and
subscribes to the command topics. While connected, each state document is published when it
changes, at most once per ``publish_every_s`` of the run's clock. When the broker goes away the
bridge waits on the run's clock (1 s, doubling to 60 s) and starts again; commands sent meanwhile
are the broker's business. Nothing raises out of :meth:`MqttBridge.run` but cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiomqtt

from voltbridge.config.models import MqttConfig
from voltbridge.control.controller import Controller
from voltbridge.control.handle import ControlHandle
from voltbridge.control.site_model import ControlSite
from voltbridge.core.clock import Clock
from voltbridge.core.status import ControlStatus, EventCode, EventKind
from voltbridge.runtime import ha_discovery
from voltbridge.runtime.ha_discovery import OFFLINE, ONLINE, Topics
from voltbridge.runtime.mqtt_commands import run_command
from voltbridge.store import Store

log = logging.getLogger(__name__)

FIRST_RETRY_S = 1.0
LAST_RETRY_S = 60.0
"""Reconnect waits [s] on the run's clock: the first, doubled up to this one."""
MONEY_EVERY_S = 60.0
"""Money today is asked of the store at most this often [s] (it is one SQL query)."""
PASSWORD_ENV = "VOLTBRIDGE_MQTT_PASSWORD"
"""Where ``voltbridge run --mqtt`` takes the broker password from."""

MoneyToday = Callable[[], dict[str, float]]
"""Today's bill so far (``Store.money`` of local today): ``net_cost``, ``savings``, ..."""
Refused = Callable[[str, str], None]
"""Told ``(topic, why)`` of every refused command (``voltbridge run`` records it as an event)."""


def config_from_url(url: str, password_env: str = PASSWORD_ENV) -> MqttConfig:
    """``mqtt://[user@]host[:port]`` (``mqtts://`` for TLS) as an ``[mqtt]`` table; the password
    is never in the URL but in the environment variable ``password_env``.

    >>> c = config_from_url("mqtt://ha@192.168.1.5:1884")
    >>> (c.host, c.port, c.username, c.password_env, c.tls)
    ('192.168.1.5', 1884, 'ha', 'VOLTBRIDGE_MQTT_PASSWORD', False)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"--mqtt: {url!r} is not mqtt://[user@]host[:port] (or mqtts:// for TLS)")
    if parts.password is not None:
        raise ValueError(f"--mqtt: leave the password out of the URL; put it in ${password_env}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"--mqtt: {url!r} has a port that is not a number 1-65535") from None
    tls = parts.scheme == "mqtts"
    user = unquote(parts.username) if parts.username else None
    return MqttConfig(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=user,
        password_env=password_env if user else None,
        tls=tls,
    )


def home_bridge(
    config: MqttConfig,
    password: str | None,
    controller: Controller,
    control: ControlSite,
    currency: str,
    store: Store,
    clock: Clock,
) -> MqttBridge:
    """The bridge ``voltbridge run`` starts: money today from the store (local day), and every
    refused command recorded in the controller's event list."""
    from voltbridge.api.routes_records import period_bounds

    zone = ZoneInfo(control.timezone)

    def money_today() -> dict[str, float]:
        return store.money(*period_bounds("today", clock.now(), zone))

    def refused(topic: str, why: str) -> None:
        controller.log.emit(
            EventKind.WARNING,
            EventCode.SETTINGS,
            f"MQTT command refused: {why}",
            data={"source": "mqtt", "topic": topic, "refused": True},
        )

    site = ha_discovery.Site(
        control.name,
        tuple(controller.vehicle_names),
        currency,
        battery=control.battery is not None,
        money=True,
    )
    return MqttBridge(
        controller,
        config,
        clock,
        site,
        password=password,
        money_today=money_today,
        on_refused=refused,
    )


class Throttle:
    """Each topic on change, at most once per ``every_s``; the latest value wins.

    >>> t = Throttle(5.0)
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> t.offer("a", "1", at), t.offer("a", "2", at), t.offer("a", "2", at)
    (True, False, False)
    >>> from datetime import timedelta
    >>> t.due(at + timedelta(seconds=5))
    [('a', '2')]
    """

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._sent: dict[str, tuple[str, datetime]] = {}
        self._pending: dict[str, str] = {}

    def offer(self, topic: str, payload: str, now: datetime) -> bool:
        """Whether to publish ``payload`` now (else it waits, replacing any waiting one)."""
        last = self._sent.get(topic)
        if last is not None and last[0] == payload:
            self._pending.pop(topic, None)
            return False
        if last is not None and (now - last[1]).total_seconds() < self.every_s:
            self._pending[topic] = payload
            return False
        self.sent(topic, payload, now)
        return True

    def sent(self, topic: str, payload: str, now: datetime) -> None:
        self._sent[topic] = (payload, now)
        self._pending.pop(topic, None)

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """The waiting payloads whose interval has passed (marked sent)."""
        out = []
        for topic, payload in list(self._pending.items()):
            if (now - self._sent[topic][1]).total_seconds() >= self.every_s:
                self.sent(topic, payload, now)
                out.append((topic, payload))
        return out

    def forget(self) -> None:
        """After a reconnect everything is published again."""
        self._sent.clear()
        self._pending.clear()


class MqttBridge:
    """Publishes a controller to Home Assistant over MQTT and takes its commands.

    Attributes:
        connected: set while connected and announced (discovery and state published).
        retrying: set while waiting on the clock to reconnect.
        connections: successful connections so far.
        last_error: why the last connection ended or failed, or None.
    """

    def __init__(
        self,
        handle: ControlHandle,
        config: MqttConfig,
        clock: Clock,
        site: ha_discovery.Site,
        *,
        password: str | None = None,
        money_today: MoneyToday | None = None,
        on_refused: Refused | None = None,
    ) -> None:
        self.handle, self.config, self.clock = handle, config, clock
        self.topics = Topics(config.topic_prefix, config.discovery_prefix)
        self.site = site
        self.password = password
        self.money_today = money_today
        self.on_refused = on_refused
        self.throttle = Throttle(config.publish_every_s)
        self.connected = asyncio.Event()
        self.retrying = asyncio.Event()
        self.connections = 0
        self.last_error: str | None = None
        self._client: aiomqtt.Client | None = None
        self._money: dict[str, float] | None = None
        self._money_at: datetime | None = None

    def _make_client(self) -> aiomqtt.Client:
        cfg = self.config
        tls = None
        if cfg.tls:
            tls = aiomqtt.TLSParameters(
                ca_certs=None if cfg.ca_file is None else str(cfg.ca_file),
                certfile=None if cfg.cert_file is None else str(cfg.cert_file),
                keyfile=None if cfg.key_file is None else str(cfg.key_file),
            )
        return aiomqtt.Client(
            cfg.host,
            cfg.port,
            username=cfg.username,
            password=self.password,
            will=aiomqtt.Will(self.topics.availability, OFFLINE, qos=1, retain=True),
            tls_params=tls,
            timeout=10.0,
            keepalive=30,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, serve, and reconnect with backoff until ``stop`` is set; then say offline."""
        queue = self.handle.subscribe()
        flusher = asyncio.create_task(self._flush_loop())
        wait_s = FIRST_RETRY_S
        try:
            while not stop.is_set():
                try:
                    async with self._make_client() as client:
                        self._client = client
                        wait_s = FIRST_RETRY_S
                        await self._serve(client, queue, stop)
                        await client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
                except aiomqtt.MqttError as exc:
                    self.last_error = str(exc)
                    log.warning("MQTT broker %s:%s: %s", self.config.host, self.config.port, exc)
                except Exception as exc:  # a fault is never silent and never stops the bridge
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("MQTT bridge failed; reconnecting")
                finally:
                    self._client = None
                    self.connected.clear()
                if stop.is_set():
                    break
                self.retrying.set()
                await _first(stop.wait(), self.clock.sleep(wait_s))
                self.retrying.clear()
                wait_s = min(2 * wait_s, LAST_RETRY_S)
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            self.handle.unsubscribe(queue)

    async def _serve(
        self,
        client: aiomqtt.Client,
        queue: asyncio.Queue[Any],
        stop: asyncio.Event,
    ) -> None:
        """Announce, then take commands and forward statuses until stopped or disconnected."""
        while not queue.empty():  # older than what is announced now
            queue.get_nowait()
        for topic in (*self.topics.command_filters, self.topics.ha_status):
            await client.subscribe(topic, qos=1)
        await self._announce(client)
        self.connections += 1
        self.connected.set()
        log.info("MQTT: connected to %s:%s", self.config.host, self.config.port)
        await _first(stop.wait(), self._commands(client), self._forward(client, queue))

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Availability, every discovery payload and the whole state, retained."""
        await client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
        for topic, payload in ha_discovery.discovery_messages(self.topics, self.site):
            await client.publish(topic, json.dumps(payload), qos=1, retain=True)
        self.throttle.forget()
        await self._publish_state(client, force=True)

    async def _publish_state(self, client: aiomqtt.Client, force: bool = False) -> None:
        now = self.clock.now()
        money = await self._money_now(now)
        docs = ha_discovery.state_messages(
            self.topics, self.handle.status, self.handle.settings, money
        )
        for topic, doc in docs:
            payload = json.dumps(doc, sort_keys=True)
            if force:
                self.throttle.sent(topic, payload, now)
            elif not self.throttle.offer(topic, payload, now):
                continue
            await client.publish(topic, payload, qos=1, retain=True)

    async def _money_now(self, now: datetime) -> dict[str, float] | None:
        """Money today, asked of the store at most every ``MONEY_EVERY_S``; a store that cannot
        answer is logged and its last answer kept."""
        if self.money_today is None:
            return None
        if self._money_at is None or (now - self._money_at).total_seconds() >= MONEY_EVERY_S:
            self._money_at = now
            try:
                self._money = await asyncio.to_thread(self.money_today)
            except Exception:
                log.exception("MQTT: money today could not be read from the store")
        return self._money

    async def _forward(self, client: aiomqtt.Client, queue: asyncio.Queue[Any]) -> None:
        """Every status (and event, which may follow a settings change) updates the state."""
        while True:
            item = await queue.get()
            while not queue.empty():  # only the newest matters
                item = queue.get_nowait()
            if isinstance(item, ControlStatus) or self.handle.status is not None:
                await self._publish_state(client)

    async def _flush_loop(self) -> None:
        """Publish what the throttle held back once its interval has passed."""
        every_s = max(self.config.publish_every_s, 0.1)
        while True:
            await self.clock.sleep(every_s)
            client = self._client
            if client is None or not self.connected.is_set():
                continue
            try:
                for topic, payload in self.throttle.due(self.clock.now()):
                    await client.publish(topic, payload, qos=1, retain=True)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT: publishing held-back state failed: %s", exc)

    async def _commands(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = message.topic.value
            payload = message.payload if isinstance(message.payload, bytes) else b""
            if topic == self.topics.ha_status:
                if payload == ONLINE.encode():  # Home Assistant restarted: tell it again
                    await self._announce(client)
                continue
            if message.retain:
                error: str | None = (
                    f"{topic}: a retained command is ignored (it would be applied again at "
                    "every reconnect); publish commands without retain"
                )
            else:
                try:
                    error = run_command(self.handle, self.topics, topic, payload)
                except Exception as exc:  # never let one command end the bridge
                    log.exception("MQTT: command on %s failed", topic)
                    error = f"{topic}: internal error ({type(exc).__name__}); see the log"
            if error is None:
                await self._publish_state(client, force=True)
            else:
                await self._refuse(client, topic, payload, error)

    async def _refuse(self, client: aiomqtt.Client, topic: str, payload: bytes, why: str) -> None:
        """Tell the sender (the error topic) and the household (an event) why."""
        log.warning("MQTT command on %s refused: %s", topic, why)
        body = {
            "at": self.clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "topic": topic,
            "payload": payload[:200].decode("utf-8", "replace"),
            "error": why,
        }
        await client.publish(self.topics.error, json.dumps(body), qos=1, retain=False)
        if self.on_refused is not None:
            try:
                self.on_refused(topic, why)
            except Exception:
                log.exception("MQTT: recording a refused command failed")


async def _first(*aws: Coroutine[Any, Any, Any]) -> None:
    """Run ``aws`` until the first ends, cancel the others; the first's error is raised."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
