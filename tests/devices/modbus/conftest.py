"""Shared set-up for the Modbus tests: a simulated home and a real pymodbus server on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.core.virtual_time import VirtualTimeLoop
from voltbridge.devices.modbus import SunSpecServer, register_modbus
from voltbridge.devices.registry import DriverRegistry
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)

Serve = Callable[..., Any]


def _make_home(**kwargs: Any) -> SimulatedHome:
    """Load 2 kW, PV 3.5 kW, a 10 kWh / 5 kW battery half full, circuits ev 1 kW and heat 2 kW:
    grid = 2 + 1 + 2 - 3.5 = 1.5 kW import."""
    args: dict[str, Any] = {
        "load_kw": 2.0,
        "pv_kw": 3.5,
        "battery": SimStorage(10.0, 5.0, max_charge_kw=5.0, max_discharge_kw=5.0),
        "circuits_kw": {"ev": 1.0, "heat": 2.0},
    }
    args.update(kwargs)
    return SimulatedHome(VirtualClock(T0), **args)


@pytest.fixture
def make_home() -> Callable[..., SimulatedHome]:
    """``make_home(**overrides)``: the standard test home with some arguments replaced."""
    return _make_home


@pytest.fixture
def home() -> SimulatedHome:
    return _make_home()


def run_simulated(main: Awaitable[Any]) -> Any:
    """Run ``main`` on simulated time: request timeouts (a dropped device) pass at once and a
    busy machine cannot make a healthy read time out."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


@pytest.fixture
def serve() -> Serve:
    """``serve(home, body, **server_kwargs)``: run ``await body(server)`` against a started server."""

    def run(home: SimulatedHome, body: Callable[[SunSpecServer], Awaitable[Any]], **kw: Any) -> Any:
        async def main() -> Any:
            async with SunSpecServer(home, **kw) as srv:
                return await body(srv)

        return run_simulated(main())

    return run


def _driver(srv: SunSpecServer, device: str, **overrides: Any) -> Any:
    """The registered driver for ``device`` configured to reach ``srv``."""
    names = {
        "meter": "sunspec-meter",
        "pv": "sunspec-inverter",
        "battery": "sunspec-battery",
        "relay": "modbus-relay",
    }
    reg = DriverRegistry()
    register_modbus(reg)
    cfg = {**srv.driver_config(device), **overrides}
    return reg.create(names[device], cfg, srv.home.clock)


@pytest.fixture
def driver() -> Callable[..., Any]:
    """``driver(server, device, **config_overrides)``: a registered driver that reaches the server."""
    return _driver
