"""The controller in a child process on the real protocol peers, faulted, killed with ``kill -9``
and restarted, checked from the plant's side and against the SQLite file.

The parent holds the plant, which outlives every restart as a real house does: the simulated home,
its SunSpec Modbus server and the OCPP 2.1 charging station with the car. The child
(``child.py``) is the controller with its store. Each cycle starts the child, checks what a
restart must get right, injects network faults (Modbus devices frozen, silent or serving garbage:
0x8000, scale factors of +400, -400 and -11; the relay frozen or silent; the grid flapping; the
station disconnected), sometimes takes the grid away and waits for the house to island, then kills
the child with SIGKILL. Checked: after a restart the settings are the last committed ones, an
islanded house stays islanded while the grid is absent and rejoins the returned grid only after
the enter-service delay (and then does); no discharge into a dead grid; no committed status or
event lost; at most one open charging session per car, none overlapping; a fresh status within
10 s (simulated) of every fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voltbridge.core.clock import ScaledClock
from voltbridge.devices.modbus import SunSpecServer
from voltbridge.devices.modbus import sim_images as img
from voltbridge.devices.ocpp.station import ChargingStation
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome
from voltbridge.store.codec import to_ms

from .inprocess import BAT_ETA, BAT_KW, BAT_KWH, CAR_ETA, CAR_KW, CAR_KWH, CIRCUITS
from .report import Finding, Tally

CHILD = Path(__file__).with_name("child.py")
T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)
SPEED = 5.0
"""Simulated seconds per wall second: a 2 s tick every 0.4 s."""
DELAY_S = 60.0
"""The child's enter-service delay [s simulated] (IEEE 1547 allows 0-600 s; short to keep
cycles short)."""
STALL_S, SLACK_S = 10.0, 4.0
"""A fault must be followed by a fresh status within STALL_S [s simulated]; SLACK_S absorbs one
tick and the two processes' clock anchors."""
CLEARING_S = 2.0
"""IEEE 1547-2018 §8.1 (unintentional islanding): cease to energize within 2 s of the grid's
loss. The outage here falls between two of the child's ticks (unlike in-process, where it comes
right before one), so energy fed before the next tick within this time is allowed."""
PASSWORD = "restart-campaign-password-0123"
MODBUS_FAULTS: tuple[tuple[str, str, dict[int, img.Values] | None], ...] = (
    ("meter", "freeze", None),
    ("meter", "drop", None),
    ("meter", "corrupt", None),
    ("meter", "corrupt", {203: {"W": -32768}}),  # 0x8000: not implemented
    ("meter", "corrupt", {203: {"W_SF": 400}}),
    ("meter", "corrupt", {203: {"W_SF": -400}}),
    ("meter", "corrupt", {203: {"W_SF": -11}}),
    ("meter", "corrupt", {203: {"Hz": -32768}}),
    ("pv", "freeze", None),
    ("pv", "drop", None),
    ("pv", "corrupt", None),
    ("pv", "corrupt", {103: {"W_SF": 400}}),
    ("battery", "freeze", None),
    ("battery", "drop", None),
    ("battery", "corrupt", None),
    ("relay", "freeze", None),
    ("relay", "drop", None),
)


@dataclass
class ChildView:
    """What the running child said (its JSON lines)."""

    ready: dict[str, object] | None = None
    ticks: list[tuple[datetime, str]] = field(default_factory=list)
    committed_at: datetime | None = None
    committed_events: int = 0
    settings_committed: dict[str, object] | None = None
    stopped: bool = False


async def _read(proc: asyncio.subprocess.Process, view: ChildView, ready: asyncio.Event) -> None:
    assert proc.stdout is not None
    async for line in proc.stdout:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "ready" in msg:
            view.ready = msg
            ready.set()
        elif "tick" in msg:
            view.ticks.append((datetime.fromisoformat(msg["tick"]), msg["grid"]))
        elif "committed" in msg:
            view.committed_at = datetime.fromisoformat(msg["committed"])
            view.committed_events = int(msg["events"])
        elif "settings_committed" in msg:
            view.settings_committed = msg["settings_committed"]
        elif "stopped" in msg:
            view.stopped = True


class Campaign:
    """One run of ``cycles`` restarts (see the module docstring)."""

    def __init__(self, seed: int, tally: Tally, folder: Path) -> None:
        self.rng, self.seed, self.tally, self.folder = random.Random(seed), seed, tally, folder
        self.clock = ScaledClock(T0, SPEED)
        self.anchor = time.time()
        car = SimStorage(CAR_KWH, 30.0, CAR_KW, CAR_KW, CAR_ETA, CAR_ETA)
        bat = SimStorage(BAT_KWH, 6.0, BAT_KW, BAT_KW, BAT_ETA, BAT_ETA)
        self.home = SimulatedHome(
            self.clock,
            load_kw=[self.rng.uniform(0.5, 3.0) for _ in range(96)],
            pv_kw=0.0,
            car=car,
            battery=bat,
            circuits_kw={c.name: c.typical_kw for c in CIRCUITS},
            voltage_v=240.0,
            frequency_hz=60.0,
        )
        self.server = SunSpecServer(self.home)
        self.station: ChargingStation | None = None
        self.db = folder / "voltbridge.sqlite"
        self.grid_back_at: datetime | None = None
        self.settings: dict[str, object] | None = None
        self.cycle = 0
        self.backfeed_kwh = 0.0
        self.meter_fault_until: datetime | None = None
        self.grid_lost_at: datetime | None = None

    def now_s(self) -> float:
        return (self.clock.now() - T0).total_seconds()

    def violation(self, kind: str, detail: str) -> None:
        self.tally.violation(Finding("restart", self.cycle, self.seed, kind, self.now_s(), detail))

    # --- the plant's watch ----------------------------------------------------------------------
    async def watch(self, stop: asyncio.Event) -> None:
        """Polls the plant: discharge into a dead grid, a switch closed too early."""
        was_closed = self.home.transfer_closed
        feeding = False
        while not stop.is_set():
            self.home.sync()
            now = self.clock.now()
            got = self.home.totals.backfeed_kwh - self.backfeed_kwh
            if got > 1e-9:
                blind = (
                    self.meter_fault_until is not None
                    and (now - self.meter_fault_until).total_seconds() < 14
                )
                lost_s = (
                    None if self.grid_lost_at is None else (now - self.grid_lost_at).total_seconds()
                )
                if blind:
                    self.tally.excused["backfeed"] += 1
                elif lost_s is not None and lost_s <= CLEARING_S:
                    self.tally.excused["backfeed within the 2 s clearing time"] += 1
                elif not feeding:  # one incident, however many polls it lasts
                    self.violation("backfeed", f"into the dead grid {lost_s} s after it went")
                feeding = True
                self.backfeed_kwh = self.home.totals.backfeed_kwh
            else:
                feeding = False
            closed = self.home.transfer_closed
            if closed and not was_closed and self.home.grid_up and self.grid_back_at is not None:
                back_s = (now - self.grid_back_at).total_seconds()
                if back_s < DELAY_S - 1.0:
                    self.violation(
                        "enter-service delay",
                        f"switch closed {back_s:.0f} s after the grid came back",
                    )
            was_closed = closed
            await asyncio.sleep(0.02)

    # --- one cycle ------------------------------------------------------------------------------
    async def start_child(
        self, update: dict[str, object]
    ) -> tuple[asyncio.subprocess.Process, ChildView, asyncio.Task[None]]:
        cfg = {
            "start": T0.isoformat(),
            "speed": SPEED,
            "anchor": self.anchor,
            "modbus_port": self.server.port,
            "modbus_timeout_s": 0.3,
            "device_timeout_s": 0.5,
            "circuits": {c: i for i, c in enumerate(self.server.circuits)},
            "transfer_coil": self.server.transfer_coil,
            "password": PASSWORD,
            "db": str(self.db),
            "seed": self.rng.randrange(2**31),
            "enter_service_delay_s": DELAY_S,
            "settings_update": update,
        }
        log = (self.folder / f"child-{self.cycle}.log").open("w")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), json.dumps(cfg), stdout=asyncio.subprocess.PIPE, stderr=log
        )
        view, ready = ChildView(), asyncio.Event()
        reader = asyncio.create_task(_read(proc, view, ready))
        await asyncio.wait_for(ready.wait(), 120.0)
        return proc, view, reader

    async def wait_s(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        await self.clock.sleep(seconds)

    def db_events(self) -> int:
        if not self.db.exists():
            return 0
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    async def one_cycle(self) -> None:
        rng = self.rng
        events_before = self.db_events()
        mode = rng.choice(("auto", "backup-only", "charge-now", "auto"))
        update: dict[str, object] = {"mode": mode, "v2g_allowed": rng.random() < 0.5}
        restart_at = self.clock.now()
        proc, view, reader = await self.start_child(update)
        assert view.ready is not None
        if self.settings is not None and view.ready["settings"] != self.settings:
            self.violation(
                "settings after restart",
                f"started with {view.ready['settings']}, committed {self.settings}",
            )
        url = f"ws://127.0.0.1:{view.ready['ocpp_port']}/ocpp/cp1"
        if self.station is None:
            self.station = ChargingStation(
                self.home,
                url,
                "cp1",
                PASSWORD,
                self.clock,
                meter_interval_s=4.0,
                backoff_min_s=1.0,
                backoff_max_s=4.0,
            )
            self.station.start()
        else:
            self.station.url = url
        await self.after_restart(view, restart_at)
        await self.fault_phase(view)
        if view.settings_committed is not None:
            self.settings = view.settings_committed
        if rng.random() < 0.6:  # take the grid away and let the house island before the kill
            self.home.grid_down()
            self.grid_back_at, self.grid_lost_at = None, self.clock.now()
            await self.wait_s(rng.uniform(6.0, 30.0))
        if proc.returncode is not None:  # it died by itself: the loop is gone
            tail = (self.folder / f"child-{self.cycle}.log").read_text()[-600:]
            self.tally.stall(
                Finding(
                    "restart",
                    self.cycle,
                    self.seed,
                    "child died",
                    self.now_s(),
                    f"exit {proc.returncode}: {tail}",
                )
            )
        else:
            proc.kill()  # SIGKILL: nothing runs in the child after this
        await proc.wait()
        await asyncio.sleep(0.2)
        reader.cancel()
        self.tally.fault("kill -9")
        self.check_rows(view, events_before)
        if not self.home.grid_up and rng.random() < 0.5:
            self.home.grid_restore()
            self.grid_back_at = self.clock.now()

    async def after_restart(self, view: ChildView, restart_at: datetime) -> None:
        """The switch right after a restart: islanded while the grid is absent, rejoined after
        the enter-service delay once it is back."""
        if self.cycle == 0:
            return
        if not self.home.grid_up:
            await self.wait_s(STALL_S + SLACK_S)
            grids = [g for at, g in view.ticks]
            if self.home.transfer_closed:
                self.violation("switch after restart", "switch closed while the grid is absent")
            if not grids or grids[-1] != "islanded":
                self.violation(
                    "grid state after restart",
                    f"grid absent but status says {grids[-1] if grids else 'nothing'}",
                )
            return
        if self.home.transfer_closed:
            return
        # a restarted controller cannot know how long the grid has been back: its wait may
        # start at its first status
        while not view.ticks:
            await asyncio.sleep(0.05)
        back = max(self.grid_back_at or restart_at, view.ticks[0][0])
        due = back + timedelta(seconds=DELAY_S + 30)
        while self.clock.now() < due and not self.home.transfer_closed:
            await asyncio.sleep(0.05)
        if not self.home.transfer_closed:
            grids = [g for _, g in view.ticks[-3:]]
            self.violation(
                "switch after restart",
                f"grid present, switch still open {self.now_s() - (back - T0).total_seconds():.0f} s after the grid came back (status {grids})",
            )

    async def fault_phase(self, view: ChildView) -> None:
        rng, station = self.rng, self.station
        assert station is not None
        end = self.clock.now() + timedelta(seconds=rng.uniform(60.0, 120.0))
        faults: list[tuple[datetime, str]] = []
        while self.clock.now() < end:
            await self.wait_s(rng.uniform(2.0, 8.0))
            at = self.clock.now()
            r = rng.random()
            if r < 0.6:
                device, kind, overrides = rng.choice(MODBUS_FAULTS)
                if kind == "corrupt":
                    self.server.corrupt(device, overrides)
                else:
                    getattr(self.server, kind)(device)
                label = f"modbus {kind} {device}{' ' + json.dumps(overrides) if overrides else ''}"
                length = rng.uniform(2.0, 20.0)
                asyncio.get_running_loop().call_later(length / SPEED, self.heal, device)
                if device == "meter":
                    self.meter_fault_until = at + timedelta(seconds=length)
            elif r < 0.8 and self.home.grid_up:
                self.home.grid_down()
                self.grid_back_at, self.grid_lost_at = None, self.clock.now()
                label = "grid down"
                asyncio.get_running_loop().call_later(
                    rng.uniform(1.0, 30.0) / SPEED, self.grid_back
                )
            else:
                label = "station disconnect"
                await station.stop()
                station.start()
            self.tally.fault(label.split(" {")[0])
            faults.append((at, label))
        await self.wait_s(STALL_S + SLACK_S)
        for device in ("meter", "pv", "battery", "relay"):
            self.heal(device)
        if not self.home.grid_up:
            self.grid_back()
        ticks = [at for at, _ in view.ticks]
        for at, label in faults:
            if not any(at < t <= at + timedelta(seconds=STALL_S + SLACK_S) for t in ticks):
                self.tally.stall(
                    Finding(
                        "restart",
                        self.cycle,
                        self.seed,
                        "stall",
                        (at - T0).total_seconds(),
                        f"no status within {STALL_S:g} s after {label}{' (child stopped)' if view.stopped else ''}",
                    )
                )

    def heal(self, device: str) -> None:
        self.server.heal(device)

    def grid_back(self) -> None:
        if not self.home.grid_up:
            self.home.grid_restore()
            self.grid_back_at = self.clock.now()

    def check_rows(self, view: ChildView, events_before: int) -> None:
        """Every status and event the child reported committed is in the file; sessions sane."""
        if view.committed_at is None:
            return
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
            stored = {row[0] for row in conn.execute("SELECT ts_ms FROM ticks")}
            events = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
            open_sessions = conn.execute(
                "SELECT vehicle, COUNT(*) FROM sessions WHERE end_ms IS NULL GROUP BY vehicle"
            ).fetchall()
            spans = conn.execute(
                "SELECT vehicle, start_ms, COALESCE(end_ms, last_at_ms) FROM sessions ORDER BY vehicle, start_ms"
            ).fetchall()
        lost = [at for at, _ in view.ticks if at <= view.committed_at and to_ms(at) not in stored]
        missing_events = max(0, events_before + view.committed_events - events)
        if lost or missing_events:
            self.tally.rows_lost += len(lost) + missing_events
            self.violation(
                "rows lost",
                f"{len(lost)} committed statuses and {missing_events} committed events missing after kill -9",
            )
        for vehicle, n in open_sessions:
            if n > 1:
                self.violation("sessions", f"{n} open sessions for {vehicle}")
        for (v1, _, e1), (v2, s2, _) in itertools.pairwise(spans):
            if v1 == v2 and s2 < e1:
                self.violation("sessions", f"overlapping sessions for {v1}")


def run_restarts(seed: int, cycles: int) -> Tally:
    """``cycles`` kill -9 restarts of the controller on the real peers."""
    tally = Tally()

    async def main() -> None:
        with tempfile.TemporaryDirectory(prefix="voltbridge-faults-") as tmp:
            c = Campaign(seed, tally, Path(tmp))
            await c.server.start()
            stop = asyncio.Event()
            watcher = asyncio.create_task(c.watch(stop))
            try:
                for i in range(cycles):
                    c.cycle = i
                    tally.scenarios += 1
                    await c.one_cycle()
            finally:
                stop.set()
                await watcher
                if c.station is not None:
                    await c.station.stop()
                await c.server.stop()

    asyncio.run(main())
    return tally
