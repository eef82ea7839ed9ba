"""Controller timing: one tick of the real-time loop on the demo home, in process and over the network.

Run with ``python bench/controller.py`` (about a minute). Prints a table:

- in process: the demo home (``examples/ev9-california.toml``, one car on an 11.5 kW DC
  wallbox) on in-process simulated devices and a virtual clock, 2 s ticks for two simulated
  hours; the median and 95th percentile of a tick without re-planning, of a tick that re-plans,
  and ticks per second. The target is a tick well under the 2 s period (a real home's devices
  answer in milliseconds; the loop must leave them the time);
- the same with the SQLite store recording every tick;
- over the network: `voltbridge run`'s demo (OCPP 2.1 charger simulator and SunSpec Modbus
  server on 127.0.0.1) at 60 times real time for 20 s, ticks done and events.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from voltbridge.cli.common import example_path
from voltbridge.config import load_site
from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.io import DeviceSet
from voltbridge.control.plan_source import SitePlanSource
from voltbridge.control.site_model import control_site
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import NullRecorder, Recorder
from voltbridge.devices.simulated import SimulatedDevices
from voltbridge.runtime.demo import demo_home
from voltbridge.runtime.service import RunOptions, run_home
from voltbridge.store import Store

# Sunday 09:00 in California: PV rising and the car at home (the demo car makes its weekday and
# Saturday trips, and a tick without the car would flatter the timing)
START = datetime(2026, 6, 7, 16, 0, tzinfo=UTC)
TICK_S = 2.0
HOURS = 2.0


def in_process(recorder_dir: Path | None) -> tuple[list[float], list[float]]:
    """Tick times [ms] without and with a re-plan."""
    site = load_site(example_path("ev9-california"))
    control = control_site(site)
    clock = VirtualClock(START)
    home = demo_home(site, control, clock)
    d = SimulatedDevices.around(home)
    assert d.charger is not None
    recorder: Recorder = NullRecorder()
    store = None
    if recorder_dir is not None:
        store = Store(recorder_dir / "bench.sqlite", clock)
        recorder = store
    devices = DeviceSet(
        meter=d.meter,
        chargers={control.vehicles[0].name: d.charger},
        pv=d.pv,
        grid_sensor=d.meter,
        load_meter=d.meter,
        relay=d.relay,
        transfer=d.relay,
    )
    config = ControlConfig(tick_s=TICK_S, plan_in_thread=False)
    ctl = Controller(control, devices, SitePlanSource(site), clock, config, recorder=recorder)
    plain: list[float] = []
    planning: list[float] = []

    async def go() -> None:
        for _ in range(int(HOURS * 3600 / TICK_S)):
            plans = sum(1 for e in ctl.events if e.kind.value == "plan")
            t0 = time.perf_counter()
            await ctl.tick()
            ms = (time.perf_counter() - t0) * 1000
            replanned = sum(1 for e in ctl.events if e.kind.value == "plan") > plans
            (planning if replanned else plain).append(ms)
            home.advance(TICK_S)

    asyncio.run(go())
    if store is not None:
        store.close()
    return plain, planning


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 20 else max(xs)


def main() -> None:
    rows = []
    for label, use_store in (("in process", False), ("in process + SQLite store", True)):
        with tempfile.TemporaryDirectory() as tmp:
            plain, planning = in_process(Path(tmp) if use_store else None)
        rows.append(
            (
                label,
                f"{statistics.median(plain):.2f}",
                f"{p95(plain):.2f}",
                f"{statistics.median(planning):.1f}" if planning else "-",
                f"{1000 / statistics.mean(plain):.0f}",
                str(len(plain) + len(planning)),
            )
        )
    site = load_site(example_path("ev9-california"))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = asyncio.run(
            run_home(
                site,
                RunOptions(demo=True, speed=60.0, duration_s=20.0, data_dir=Path(tmp), http_port=0),
            )
        )
        wall = time.perf_counter() - t0
    rows.append(
        (
            "network demo (OCPP + Modbus), x60",
            "-",
            "-",
            "-",
            f"{result.ticks / 20.0:.1f} (wall {wall:.0f} s)",
            f"{result.ticks} ({result.events} events)",
        )
    )
    head = ("case", "tick p50 [ms]", "tick p95 [ms]", "tick with plan p50 [ms]", "ticks/s", "ticks")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
