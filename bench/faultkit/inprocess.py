"""In-process scenarios: the real controller on a simulated home with faulty devices, on a
virtual clock, so that thousands of faults cost seconds.

Two clocks: the plant's (true time, which drives the home's physics and dates every command the
devices receive) and the controller's, which is the plant's plus an offset that clock-jump faults
move forward and backward (an NTP step, a wrong RTC), as a real host's clock does while physics
goes on. Each scenario draws, from its own seed, a home (car and maybe a battery, a load and PV
profile), then a timeline of faults at random ticks: device faults (``plant.FAULTS``) with a
duration, grid outages (some flapping), clock jumps and plug changes. After every tick the watch
checks the invariants, and every fault must be followed by fresh statuses: a tick that raises
(the real ``Controller.run`` would end there: "controller stopped") or hangs is a stall of the
faults injected in the 10 s before it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.grid_state import GridLimits
from voltbridge.control.io import DeviceSet
from voltbridge.control.island import CircuitInfo
from voltbridge.control.plan_source import PlanState
from voltbridge.control.settings import Settings
from voltbridge.control.site_model import BatteryLimits, ControlSite, VehicleLimits
from voltbridge.core.clock import VirtualClock
from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Plan, PlanCost, StoragePlan
from voltbridge.devices.simulated import SimulatedDevices
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome

from .plant import (
    DECODE_ERRORS,
    GARBAGE,
    Board,
    Fault,
    FaultyBattery,
    FaultyCharger,
    FaultyMeter,
    FaultyPv,
    FaultyRelay,
    Limits,
    Watch,
)
from .report import Finding, Tally

T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)
TICK_S = 2.0
STALL_S = 10.0
"""A fault must be followed by a fresh status within this time [s]."""
CAR, CAR_KWH, CAR_KW, CAR_ETA, RESERVE_PCT = "ev", 60.0, 7.2, 0.9, 30.0
BAT_KWH, BAT_MIN_KWH, BAT_KW, BAT_ETA = 10.0, 1.0, 5.0, 0.95
IMPORT_LIMIT_KW = 20.0
CIRCUITS = (
    CircuitInfo("fridge", 0.3, essential=True, shed_priority=0),
    CircuitInfo("medical", 0.2, essential=True, shed_priority=1),
    CircuitInfo("dryer", 2.5, essential=False, shed_priority=2),
    CircuitInfo("water-heater", 4.5, essential=False, shed_priority=4),
)
DEVICES = ("meter", "pv", "charger", "battery", "relay")


class SkewedClock:
    """The controller's clock: the plant's time plus an offset that jumps (either way) [s]."""

    def __init__(self, plant: VirtualClock) -> None:
        self.plant, self.offset_s = plant, 0.0

    def now(self) -> datetime:
        return self.plant.now() + timedelta(seconds=self.offset_s)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self.plant.advance(seconds)


def control_site(battery: bool) -> ControlSite:
    car = VehicleLimits(
        name=CAR,
        capacity_kwh=CAR_KWH,
        max_charge_kw=CAR_KW,
        max_discharge_kw=CAR_KW,
        efficiency=CAR_ETA,
        may_export=False,
        mobility_reserve_pct=RESERVE_PCT,
        discharge_floor_pct=0.0,
        target_soc_pct=80.0,
        consumption_kwh_per_km=0.2,
    )
    bat = BatteryLimits(BAT_KWH, BAT_MIN_KWH, BAT_KWH, BAT_KW, BAT_KW, BAT_ETA)
    return ControlSite(
        name="fault campaign home",
        timezone="America/Los_Angeles",
        vehicles=(car,),
        battery=bat if battery else None,
        import_limit_kw=IMPORT_LIMIT_KW,
        export_limit_kw=5.0,
        export_policy="none",
        circuits=CIRCUITS,
        essential_kw=sum(c.typical_kw for c in CIRCUITS if c.essential),
        nominal_voltage_v=240.0,
        nominal_frequency_hz=60.0,
        defaults=Settings(v2g_allowed=False, backup_reserve_h=4.0),
    )


@dataclass
class RandomPlans:
    """A plan source asking each storage for a random power per 15 minutes (seeded), so the
    controller charges and discharges; its SoC follows the powers within the capacity."""

    site: ControlSite
    rng: random.Random

    def make_plan(self, state: PlanState) -> Plan:
        n, dt_h = 96, 0.25
        start = int(state.now.timestamp())
        grid = TimeGrid(np.arange(start, start + (n + 1) * 900, 900, dtype=np.int64))
        caps = {
            v.name: (v.capacity_kwh, v.max_charge_kw, v.max_discharge_kw, "vehicle")
            for v in self.site.vehicles
        }
        b = self.site.battery
        if b is not None:
            caps["battery"] = (b.capacity_kwh, b.max_charge_kw, b.max_discharge_kw, "battery")
        storages = []
        for name, (cap, up, down, kind) in caps.items():
            power = np.array([self.rng.uniform(-down, up) for _ in range(n)])
            soc = np.empty(n + 1)
            soc[0] = state.soc_pct.get(name, 50.0) / 100.0 * cap
            for k in range(n):
                soc[k + 1] = min(max(soc[k] + power[k] * dt_h, 0.0), cap)
            storages.append(
                StoragePlan(
                    name,
                    kind,
                    power,
                    soc,
                    np.ones(n, dtype=bool),
                    np.zeros(n),
                    cap,
                    np.zeros(n + 1),
                )
            )
        flat = np.ones(n)
        return Plan(
            grid=grid,
            price_import=flat * 0.4,
            price_export=flat * 0.05,
            load_kw=flat,
            pv_kw=flat * 0.0,
            pv_used_kw=flat * 0.0,
            grid_kw=flat,
            unserved_kw=np.zeros(n),
            storages=tuple(storages),
            cost=PlanCost(1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        )


@dataclass
class Rig:
    """One scenario's plant, wrappers, watch and controller."""

    plant: VirtualClock
    clock: SkewedClock
    home: SimulatedHome
    sim: SimulatedDevices
    board: Board
    devices: DeviceSet
    controller: Controller
    watch: Watch
    findings: list[tuple[str, str]] = field(default_factory=list)


Sabotage = Callable[[Rig, int], Awaitable[None]]
"""Called after every tick (tick index): a deliberately broken controller for the honesty test."""


def build(
    rng: random.Random, tally: Tally, part: str, index: int, seed: int, start: datetime
) -> Rig:
    battery = rng.random() < 0.6
    cs = control_site(battery)
    plant = VirtualClock(start)
    clock = SkewedClock(plant)
    steps = 24 * 4
    load = [rng.uniform(0.3, 3.0) for _ in range(steps)]
    pv = [
        rng.uniform(0.0, 0.8) * x for x in load
    ]  # PV below the base load: any export is a storage's
    car = SimStorage(
        CAR_KWH,
        rng.uniform(5.0, 55.0),
        CAR_KW,
        CAR_KW,
        CAR_ETA,
        CAR_ETA,
        plugged_in=rng.random() < 0.85,
    )
    bat = (
        SimStorage(BAT_KWH, rng.uniform(0.5, 9.5), BAT_KW, BAT_KW, BAT_ETA, BAT_ETA)
        if battery
        else None
    )
    home = SimulatedHome(
        plant,
        load_kw=load,
        pv_kw=pv,
        profile_step_s=900.0,
        car=car,
        battery=bat,
        circuits_kw={c.name: c.typical_kw for c in CIRCUITS},
        voltage_v=240.0,
        frequency_hz=60.0,
    )
    sim = SimulatedDevices.around(home)
    board = Board(plant, clock)
    assert sim.charger is not None
    meter = FaultyMeter(board, sim.meter)
    relay = FaultyRelay(board, sim.relay)
    devices = DeviceSet(
        meter=meter,
        chargers={CAR: FaultyCharger(board, sim.charger)},
        battery=FaultyBattery(board, sim.battery) if sim.battery is not None else None,
        pv=FaultyPv(board, sim.pv),
        grid_sensor=meter if rng.random() < 0.5 else None,
        load_meter=meter if rng.random() < 0.7 else None,
        relay=relay,
        transfer=relay,
    )
    limits_grid = GridLimits(240.0, 60.0)
    config = ControlConfig(
        tick_s=TICK_S,
        plan_in_thread=False,
        device_timeout_s=0.002,  # real seconds: a silent in-process device costs 2 ms, not 5 s
        write_deadband_kw=0.0,
    )
    ctl = Controller(cs, devices, RandomPlans(cs, rng), clock, config, grid_limits=limits_grid)
    storages = {"charger": (CAR_KW, CAR_KW)} | ({"battery": (BAT_KW, BAT_KW)} if battery else {})
    floors = {"charger": RESERVE_PCT / 100 * CAR_KWH} | (
        {"battery": BAT_MIN_KWH} if battery else {}
    )
    limits = Limits(
        storages=storages,
        floors_kwh=floors,
        import_limit_kw=IMPORT_LIMIT_KW,
        enter_service_delay_s=limits_grid.enter_service_delay_s,
        sensor_grace_s=limits_grid.stale_after_s + 2 * TICK_S,
        circuits=frozenset(c.name for c in CIRCUITS),
    )
    rig_findings: list[tuple[str, str]] = []

    def report(kind: str, what: str) -> None:
        rig_findings.append((kind, what))

    watch = Watch(home, board, limits, report, lambda kind: tally.excused.update([kind]))
    return Rig(plant, clock, home, sim, board, devices, ctl, watch, rig_findings)


@dataclass
class Event:
    tick: int
    kind: str
    apply: Callable[[], None]
    counted: bool = True


def timeline(rig: Rig, rng: random.Random, n_faults: int) -> tuple[list[Event], int]:
    """Random faults at random ticks (mean one per 4 ticks), with their heals; the tick count."""
    events: list[Event] = []
    tick = 2
    present = [d for d in DEVICES if d != "battery" or rig.sim.battery is not None]
    grid_busy_until = 0

    def toggle_plug() -> None:
        charger = rig.sim.charger
        assert charger is not None
        charger.plug(not charger.store.plugged_in)

    counted = 0
    while counted < n_faults:
        tick += 1 + int(rng.expovariate(1 / 3.0))
        counted += 1
        r = rng.random()
        if r < 0.70:
            dev = rng.choice(present)
            kind = rng.choice(
                ("silent", "frozen", "disconnected", "garbage", "decode-error", "refusing")
            )
            variant = ""
            if kind == "garbage":
                variant = rng.choice(list(GARBAGE))
            elif kind == "decode-error":
                variant = rng.choice(list(DECODE_ERRORS))
            elif kind == "refusing":  # each device refuses as its protocol does
                ocpp = ("rejected", "call-error", "format", "value")
                variant = rng.choice(ocpp if dev == "charger" else ("modbus-refused", "value"))
            length = max(1, int(rng.expovariate(1 / 15.0)))

            def inject(dev: str = dev, kind: str = kind, variant: str = variant) -> None:
                rig.board.faults[dev] = Fault(kind, variant)

            def heal(dev: str = dev) -> None:
                rig.board.faults.pop(dev, None)

            events.append(Event(tick, f"{kind}{'/' + variant if variant else ''} on {dev}", inject))
            events.append(Event(tick + length, f"heal {dev}", heal, counted=False))
        elif r < 0.85:
            if tick < grid_busy_until:
                tick = grid_busy_until
            down = int(
                rng.choice((rng.uniform(1, 10), rng.uniform(10, 200), rng.uniform(100, 400)))
            )
            events.append(Event(tick, "grid down", rig.home.grid_down))
            events.append(Event(tick + down, "grid back", rig.home.grid_restore, counted=False))
            grid_busy_until = tick + down + 1
        elif r < 0.95:
            jump = rng.choice((rng.uniform(1, 120), rng.uniform(120, 7200)))
            jump *= rng.choice((1, -1))

            def move(jump: float = jump) -> None:
                rig.clock.offset_s += jump

            events.append(Event(tick, f"clock jump {'+' if jump > 0 else '-'}", move))
        else:
            counted -= 1  # a plug change is no fault
            events.append(
                Event(
                    tick,
                    "plug change",
                    toggle_plug,
                    counted=False,
                )
            )
    last = max(e.tick for e in events) if events else tick
    return sorted(events, key=lambda e: e.tick), last + int(STALL_S / TICK_S) + 2


async def run_scenario(
    part: str,
    index: int,
    seed: int,
    n_faults: int,
    tally: Tally,
    sabotage: Sabotage | None = None,
    min_ticks: int = 0,
) -> Rig:
    """One scenario: ``n_faults`` faults drawn from ``seed`` over at least ``min_ticks`` ticks;
    results go into ``tally``."""
    rng = random.Random(seed)
    rig = build(rng, tally, part, index, seed, T0 + timedelta(days=rng.randrange(0, 300)))
    events, n_ticks = timeline(rig, rng, n_faults)
    n_ticks = max(n_ticks, min_ticks)
    recent: list[tuple[int, str]] = []  # (tick, fault) of the last STALL_S
    active_faults: dict[str, tuple[int, str]] = {}  # device → (tick, fault) in force
    stalled: set[int] = set()
    ongoing: set[str] = set()
    window = int(STALL_S / TICK_S)
    ev = 0
    tally.scenarios += 1
    for k in range(n_ticks):
        while ev < len(events) and events[ev].tick <= k:
            e = events[ev]
            e.apply()
            if e.kind.startswith("grid"):
                rig.watch.grid_changed(rig.plant.now())
            if e.counted:
                tally.fault(e.kind.split("/")[0].split(" on ")[0])
                recent.append((k, e.kind))
                if " on " in e.kind:
                    active_faults[e.kind.split(" on ")[1]] = (k, e.kind)
            elif e.kind.startswith("heal "):
                active_faults.pop(e.kind[5:], None)
            ev += 1
        recent = [(t, f) for t, f in recent if k - t <= window]
        if "meter" in rig.board.faults:
            rig.watch.meter_faulted(rig.plant.now())
        expected = rig.clock.now()
        problem = None
        try:
            status = await asyncio.wait_for(rig.controller.tick(), 5.0)
        except TimeoutError:
            problem = "a tick hung for 5 s"
        except Exception as exc:  # the real loop ends here ("controller stopped")
            problem = f"tick raised {type(exc).__name__}: {exc}"
        else:
            if status.at != expected:
                problem = f"status at {status.at.isoformat()} not the tick's {expected.isoformat()}"
        if sabotage is not None:
            await sabotage(rig, k)
        if problem is not None:
            # each fault counts once: those of the last STALL_S and those still in force
            culprits = {t: f for t, f in [*recent, *active_faults.values()] if t not in stalled}
            what = problem.split(":")[0]
            for t, fault in sorted(culprits.items()):
                stalled.add(t)
                tally.stall(
                    Finding(
                        part,
                        index,
                        seed,
                        f"stall ({what})",
                        t * TICK_S,
                        f"after {fault}: {problem}",
                    )
                )
            if not culprits and not recent and not active_faults:
                tally.stall(
                    Finding(
                        part, index, seed, f"stall ({what})", k * TICK_S, f"no fault: {problem}"
                    )
                )
        rig.watch.check(rig.plant.now())
        active = ", ".join(
            f"{d}:{f.kind}{'/' + f.variant if f.variant else ''}"
            for d, f in rig.board.faults.items()
        )
        breached = {kind for kind, _ in rig.findings}
        for kind, what in rig.findings:
            if kind in ongoing:  # one incident, however many ticks it lasts
                continue
            ongoing.add(kind)
            context = f"{what} [faults: {active or 'none'}; recent: {', '.join(f for _, f in recent) or 'none'}]"
            tally.violation(Finding(part, index, seed, kind, k * TICK_S, context))
        ongoing &= breached
        rig.findings.clear()
        rig.plant.advance(TICK_S)
        rig.home.sync()
    return rig


PER_SCENARIO = 60
"""Faults per in-process scenario."""


def run_home_scenarios(seed: int, n_faults: int, per_scenario: int = PER_SCENARIO) -> Tally:
    """Enough scenarios for ``n_faults`` faults, each with its own seed drawn from ``seed``."""
    tally = Tally()
    master = random.Random(seed)
    left, index = n_faults, 0
    while left > 0:
        n = min(per_scenario, left)
        asyncio.run(run_scenario("home", index, master.randrange(2**31), n, tally))
        left -= n
        index += 1
    return tally
