"""The controller over real SunSpec Modbus devices: a meter's bad scale factor (issue 10, item 1)
is a fault of the meter, the loop keeps ticking, and it resumes when the meter is fixed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.control.harness import FakePlans, loop_config, site
from voltbridge.control.controller import Controller
from voltbridge.control.io import DeviceSet
from voltbridge.core.clock import VirtualClock
from voltbridge.core.types import GridState
from voltbridge.devices.modbus import SunSpecServer
from voltbridge.devices.simulated_home import SimulatedHome

Serve = Callable[..., Any]
Driver = Callable[..., Any]


@pytest.mark.parametrize("sf", [400, -400, -11])
def test_a_meter_scale_factor_out_of_range_is_a_meter_fault_and_the_loop_resumes(
    make_home: Callable[..., SimulatedHome], serve: Serve, driver: Driver, sf: int
) -> None:
    home = make_home(voltage_v=240.0, frequency_hz=60.0)
    cs = site(battery=True)
    assert isinstance(home.clock, VirtualClock)

    async def body(srv: SunSpecServer) -> None:
        meter = driver(srv, "meter")
        devices = DeviceSet(meter=meter, battery=driver(srv, "battery"), pv=driver(srv, "pv"))
        ctl = Controller(cs, devices, FakePlans(cs), home.clock, loop_config())

        async def ticks(n: int) -> list[Any]:
            out = []
            for _ in range(n):
                out.append(await ctl.tick())
                home.advance(2.0)
            return out

        before = await ticks(5)
        # grid = load 2 + circuits 3 - PV 3.5, and whatever the battery draws (+ charging)
        grid = before[-1].power.grid_kw
        assert grid is not None
        assert grid == pytest.approx(1.5 + home.battery.power_kw, abs=0.01)  # type: ignore[union-attr]
        srv.corrupt("meter", {203: {"W_SF": sf}})
        during = await ticks(10)
        assert [s.at for s in during] == sorted({s.at for s in during})  # still ticking
        last = during[-1]
        assert any("scale factor outside the SunSpec range" in f for f in last.faults)
        assert last.grid_state is GridState.UNKNOWN and last.power.grid_kw is None
        srv.heal("meter")
        after = await ticks(5)
        assert after[-1].faults == () and after[-1].grid_state is GridState.ON_GRID
        assert after[-1].power.grid_kw is not None

    serve(home, body)
