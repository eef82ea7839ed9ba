"""The whole program path at home: a utility's VTN (openleadr, 127.0.0.1) sends an export event
(a zero-export-baseline program paying 1 USD/kWh, 14:00-16:00 in California) to `voltbridge run`
on the demo home; voltbridge opts in, plans with the payment (the PV surplus the car would soak up
goes out instead), the controller runs through the window, and the VTN gets the delivered kWh,
which is recomputed here from the grid power the store recorded (not from the VEN's meter) by the
program's rule: energy sent minus energy drawn in the window, never below zero."""

from __future__ import annotations

import asyncio
import sqlite3
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.devices.openadr.vtn import GUARD_S, Vtn, event
from voltbridge.cli.common import example_path
from voltbridge.config import parse_site
from voltbridge.control.controller import ControlConfig
from voltbridge.core.virtual_time import LoopClock, VirtualTimeLoop
from voltbridge.runtime.service import RunOptions, run_home

START = datetime(2026, 6, 3, 20, 0, tzinfo=UTC)  # 13:00 in California
EVENT_START = datetime(2026, 6, 3, 21, 0, tzinfo=UTC)  # 14:00 PDT
EVENT_END = EVENT_START + timedelta(hours=2)
HOURS = 4.0
TICK_S = 30.0
EXPORT = [("LOAD_DISPATCH", "setpoint", -5.0), ("ELECTRICITY_PRICE", "price", 1.0)]


def recorded_delivery_kwh(db: Path) -> float:
    """Energy sent to the grid less energy drawn in the event's window, never below zero, from
    the store's grid readings, each held until the next (as a meter integrates) [kWh]."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT t.ts_ms, t.power_kw FROM telemetry_raw t JOIN devices d ON d.id = t.device_id"
            " WHERE d.kind = 'grid' ORDER BY t.ts_ms"
        ).fetchall()
    ts = np.array([r[0] for r in rows], dtype=np.float64) / 1000.0
    kw = np.array([r[1] for r in rows])
    a, b = EVENT_START.timestamp(), EVENT_END.timestamp()
    starts, ends = ts, np.append(ts[1:], ts[-1])
    hours = np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0.0, None) / 3600.0
    return max(0.0, float(np.sum(-kw * hours)))


def test_a_vtn_event_is_taken_planned_delivered_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as systemd runs it, too: readiness, watchdog pings while ticking, stopping."""
    import socket

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", str(7200 * 10**6))  # a ping every simulated hour
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    loop = VirtualTimeLoop()

    async def main() -> tuple[dict[str, str], list[tuple[datetime, float]]]:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [event("pay-1", EVENT_START, EVENT_END - EVENT_START, EXPORT)]
        raw = tomllib.loads(example_path("ev9-california").read_text())
        raw["programs"] = [
            {
                "id": "fixed-export",
                "openadr": {"vtn_url": vtn.url, "ven_name": "home-1", "poll_s": 300.0},
            }
        ]
        site = parse_site(raw, example_path("ev9-california"))
        options = RunOptions(
            demo=True,
            duration_s=HOURS * 3600,
            data_dir=tmp_path,
            http_port=0,
            start=START,
            clock=LoopClock(START, loop),
            control=ControlConfig(tick_s=TICK_S, stale_after_s=4 * TICK_S),
            grid_stale_after_s=4 * TICK_S,
        )
        try:
            result = await run_home(site, options)
            opts: dict[str, str] = {}
            while not vtn.opts.empty():
                event_id, opt = vtn.opts.get_nowait()
                opts[event_id] = opt
            async with asyncio.timeout(GUARD_S):
                energy = await vtn.energy.get()
        finally:
            await vtn.stop()
        controller = result.controller
        assert controller is not None
        taken = controller.programs.get("pay-1")
        assert taken is not None and (taken.program, taken.payment_per_kwh) == ("fixed-export", 1.0)
        meter = controller.programs.meters["pay-1"]
        assert meter.reported and meter.export_kwh > 1.0
        return opts, energy

    try:
        opts, energy = loop.run_until_complete(main())
    finally:
        loop.close()
    said: list[str] = []
    with notify:
        while True:
            try:
                said.append(notify.recv(64).decode())
            except BlockingIOError:
                break
    assert said[0] == "READY=1" and said[-1] == "STOPPING=1"
    assert said.count("WATCHDOG=1") >= HOURS - 1
    assert opts == {"pay-1": "optIn"}
    [(at, kwh)] = energy
    assert at == EVENT_START
    assert kwh > 1.0
    assert kwh == pytest.approx(recorded_delivery_kwh(tmp_path / "voltbridge.sqlite"), rel=0.02)
