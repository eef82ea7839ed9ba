"""Shared rig for the OCPP tests: a clock that moves only when told, a cuttable TCP proxy, and a
central system with one charging-station simulator over real loopback websockets.

Every networked scenario runs on a ``VirtualTimeLoop`` (``run``): the event loop's time, which
answer timeouts, websocket keep-alives and the bounds of ``eventually`` are measured on, is
simulated and moves only once every message under way has been read and handled. So a timeout
fires when the protocol says, never because the machine was busy, and a bound here is a bound
in simulated seconds that a loaded machine cannot break. The devices' clock is a separate
``SteppedClock`` that moves only when a test advances it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.core.virtual_time import VirtualTimeLoop
from voltbridge.devices.ocpp import (
    CentralSystem,
    CentralSystemConfig,
    ChargingStation,
    OcppCharger,
    OcppChargerConfig,
)
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome

T0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"
CHARGER = "CP1"
T = TypeVar("T")

SCENARIO_GUARD_S = 3600.0
"""Simulated seconds a scenario may last: it ends a test waiting for what never comes (on a
``VirtualTimeLoop`` that costs almost no real time, and no timer is ever missing to jump to)."""
SETTLE_S = 1e-6
"""The simulated instant ``settle`` waits for: a timer this close fires only once the loop idles."""
POLL_S = 0.01
"""Simulated seconds between two looks of ``eventually`` when only a timer can help."""
WITHIN_S = 1.0
"""Default bound [simulated s] of ``eventually``: what a message cascade brings about needs no
time at all, and this is below every answer timeout (5 s) and keep-alive (20 s) of the rig, so
a condition that only came true because a timeout fired fails the test."""


class SteppedClock(VirtualClock):
    """A virtual clock whose ``sleep`` waits until the test advances it past the deadline."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        deadline = self.now() + timedelta(seconds=max(seconds, 0.0))
        if deadline <= self.now():
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (deadline, waiter)
        self._sleepers.append(entry)
        try:
            await waiter
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        for deadline, waiter in list(self._sleepers):
            if deadline <= self.now() and not waiter.done():
                waiter.set_result(None)


def run(scenario: Callable[[], Awaitable[T]], guard_s: float = SCENARIO_GUARD_S) -> T:
    """Run ``scenario()`` to its end on a fresh ``VirtualTimeLoop``, at most ``guard_s``
    simulated seconds; left-over tasks are cancelled as ``asyncio.run`` does."""

    async def guarded() -> T:
        async with asyncio.timeout(guard_s):
            return await scenario()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(guarded())


def _virtual_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeLoop), "run this scenario with ocpp.run (simulated time)"
    return loop


async def settle() -> None:
    """Return once everything under way is done: every ready callback has run and every frame
    sent has been read and handled, at the same simulated instant (a timer ``SETTLE_S`` on fires
    only when the loop has nothing left to do)."""
    _virtual_loop()
    await asyncio.sleep(SETTLE_S)


async def eventually(cond: Callable[[], object], what: str, within_s: float = WITHIN_S) -> None:
    """Wait until ``cond()`` is true, letting simulated time run on only while the loop idles;
    fail when that took more than ``within_s`` simulated seconds."""
    loop = _virtual_loop()
    end = loop.time() + within_s
    await settle()
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"not within {within_s:g} simulated s: {what}")
        await asyncio.sleep(POLL_S)


class Proxy:
    """A loopback TCP forwarder that can cut every connection and refuse new ones, or freeze
    them (keep them open but pass nothing on, like a charger whose software hangs)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.up = True
        self.frozen = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    if not self.frozen:
                        dst.write(data)
                        await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        """Drop every connection and refuse new ones (the CSMS becomes unreachable)."""
        self.up = False
        for w in list(self._writers):
            w.close()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def charger_config(**overrides: Any) -> OcppChargerConfig:
    values: dict[str, Any] = {
        "charger_id": CHARGER,
        "password": PASSWORD,
        "max_charge_kw": 11.0,
        "max_discharge_kw": 7.0,
        "max_offline_duration_s": 60,
    }
    values.update(overrides)
    return OcppChargerConfig.model_validate(values)


def central_config(
    *,
    extra: Sequence[OcppChargerConfig] = (),
    tls: tuple[Path, Path] | None = None,
    response_timeout_s: float = 5.0,
    **charger: Any,
) -> CentralSystemConfig:
    return CentralSystemConfig(
        port=0,
        response_timeout_s=response_timeout_s,
        chargers=[charger_config(**charger), *extra],
        tls_cert=tls[0] if tls else None,
        tls_key=tls[1] if tls else None,
    )


@dataclass
class Rig:
    """A running central system and station with the car, on one stepped clock."""

    clock: SteppedClock
    home: SimulatedHome
    central: CentralSystem
    station: ChargingStation
    proxy: Proxy | None

    @property
    def car(self) -> SimStorage:
        assert self.home.car is not None
        return self.home.car

    @property
    def driver(self) -> OcppCharger:
        return self.central.charger(CHARGER)

    async def advance(self, seconds: float, step_s: float = 1.0) -> None:
        """Move the devices' clock on in steps, letting all that each step sets off finish."""
        left = seconds
        while left > 1e-9:
            dt = min(step_s, left)
            self.home.advance(dt)
            left -= dt
            await settle()

    async def advance_until(
        self, cond: Callable[[], object], what: str, max_s: float, step_s: float = 1.0
    ) -> None:
        """Advance in steps of ``step_s`` until ``cond()``; fail after ``max_s`` [s] of clock."""
        moved_s = 0.0
        await settle()
        while not cond():
            if moved_s >= max_s:
                raise AssertionError(f"not within {max_s:g} s of the devices' clock: {what}")
            await self.advance(step_s, step_s)
            moved_s += step_s

    async def plugged_and_ready(self) -> None:
        """Plug the car in and wait until the central system has the transaction and needs."""
        self.station.plug(True)
        await eventually(
            lambda: (
                self.driver.transaction_id == self.station.transaction_id
                and self.driver.needs is not None
                and self.station.allowed_transfers is not None
            ),
            "transaction, needs and allowed energy transfer",
        )


@contextlib.asynccontextmanager
async def running_rig(
    *,
    via_proxy: bool = False,
    plugged: bool = False,
    soc_kwh: float = 30.0,
    extra: Sequence[OcppChargerConfig] = (),
    tls: tuple[Path, Path] | None = None,
    response_timeout_s: float = 5.0,
    **charger: Any,
) -> AsyncIterator[Rig]:
    clock = SteppedClock(T0)
    car = SimStorage(60.0, soc_kwh, max_charge_kw=11.0, max_discharge_kw=9.0, plugged_in=plugged)
    home = SimulatedHome(clock, car=car)
    config = central_config(extra=extra, tls=tls, response_timeout_s=response_timeout_s, **charger)
    central = CentralSystem(config, clock)
    await central.start()
    proxy = None
    port = central.port
    if via_proxy:
        proxy = Proxy(central.port)
        await proxy.start()
        port = proxy.port
    url = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/ocpp/{CHARGER}"
    cafile = str(tls[0]) if tls else None
    station = ChargingStation(
        home, url, CHARGER, PASSWORD, clock, meter_interval_s=10.0, cafile=cafile
    )
    station.start()
    rig = Rig(clock, home, central, station, proxy)
    try:
        await eventually(
            lambda: station.booted and rig.driver.v2x_capabilities and station.stack.profiles,
            "boot, V2X capabilities and the default profile",
        )
        yield rig
    finally:
        await station.stop()
        await central.shutdown()
        if proxy is not None:
            await proxy.close()


@dataclass(frozen=True)
class Harness:
    """What the tests use from this file (conftest modules cannot be imported)."""

    SteppedClock: type[SteppedClock] = SteppedClock
    Proxy: type[Proxy] = Proxy
    run: Callable[..., Any] = run
    settle: Callable[[], Awaitable[None]] = settle
    eventually: Callable[..., Any] = eventually
    running_rig: Callable[..., Any] = running_rig
    charger_config: Callable[..., OcppChargerConfig] = charger_config
    central_config: Callable[..., CentralSystemConfig] = central_config
    T0: datetime = T0
    WITHIN_S: float = WITHIN_S
    PASSWORD: str = PASSWORD
    CHARGER: str = CHARGER


@pytest.fixture
def ocpp(caplog: pytest.LogCaptureFixture) -> Harness:
    caplog.set_level(logging.INFO, logger="voltbridge.devices.ocpp")
    return Harness()
