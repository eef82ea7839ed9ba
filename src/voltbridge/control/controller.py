"""The real-time controller: read devices, decide, guard, write, record; every tick, on an injected clock.

One ``tick`` is the whole loop body; ``run`` repeats it every ``tick_s`` until stopped, and no
exception ends it (a tick that fails puts the storages on their safe default and says so). The
parts are split along the loop's seams: reading (``io``), faults (``faults``), the grid state
(``grid_state``), planning (``planning``), the decision (``decide``), the guard, writing
(``writer``), the outage steps (``outage``) and the status (``status_build``). At start the
controller reads the transfer switch and the storages' backup mode and takes the house from the
state it finds (``_reconcile``): a restart never leaves the house islanded on a live grid.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from voltbridge.control.baseline import ShadowBaseline
from voltbridge.control.budget import DischargeBudget
from voltbridge.control.decide import DecideInput, Decision, decide
from voltbridge.control.events import EventLog, Item
from voltbridge.control.faults import FaultBook
from voltbridge.control.flows import house_flows, soc_pct
from voltbridge.control.grid_state import GridEvent, GridLimits, GridReading, GridStateMachine
from voltbridge.control.guard import GuardInput, GuardRule, SiteLimits, guard
from voltbridge.control.health import Check, health_checks
from voltbridge.control.io import DeviceSet, Snapshot, guarded_call, read_snapshot
from voltbridge.control.outage import OutageSteps
from voltbridge.control.plan_source import PlanSource
from voltbridge.control.planning import Replanner
from voltbridge.control.program_events import EventBook
from voltbridge.control.reconcile import reconcile
from voltbridge.control.recording import StatusRecording
from voltbridge.control.settings import Settings, SettingsUpdate, apply_update
from voltbridge.control.site_model import ControlSite
from voltbridge.control.status_build import (
    StatusInputs,
    build_status,
    describe,
    failed_status,
    status_inputs,
)
from voltbridge.control.storm import StormWatch
from voltbridge.control.writer import DeviceWriter
from voltbridge.core.clock import Clock
from voltbridge.core.status import (
    ControlEvent,
    ControlStatus,
    EventCode,
    EventKind,
    NullRecorder,
    Recorder,
)
from voltbridge.core.types import Command, GridState, Measurement, Plan
from voltbridge.programs.events import AnnouncedOutage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlConfig:
    """How the loop runs.

    Attributes:
        tick_s: time between ticks [s].
        replan_s: time between plans [s].
        soc_replan_kwh: re-plan when a storage's SoC is this far off the plan [kWh].
        device_timeout_s: longest wait for one device call [s].
        stale_after_s: a storage measurement older than this is stale [s].
        ramp_s: after reconnecting, storage setpoints ramp up over this time [s] (IEEE 1547-2018
            enter-service ramp, default 300 s).
        write_deadband_kw: a setpoint is rewritten when it changes by more than this [kW] ...
        rewrite_s: ... or at least this often [s].
        plan_stale_s: a plan older than this is not followed (self-consumption instead) [s].
        plan_in_thread: plan in a worker thread while the loop goes on ticking (the simulator,
            which must be deterministic, plans inline).
        concurrent_reads: read devices concurrently (the simulator's in-process devices answer
            at once, and reading them one by one saves the tasks).
        keep_events: how many recent events the controller keeps in memory (the store keeps all).
        connect_grace_s: at start, a device that has not answered yet is "waiting" (not a fault)
            for this long [s]: an OCPP charger connects when it is ready (see ``FaultBook``).
    """

    tick_s: float = 2.0
    replan_s: float = 900.0
    soc_replan_kwh: float = 2.0
    device_timeout_s: float = 5.0
    stale_after_s: float = 30.0
    ramp_s: float = 300.0
    write_deadband_kw: float = 0.05
    rewrite_s: float = 60.0
    plan_stale_s: float = 3 * 3600.0
    plan_in_thread: bool = True
    concurrent_reads: bool = True
    keep_events: int = 1000
    connect_grace_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("tick_s", "replan_s", "device_timeout_s", "stale_after_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 [s]")


class Controller:
    """The control loop of one home (see the module docstring); implements ``ControlHandle``."""

    def __init__(
        self,
        site: ControlSite,
        devices: DeviceSet,
        plans: PlanSource,
        clock: Clock,
        config: ControlConfig | None = None,
        recorder: Recorder | None = None,
        settings: Settings | None = None,
        grid_limits: GridLimits | None = None,
    ) -> None:
        self.site, self.devices, self.clock = site, devices, clock
        self.config = cfg = config or ControlConfig()
        self.recorder: Recorder = recorder or NullRecorder()
        self._settings = settings or site.defaults
        for name in devices.chargers:
            site.vehicle(name)  # a charger for an unknown car is a wiring error
        self.grid = GridStateMachine(
            grid_limits or GridLimits(site.nominal_voltage_v, site.nominal_frequency_hz)
        )
        self.log = EventLog(clock, self.recorder, cfg.keep_events)
        self.recording = StatusRecording(self.recorder, self.log)
        self.faults = FaultBook(self.log, cfg.connect_grace_s)
        self.writer = DeviceWriter(
            devices,
            self.faults,
            self.log,
            cfg.device_timeout_s,
            cfg.write_deadband_kw,
            cfg.rewrite_s,
        )
        self.outage = OutageSteps(devices, self.writer, self.log, [c.name for c in site.circuits])
        self.planner = Replanner(
            plans,
            self.log,
            self.recorder,
            replan_s=cfg.replan_s,
            soc_replan_kwh=cfg.soc_replan_kwh,
            plan_stale_s=cfg.plan_stale_s,
            in_thread=cfg.plan_in_thread,
        )
        self.plans = plans
        self.programs = EventBook(self.log, on_change=self.planner.request)
        """The paid grid events offered by the programs' signal paths, with the answers."""
        # the site does not change while the controller runs: what every tick needs of it
        self._capacities = {v.name: v.capacity_kwh for v in site.vehicles}
        if site.battery is not None:
            self._capacities["battery"] = site.battery.capacity_kwh
        self._site_limits = SiteLimits(
            site.import_limit_kw, site.export_limit_kw, site.export_policy
        )
        self._budget = DischargeBudget(site, 2 * cfg.tick_s)
        self._baseline = ShadowBaseline(site)
        self.storm = StormWatch(self.log)
        """Announced outages and storm watch (``control/storm.py``)."""
        self._status: ControlStatus | None = None
        self._status_inputs: StatusInputs | None = None  # the last tick's, until it is read
        self._plugged: dict[str, bool | None] = {}
        self._guard_seen: dict[str, GuardRule] = {}
        self._last_grid_reading: GridReading | None = None
        self._last_tick: datetime | None = None
        self._started = False
        self._logged_action: tuple[tuple[str, int], ...] | None = None
        self._tick_failing: str | None = None
        self.decisions = 0
        self.settings_listeners: list[Callable[[Settings], None]] = []
        """Called with the new settings whenever the household changes them (to persist them)."""

    # --- ControlHandle ------------------------------------------------------------------------
    @property
    def status(self) -> ControlStatus | None:
        """The last tick's status, made when first read (see ``step``); until it is made, the
        one before (as when making it fails: the tick that failed then says so)."""
        inputs, self._status_inputs = self._status_inputs, None
        if inputs is not None:
            self._status = build_status(inputs)
        return self._status

    @property
    def plan(self) -> Plan | None:
        return self.planner.plan

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def vehicle_names(self) -> list[str]:
        return [v.name for v in self.site.vehicles]

    @property
    def events(self) -> list[ControlEvent]:
        """The latest events (at most ``keep_events``), oldest first; the store keeps them all."""
        return list(self.log.recent)

    def apply_settings(self, update: SettingsUpdate, source: str) -> Settings:
        new = apply_update(self._settings, update, self.site.vehicles, self.clock.now())
        if new == self._settings:
            return new
        old, self._settings = self._settings, new
        changed = sorted(k for k in Settings.model_fields if getattr(old, k) != getattr(new, k))
        for listener in self.settings_listeners:
            listener(new)
        self.log.emit(
            EventKind.MODE,
            EventCode.SETTINGS,
            f"settings changed by {source}: {', '.join(changed)}"
            + (f" (mode {new.mode.value})" if "mode" in changed else ""),
            data={"source": source, "changed": changed, "settings": new.model_dump(mode="json")},
        )
        self.planner.request(f"settings changed ({', '.join(changed)})")
        return new

    def health(self) -> dict[str, Check]:
        """The loop, devices, store and plan checks of ``/api/health`` (see ``control/health``)."""
        d = self.devices
        roles = [d.battery, d.pv, d.grid_sensor, d.load_meter, d.relay, d.transfer]
        return health_checks(
            now=self.clock.now(),
            last_tick=self._last_tick,
            tick_s=self.config.tick_s,
            faults=self.faults.all(),
            devices=1 + len(d.chargers) + sum(r is not None for r in roles),
            recording=self.recording.ok,
            plan_at=self.planner.plan_at,
            plan_stale_s=self.config.plan_stale_s,
        )

    def announce_outage(self, outage: AnnouncedOutage, source: str) -> AnnouncedOutage:
        """Storm watch for an announced outage (``programs.storm.StormError`` for a window
        that is over or too far ahead); recorded, and re-planned at the next tick."""
        return self.storm.announce(outage, self.clock.now(), source)

    def cancel_outage(self, outage_id: str, source: str) -> AnnouncedOutage:
        """Call off an announced outage (``StormError`` when unknown); recorded, re-planned."""
        return self.storm.cancel(outage_id, self.clock.now(), source)

    def announced_outages(self) -> list[AnnouncedOutage]:
        """The announced outages not over yet, by start."""
        return list(self.storm.announced(self.clock.now()))

    def subscribe(self) -> asyncio.Queue[Item]:
        return self.log.subscribe()

    def unsubscribe(self, queue: asyncio.Queue[Item]) -> None:
        self.log.unsubscribe(queue)

    # --- the loop -----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None, ticks: int | None = None) -> None:
        """Tick every ``tick_s`` until ``stop`` is set (or ``ticks`` ticks), then shut down safely.

        A tick that raises does not end the loop: it is recorded, the storages go to their safe
        default, and the next tick comes as usual."""
        stop = stop or asyncio.Event()
        done = 0
        try:
            while not stop.is_set() and (ticks is None or done < ticks):
                await self.safe_tick()
                done += 1
                await self.clock.sleep(self.config.tick_s)
        finally:
            await self.shutdown()

    async def safe_tick(self) -> ControlStatus:
        """``tick``, but a failure becomes a status that says so (never an exception)."""
        try:
            status = await self.tick()
        except Exception as err:
            return await self._tick_failed(err)
        if self._tick_failing is not None:
            self._tick_failing = None
            self.log.emit(
                EventKind.MODE, EventCode.TICK_FAILED, "controller ticking normally again"
            )
        return status

    async def shutdown(self) -> None:
        """Every charger and the battery to its safe default (0 kW) before the program ends."""
        self.planner.cancel()
        await self.writer.safe_defaults("safe default on shutdown")
        self.log.emit(
            EventKind.MODE,
            EventCode.STOPPED,
            "controller stopped: chargers and battery on safe default",
        )

    async def tick(self) -> ControlStatus:
        """One pass: read, track the grid, re-plan if due, decide, guard, write, record; its status."""
        await self.step()
        status = self.status
        assert status is not None  # a step always leaves one
        return status

    async def step(self) -> None:
        """``tick`` without making its status unless someone wants it now (a recorder, a
        subscriber): ``status`` makes it when read. What the controller does does not depend
        on it; the simulator, which reads no status, saves a fifth of its tick."""
        now = self.clock.now()
        cfg = self.config
        self._note_clock(now)
        snap = await self._read()
        recovered = self.faults.note(snap, now, cfg.stale_after_s, self.grid.limits.stale_after_s)
        for name in recovered:
            self.writer.forget(name)  # it gets the present command at once
        if not self._started:
            self._started = True
            await reconcile(
                snap, now, self.devices, self.grid, self.outage, self.log, cfg.device_timeout_s
            )
        events = self.grid.update(self._grid_reading(snap, now), now)
        if not events and self.grid.grid_connected and snap.transfer_closed is False:
            # on grid, yet the house is off it (a reconnection that did not close the switch,
            # or opened by hand): islanded, as at start-up, until the grid is seen normal for
            # the whole enter-service delay and the switch is closed again
            events = [self.grid.resume_islanded(now, "transfer switch read open while on grid")]
        for event in events:
            await self._on_grid_event(event)
        # off grid and the switch read closed: its opening failed or it was closed by hand
        reopened = (
            not events
            and not self.grid.grid_connected
            and await self.outage.keep_open(now, snap.transfer_closed)
        )
        if (events or reopened) and self.devices.transfer is not None:  # moved: read it again
            snap.transfer_closed = await guarded_call(
                "transfer switch",
                self.devices.transfer.transfer_closed,
                cfg.device_timeout_s,
                snap.faults,
            )
        self._note_plugs(snap)
        storm_why = self.storm.step(now)
        if storm_why is not None:
            self.planner.request(storm_why)
        storm_targets = self.storm.targets(now, self.site, self._settings, snap.plugged_in)
        load_kw, pv_kw = self._flows(snap, now)
        budgets = self._budget.left(snap, now)
        fresh = snap.grid is not None and (now - snap.grid.at).total_seconds() <= cfg.stale_after_s
        self.programs.note_grid(now, snap.grid.power_kw if fresh and snap.grid else None)
        await self.planner.step(
            snap,
            now,
            soc_pct(self.site, snap),
            self._settings,
            self.grid.grid_connected,
            budgets,
            self.programs.for_plan(now),
            self.storm.announced(now),
        )
        decision = decide(self._decide_input(snap, now, load_kw, pv_kw, budgets, storm_targets))
        restoring = decision.circuits is not None and any(
            on and not self.outage.circuits.get(c, True) for c, on in decision.circuits.items()
        )
        if decision.islanded and restoring:
            # close the relays first and measure again, so the storages are set for the load
            # the restored circuits really draw (never for a guess of it)
            await self.outage.apply_circuits(decision)
            snap = await self._read()
            load_kw, pv_kw = self._flows(snap, now)
            decision = decide(self._decide_input(snap, now, load_kw, pv_kw, budgets, storm_targets))
        commands = await self._guard_and_write(decision, snap, now, load_kw, pv_kw)
        await self.outage.apply_circuits(decision)
        self.outage.warn(decision, [n for n, p in self._plugged.items() if p])
        self._status_inputs = status_inputs(
            site=self.site,
            settings=self._settings,
            snap=snap,
            now=now,
            grid=self.grid,
            decision=decision,
            commands=commands,
            plan=self.planner.plan,
            plan_at=self.planner.plan_at,
            load_kw=load_kw,
            pv_kw=pv_kw,
            circuits=self.outage.circuits,
            faults=self.faults.all(),
            baseline=self._baseline,
            storm_watch=self.storm.status(now, storm_targets),
        )
        self.decisions += 1
        self._log_decision(snap, commands, decision)
        if self.recording.ok is not None or self.log.subscribed:
            status = self.status
            assert status is not None
            self.recording.record(status)
            self.log.publish(status)

    async def _read(self) -> Snapshot:
        cfg = self.config
        return await read_snapshot(
            self.devices, self._capacities, cfg.device_timeout_s, concurrent=cfg.concurrent_reads
        )

    def _decide_input(
        self,
        snap: Snapshot,
        now: datetime,
        load_kw: float,
        pv_kw: float,
        budgets: dict[str, float | None],
        storm_targets_kwh: dict[str, float],
    ) -> DecideInput:
        at = self.outage.reconnected_at
        return DecideInput(
            site=self.site,
            settings=self._settings,
            snap=snap,
            now=now,
            grid_state=self.grid.state,
            has_transfer=self.devices.transfer is not None,
            plan=self.planner.followable(now),
            load_kw=load_kw,
            pv_kw=pv_kw,
            dt_h=self.config.tick_s / 3600.0,
            circuits=self.outage.circuits if snap.circuits is None else snap.circuits,
            reconnected_s=None if at is None else (now - at).total_seconds(),
            ramp_s=self.config.ramp_s,
            stale_after_s=self.config.stale_after_s,
            budgets=budgets,
            storm_targets_kwh=storm_targets_kwh,
        )

    def _note_clock(self, now: datetime) -> None:
        """A clock that steps back (NTP, a restart under ``--speed``) is recorded and flagged,
        and the plan is made again from the new time; nothing is dropped."""
        last, self._last_tick = self._last_tick, now
        if last is not None and now < last:
            back_s = (last - now).total_seconds()
            self.log.emit(
                EventKind.WARNING,
                EventCode.CLOCK_BACK,
                f"the clock stepped back by {back_s:.0f} s; re-planning from the new time",
                data={"back_s": back_s},
            )
            self.planner.request(f"clock stepped back {back_s:.0f} s")

    def _grid_reading(self, snap: Snapshot, now: datetime) -> GridReading:
        m = snap.grid
        if m is None:
            last = self._last_grid_reading
            return GridReading(at=last.at if last is not None else now)  # no data: stale
        reading = GridReading(
            at=m.at,
            voltage_v=m.voltage_v,
            frequency_hz=m.frequency_hz,
            relay_closed=snap.grid_ok,
        )
        self._last_grid_reading = reading
        return reading

    def _flows(self, snap: Snapshot, now: datetime) -> tuple[float, float]:
        return house_flows(
            snap,
            now,
            self.devices,
            stale_after_s=self.config.stale_after_s,
            grid_stale_after_s=self.grid.limits.stale_after_s,
            islanded_open=not self.grid.grid_connected and snap.transfer_closed is False,
        )

    def _note_plugs(self, snap: Snapshot) -> None:
        for name in self.devices.chargers:
            new = snap.plugged_in.get(name)
            old = self._plugged.get(name)
            if new is None:
                continue
            if old is not None and new != old:
                what = "plugged in" if new else "unplugged"
                self.log.emit(
                    EventKind.PLUG,
                    EventCode.PLUG,
                    f"{name} {what}",
                    device=name,
                    data={"plugged_in": new},
                )
                self.planner.request(f"{name} {what}")
            if old is None or new != old:
                soc = snap.storages.get(name)
                self._baseline.plug(name, new, None if soc is None else soc.soc_kwh)
            self._plugged[name] = new

    async def _on_grid_event(self, event: GridEvent) -> None:
        self.log.emit(
            EventKind.GRID,
            EventCode.GRID,
            f"grid {event.old.value} → {event.new.value}: {event.reason}",
            data={"old": event.old.value, "new": event.new.value},
        )
        if event.new is GridState.ISLANDED and event.old is GridState.ON_GRID:
            await self.outage.island(event.at)
        elif event.new is GridState.ON_GRID:
            await self.outage.reconnect(event.at)
            cars = {
                n: v.model_copy(update={"outage_reserve_pct": None})
                for n, v in self._settings.vehicles.items()
            }
            self._settings = self._settings.model_copy(update={"vehicles": cars})
            self.planner.request("grid back")

    async def _guard_and_write(
        self, decision: Decision, snap: Snapshot, now: datetime, load_kw: float, pv_kw: float
    ) -> list[Command]:
        limits = decision.limits
        measurements: dict[str, Measurement] = {
            n: m for n, m in snap.storages.items() if m is not None and not self.faults.has(n)
        }
        plugged = {n: bool(p) for n, p in snap.plugged_in.items() if p}
        islanded = decision.islanded
        if self.grid.sensor_stale and not islanded:
            # whether the grid is there cannot be shown: an outage now would go unseen and any
            # discharge could energize dead lines, so every command is refused (safe defaults)
            load_kw = math.nan
        state = GuardInput(
            now=now,
            dt_h=self.config.tick_s / 3600.0,
            grid_connected=not islanded,
            grid_export_allowed=self.grid.grid_export_allowed
            and not islanded
            and decision.ramp_done,
            load_kw=load_kw,
            pv_kw=pv_kw,
            measurements=measurements,
            plugged_in=plugged,
        )
        asked = [
            Command(name, now, kw, decision.reasons.get(name, ""))
            for name, kw in decision.setpoints.items()
        ]
        commands, interventions = guard(asked, limits, self._site_limits, state)
        for iv in interventions:
            if self._guard_seen.get(iv.device) is not iv.rule:
                self.log.emit(
                    EventKind.GUARD,
                    EventCode.GUARD,
                    iv.reason,
                    device=iv.device,
                    data={
                        "rule": iv.rule.value,
                        "requested_kw": iv.requested_kw,
                        "allowed_kw": iv.allowed_kw,
                    },
                )
            self._guard_seen[iv.device] = iv.rule
        for name in set(self._guard_seen) - {iv.device for iv in interventions}:
            del self._guard_seen[name]
        reduced = {iv.device for iv in interventions}
        for cmd in commands:
            await self.writer.send(cmd, now, force=cmd.device in reduced)
        return commands

    def _log_decision(self, snap: Snapshot, commands: list[Command], decision: Decision) -> None:
        """Log the decision in words (the status's ``decision``) when what is done changes
        (which storages charge or discharge, islanded or not), not every tick."""
        action = tuple(
            (c.device, 1 if c.power_kw > 0 else -1) for c in commands if abs(c.power_kw) > 0.05
        ) + ((("islanded", 1),) if decision.islanded else ())
        if action != self._logged_action:
            self._logged_action = action
            log.info("%s", describe(decision, commands, snap, self.site))

    async def _tick_failed(self, err: Exception) -> ControlStatus:
        """A tick raised: record it once, put the storages on their safe default, and make a
        status that says so (its ``at`` advances, every flow unknown)."""
        now = self.clock.now()
        kind = f"{type(err).__name__}: {err}"
        if self._tick_failing != kind:
            self._tick_failing = kind
            log.error("controller tick failed", exc_info=err)
            self.log.emit(
                EventKind.FAULT,
                EventCode.TICK_FAILED,
                f"controller tick failed ({kind}); storages on safe default, retrying every tick",
                data={"exception": type(err).__name__},
            )
        try:
            await self.writer.safe_defaults("tick failed: safe default")
        except Exception:
            log.exception("safe defaults after a failed tick")
        status = failed_status(
            self.status,
            now,
            self._settings,
            self.vehicle_names,
            f"controller: tick failed: {kind}",
        )
        self._status = status
        self.recording.record(status)
        self.log.publish(status)
        return status
