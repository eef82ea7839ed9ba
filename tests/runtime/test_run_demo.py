"""`voltbridge run` on the demo home: the same day through OCPP and Modbus over loopback, and in process.

The networked run goes on a ``VirtualTimeLoop``: every wait in it (ticks, meter intervals,
timeouts) is simulated time, which moves only once the controller, the charging station, the
Modbus server and their messages are done with the present. So the run, and this test, do not
depend on how fast or how loaded the machine is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
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
from voltbridge.store import Store

START = datetime(2026, 6, 6, 16, 0, tzinfo=UTC)  # Saturday 09:00 in California: PV rising;
# the car leaves at 10:00 and comes back at 14:00 with 35 km driven (the site's Saturday trip)
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


def _networked(data_dir: Path, start: datetime = START, hours: float = HOURS) -> RunResult:
    """``run_home`` on the demo's network peers, for ``hours`` from ``start``, on simulated time."""
    site = load_site(example_path("ev9-california"))
    loop = VirtualTimeLoop()
    options = RunOptions(
        demo=True,
        duration_s=hours * 3600,
        data_dir=data_dir,
        http_port=0,
        start=start,
        clock=LoopClock(start, loop),
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
    # both made the Saturday trip: 35 km at 0.26 kWh/km
    assert net.driven_kwh == ref.driven_kwh == pytest.approx(35 * 0.26)
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


WEDNESDAY = datetime(2026, 6, 3, 14, 0, tzinfo=UTC)  # 07:00 in California
DEPART = datetime(2026, 6, 3, 14, 45, tzinfo=UTC)  # the site's weekday trip: 07:45 ...
BACK = datetime(2026, 6, 4, 0, 30, tzinfo=UTC)  # ... to 17:30, 62 km at 0.26 kWh/km
TRIP_KWH = 62 * 0.26


def test_the_demo_car_leaves_for_the_weekday_trip_and_comes_back_with_less(
    tmp_path: Path,
) -> None:
    result = _networked(tmp_path, WEDNESDAY, hours=12.0)
    assert result.totals is not None and result.controller is not None
    assert result.totals.driven_kwh == pytest.approx(TRIP_KWH)
    # the controller saw it over OCPP: unplugged at the departure, plugged in at the return
    plugs = [
        (e.at, e.data["plugged_in"])
        for e in result.controller.events
        if e.kind is EventKind.PLUG and "plugged_in" in e.data
    ]
    assert [p for _, p in plugs] == [False, True], plugs
    tick = timedelta(seconds=TICK_S)
    assert DEPART <= plugs[0][0] <= DEPART + tick
    assert BACK <= plugs[1][0] <= BACK + tick
    # what was recorded, minute by minute: home before, away during, home after, and the
    # battery at the return the trip's energy below where it was at the departure
    store = Store(tmp_path / "voltbridge.sqlite", VirtualClock(WEDNESDAY + timedelta(hours=12)))
    try:
        rows = store.history(WEDNESDAY, WEDNESDAY + timedelta(hours=12), 60)
    finally:
        store.close()
    car = [(datetime.fromisoformat(r["at"]), r["vehicles"].get("ev9") or {}) for r in rows]
    away = [at for at, v in car if v.get("plugged_in") is False]
    assert away and min(away) >= DEPART and max(away) < BACK
    assert all(v.get("plugged_in") for at, v in car if at < DEPART - tick or at > BACK + tick)
    before = [v["soc_kwh"] for at, v in car if at < DEPART - tick and v.get("soc_kwh") is not None]
    after = [v["soc_kwh"] for at, v in car if at > BACK and v.get("soc_kwh") is not None]
    # the last reading before leaving and the first after coming back (a minute's charging at
    # most between them: 11.5 kW for one minute is 0.2 kWh)
    assert before[-1] - after[0] == pytest.approx(TRIP_KWH, abs=0.3)
