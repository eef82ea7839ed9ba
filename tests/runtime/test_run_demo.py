"""`voltbridge run` on the demo home: the same day through OCPP and Modbus over loopback, and in process.

The networked run goes on a ``VirtualTimeLoop``: every wait in it (ticks, meter intervals,
timeouts) is simulated time, which moves only once the controller, the charging station, the
Modbus server and their messages are done with the present. So the run, and this test, do not
depend on how fast or how loaded the machine is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voltbridge.cli.common import example_path
from voltbridge.config import load_site
from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.grid_state import GridLimits
from voltbridge.control.io import DeviceSet
from voltbridge.control.plan_source import SitePlanSource
from voltbridge.control.site_model import control_site
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventKind
from voltbridge.core.virtual_time import LoopClock, VirtualTimeLoop
from voltbridge.devices.simulated import SimulatedDevices
from voltbridge.devices.simulated_home import EnergyTotals
from voltbridge.runtime.demo import demo_home
from voltbridge.runtime.service import RunOptions, RunResult, run_home

START = datetime(2026, 6, 3, 16, 0, tzinfo=UTC)  # 09:00 in California: PV rising
HOURS = 6.0
TICK_S = 30.0
STALE_AFTER_S = 4 * TICK_S


def _in_process() -> EnergyTotals:
    """The same home, controller and ticks with in-process devices on a virtual clock."""
    site = load_site(example_path("ev9-california"))
    control = control_site(site)
    clock = VirtualClock(START)
    home = demo_home(site, control, clock)
    d = SimulatedDevices.around(home)
    assert d.charger is not None
    devices = DeviceSet(
        meter=d.meter,
        chargers={control.vehicles[0].name: d.charger},
        battery=d.battery,
        pv=d.pv,
        grid_sensor=d.meter,
        relay=d.relay,
        transfer=d.relay,
    )
    config = ControlConfig(tick_s=TICK_S, stale_after_s=STALE_AFTER_S, plan_in_thread=False)
    limits = GridLimits(
        control.nominal_voltage_v, control.nominal_frequency_hz, stale_after_s=STALE_AFTER_S
    )
    ctl = Controller(control, devices, SitePlanSource(site), clock, config, grid_limits=limits)

    async def go() -> None:
        for _ in range(int(HOURS * 3600 / TICK_S)):
            await ctl.tick()
            home.advance(TICK_S)

    asyncio.run(go())
    return home.totals


def _networked(data_dir: Path) -> RunResult:
    """``run_home`` on the demo's network peers, for the morning, on simulated time."""
    site = load_site(example_path("ev9-california"))
    loop = VirtualTimeLoop()
    options = RunOptions(
        demo=True,
        duration_s=HOURS * 3600,
        data_dir=data_dir,
        http_port=0,
        start=START,
        clock=LoopClock(START, loop),
        # the same limits as in process: simulated time no longer runs on while the machine is
        # busy, so a reading is never late for want of CPU
        control=ControlConfig(tick_s=TICK_S, stale_after_s=STALE_AFTER_S),
        grid_stale_after_s=STALE_AFTER_S,
    )
    try:
        return loop.run_until_complete(run_home(site, options))
    finally:
        loop.close()


def test_a_demo_morning_over_ocpp_and_modbus_matches_the_in_process_run(tmp_path: Path) -> None:
    result = _networked(tmp_path)
    net = result.totals
    assert net is not None and result.controller is not None
    ref = _in_process()
    # every tick of the morning ran (one more may fall on the stop instant itself)
    assert result.ticks >= int(HOURS * 3600 / TICK_S)
    # the ticks fall on the same instants; what differs is what the protocols carry (meter
    # values every 30 s, register resolution), so the totals agree closely
    assert net.load_kwh == pytest.approx(ref.load_kwh, rel=1e-3)
    assert net.pv_used_kwh == pytest.approx(ref.pv_used_kwh, rel=1e-3)
    assert net.car_kwh == pytest.approx(ref.car_kwh, rel=0.01)
    assert net.grid_import_kwh - net.grid_export_kwh == pytest.approx(
        ref.grid_import_kwh - ref.grid_export_kwh, abs=0.1
    )
    assert net.backfeed_kwh == 0.0 and net.unserved_kwh == 0.0
    # energy balance of the networked house, recomputed from its totals
    grid = net.grid_import_kwh - net.grid_export_kwh
    assert grid + net.pv_used_kwh == pytest.approx(
        net.load_kwh - net.unserved_kwh + net.car_kwh + net.battery_kwh, abs=1e-6
    )
    kinds = {e.kind for e in result.controller.events}
    assert EventKind.PLAN in kinds
    assert result.controller.status is not None
    assert result.controller.status.faults == ()
    assert (tmp_path / "voltbridge.sqlite").exists()
