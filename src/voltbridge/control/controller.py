"""The real-time controller: read devices, decide, guard, write, record; every tick, on an injected clock.

One ``tick`` is the whole loop body; ``run`` repeats it every ``tick_s`` until stopped. The
planner runs inside the loop every ``replan_s`` and on events (car plugged in or out, settings
changed, grid back, SoC off plan); on grid the controller follows the plan and absorbs what it
did not foresee; while the grid is absent it islands the house (transfer switch open, storages
in backup operation, circuits shed by priority) and never lets power flow toward the grid; the
safety guard clips every command just before it is written.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from voltbridge.control.decide import Decision, decide
from voltbridge.control.grid_state import GridEvent, GridLimits, GridReading, GridStateMachine
from voltbridge.control.guard import GuardInput, SiteLimits, guard
from voltbridge.control.io import DeviceSet, Snapshot, guarded_call, read_snapshot
from voltbridge.control.outage import OutageActions
from voltbridge.control.plan_source import PlanSource, PlanState
from voltbridge.control.settings import Settings, SettingsUpdate, apply_update
from voltbridge.control.site_model import ControlSite
from voltbridge.control.status_build import ShadowBaseline, build_status
from voltbridge.control.tracking import plan_step, toward_zero
from voltbridge.core.clock import Clock
from voltbridge.core.status import (
    ControlEvent,
    ControlStatus,
    EventKind,
    NullRecorder,
    Recorder,
)
from voltbridge.core.types import Command, GridState, Measurement, Plan
from voltbridge.planner.export import plan_to_dict

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
        plan_in_thread: plan in a worker thread so that device I/O is not held up (the
            simulator, which waits for each tick anyway, plans inline).
        concurrent_reads: read devices concurrently (the simulator's in-process devices answer
            at once, and reading them one by one saves the tasks).
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

    def __post_init__(self) -> None:
        for name in ("tick_s", "replan_s", "device_timeout_s", "stale_after_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 [s]")


class Controller(OutageActions):
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
        self.site, self.devices, self.plans, self.clock = site, devices, plans, clock
        self.config = config or ControlConfig()
        self.recorder: Recorder = recorder or NullRecorder()
        self._settings = settings or site.defaults
        for name in devices.chargers:
            site.vehicle(name)  # a charger for an unknown car is a wiring error
        self.grid = GridStateMachine(
            grid_limits or GridLimits(site.nominal_voltage_v, site.nominal_frequency_hz)
        )
        self._status: ControlStatus | None = None
        self._plan: Plan | None = None
        self._plan_at: datetime | None = None
        self._replan_why: str | None = "start"
        self._plugged: dict[str, bool | None] = {}
        self._faults: dict[str, str] = {}
        self._sent: dict[str, tuple[float, datetime]] = {}
        self._safe: set[str] = set()
        self._circuits: dict[str, bool] = {c.name: True for c in site.circuits}
        self._reconnected_at: datetime | None = None
        self._islanding_warned = False
        self._reserve_warned = False
        self._guard_seen: dict[str, str] = {}
        self._queues: list[asyncio.Queue[ControlStatus | ControlEvent]] = []
        self._baseline = ShadowBaseline(site)
        self._last_grid_reading: GridReading | None = None
        self._discharged: dict[str, float] = {}
        self._budget_day: date | None = None
        self._budget_at: datetime | None = None
        self.events: list[ControlEvent] = []
        """Every event since start, oldest first (the store keeps them for longer)."""
        self.decisions = 0
        self._logged_kind = ""
        self.settings_listeners: list[Callable[[Settings], None]] = []
        """Called with the new settings whenever the household changes them (to persist them)."""

    # --- ControlHandle ------------------------------------------------------------------------
    @property
    def status(self) -> ControlStatus | None:
        return self._status

    @property
    def plan(self) -> Plan | None:
        return self._plan

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def vehicle_names(self) -> list[str]:
        return [v.name for v in self.site.vehicles]

    def apply_settings(self, update: SettingsUpdate, source: str) -> Settings:
        new = apply_update(self._settings, update, self.site.vehicles, self.clock.now())
        if new == self._settings:
            return new
        old, self._settings = self._settings, new
        changed = sorted(k for k in Settings.model_fields if getattr(old, k) != getattr(new, k))
        for listener in self.settings_listeners:
            listener(new)
        self._event(
            EventKind.MODE,
            f"settings changed by {source}: {', '.join(changed)}"
            + (f" (mode {new.mode.value})" if "mode" in changed else ""),
            data={"source": source, "settings": new.model_dump(mode="json")},
        )
        self._replan_why = f"settings changed ({', '.join(changed)})"
        return new

    def subscribe(self) -> asyncio.Queue[ControlStatus | ControlEvent]:
        q: asyncio.Queue[ControlStatus | ControlEvent] = asyncio.Queue(maxsize=100)
        self._queues.append(q)
        return q

    def unsubscribe(self, queue: asyncio.Queue[ControlStatus | ControlEvent]) -> None:
        if queue in self._queues:
            self._queues.remove(queue)

    # --- the loop -----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None, ticks: int | None = None) -> None:
        """Tick every ``tick_s`` until ``stop`` is set (or ``ticks`` ticks), then shut down safely."""
        stop = stop or asyncio.Event()
        done = 0
        try:
            while not stop.is_set() and (ticks is None or done < ticks):
                await self.tick()
                done += 1
                await self.clock.sleep(self.config.tick_s)
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Every charger and the battery to its safe default (0 kW) before the program ends."""
        for name, dev in self.devices.chargers.items():
            await self._write(name, dev.safe_default(), "safe default on shutdown")
        if self.devices.battery is not None:
            await self._write("battery", self.devices.battery.set_battery_power(0.0), "shutdown")
        self._event(EventKind.MODE, "controller stopped: chargers and battery on safe default")

    async def tick(self) -> ControlStatus:
        """One pass: read, track the grid, re-plan if due, decide, guard, write, record."""
        now = self.clock.now()
        cfg = self.config
        caps = {v.name: v.capacity_kwh for v in self.site.vehicles}
        if self.site.battery is not None:
            caps["battery"] = self.site.battery.capacity_kwh
        snap = await read_snapshot(
            self.devices, caps, cfg.device_timeout_s, concurrent=cfg.concurrent_reads
        )
        self._note_faults(snap, now)
        events = self.grid.update(self._grid_reading(snap, now), now)
        for event in events:
            await self._on_grid_event(event)
        if events and self.devices.transfer is not None:  # the switch moved: read it again
            snap.transfer_closed = await guarded_call(
                "transfer switch",
                self.devices.transfer.transfer_closed,
                cfg.device_timeout_s,
                snap.faults,
            )
        self._note_plugs(snap, now)
        load_kw, pv_kw = self._flows(snap, now)
        await self._maybe_replan(snap, now)
        budgets = self._budgets(snap, now)

        def decide_now(snap: Snapshot, load_kw: float, pv_kw: float) -> Decision:
            return decide(
                site=self.site,
                settings=self._settings,
                snap=snap,
                now=now,
                grid_state=self.grid.state,
                transfer_open=snap.transfer_closed is False,
                has_transfer=self.devices.transfer is not None,
                plan=self._followable_plan(now),
                load_kw=load_kw,
                pv_kw=pv_kw,
                dt_h=cfg.tick_s / 3600.0,
                circuits=self._circuits if snap.circuits is None else snap.circuits,
                reconnected_s=(
                    None
                    if self._reconnected_at is None
                    else (now - self._reconnected_at).total_seconds()
                ),
                ramp_s=cfg.ramp_s,
                stale_after_s=cfg.stale_after_s,
                budgets=budgets,
            )

        decision = decide_now(snap, load_kw, pv_kw)
        restoring = decision.circuits is not None and any(
            on and not self._circuits.get(c, True) for c, on in decision.circuits.items()
        )
        if decision.islanded and restoring:
            # close the relays first and measure again, so the storages are set for the load
            # the restored circuits really draw (never for a guess of it)
            await self._apply_circuits(decision, now)
            snap = await read_snapshot(
                self.devices, caps, cfg.device_timeout_s, concurrent=cfg.concurrent_reads
            )
            load_kw, pv_kw = self._flows(snap, now)
            decision = decide_now(snap, load_kw, pv_kw)
        commands = await self._guard_and_write(decision, snap, now, load_kw, pv_kw)
        await self._apply_circuits(decision, now)
        self._warn_island(decision, now)
        status = build_status(
            site=self.site,
            settings=self._settings,
            snap=snap,
            now=now,
            grid=self.grid,
            decision=decision,
            commands=commands,
            plan=self._plan,
            plan_at=self._plan_at,
            load_kw=load_kw,
            pv_kw=pv_kw,
            circuits=self._circuits,
            faults=self._faults,
            baseline=self._baseline,
        )
        self._status = status
        self.decisions += 1
        self._log_decision(status)
        self.recorder.record_status(status)
        self._publish(status)
        return status

    # --- pieces -------------------------------------------------------------------------------
    def _budgets(self, snap: Snapshot, now: datetime) -> dict[str, float | None]:
        """Warranty discharge left today per car [kWh of stored energy]: the warranty's
        throughput spread evenly over its years, counted per local day."""
        day = now.astimezone(ZoneInfo(self.site.timezone)).date()
        if day != self._budget_day:
            self._budget_day, self._discharged = day, {}
        dt_h = 0.0 if self._budget_at is None else (now - self._budget_at).total_seconds() / 3600
        self._budget_at = now
        out: dict[str, float | None] = {}
        for v in self.site.vehicles:
            m = snap.storages.get(v.name)
            if m is not None and m.power_kw is not None and m.power_kw < 0:
                used = -m.power_kw / v.efficiency * min(dt_h, 2 * self.config.tick_s / 3600)
                self._discharged[v.name] = self._discharged.get(v.name, 0.0) + used
            if v.discharge_budget_kwh_per_h is None:
                out[v.name] = None
            else:
                daily = 24.0 * v.discharge_budget_kwh_per_h
                out[v.name] = max(0.0, daily - self._discharged.get(v.name, 0.0))
        return out

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
        """House load and PV now [kW]; NaN when they cannot be known from fresh data (the guard
        then refuses every command: without the load, neither the breaker nor export is safe)."""

        def fresh(m: Measurement | None, limit_s: float) -> float:
            if m is None or m.power_kw is None or (now - m.at).total_seconds() > limit_s:
                return math.nan
            return m.power_kw

        stale_s = self.config.stale_after_s
        pv = 0.0 if self.devices.pv is None else fresh(snap.pv, stale_s)
        pv = max(pv, 0.0) if math.isfinite(pv) else pv
        if self.devices.load_meter is not None:
            load = fresh(snap.load, stale_s)
            return (max(load, 0.0) if math.isfinite(load) else load), pv
        grid_kw = fresh(snap.grid, self.grid.limits.stale_after_s)
        if not self.grid.grid_connected and snap.transfer_closed is False:
            grid_kw = 0.0  # islanded: nothing flows through the (open) connection
        storage = 0.0
        for name, m in snap.storages.items():
            if m is not None and m.power_kw is not None:
                storage += m.power_kw
            elif snap.plugged_in.get(name):
                storage = math.nan
        load = grid_kw + pv - storage
        return (max(load, 0.0) if math.isfinite(load) else math.nan), pv

    def _note_faults(self, snap: Snapshot, now: datetime) -> None:
        stale = dict(snap.faults)
        for name, m in snap.storages.items():
            if m is not None and (now - m.at).total_seconds() > self.config.stale_after_s:
                stale[name] = f"stale data: last reading {(now - m.at).total_seconds():.0f} s old"
        if (
            snap.grid is not None
            and (now - snap.grid.at).total_seconds() > self.grid.limits.stale_after_s
        ):
            stale["meter"] = (
                f"stale data: last reading {(now - snap.grid.at).total_seconds():.0f} s old"
            )
        for name, why in stale.items():
            if self._faults.get(name) != why and name not in self._faults:
                self._event(EventKind.FAULT, f"{name}: {why}", device=name)
        for name in set(self._faults) - set(stale):
            self._event(EventKind.FAULT, f"{name}: answering again with fresh data", device=name)
            self._safe.discard(name)
            self._sent.pop(name, None)  # write the present command at once
        self._faults = stale

    def _note_plugs(self, snap: Snapshot, now: datetime) -> None:
        for name in self.devices.chargers:
            new = snap.plugged_in.get(name)
            old = self._plugged.get(name)
            if new is None:
                continue
            if old is not None and new != old:
                what = "plugged in" if new else "unplugged"
                self._event(EventKind.PLUG, f"{name} {what}", device=name)
                self._replan_why = f"{name} {what}"
            if old is None or new != old:
                soc = snap.storages.get(name)
                self._baseline.plug(name, new, None if soc is None else soc.soc_kwh)
            self._plugged[name] = new

    def _soc_pct(self, snap: Snapshot) -> dict[str, float]:
        out = {}
        for v in self.site.vehicles:
            m = snap.storages.get(v.name)
            if m is not None and m.soc_kwh is not None:
                out[v.name] = 100.0 * m.soc_kwh / v.capacity_kwh
        b = self.site.battery
        m = snap.storages.get("battery")
        if b is not None and m is not None and m.soc_kwh is not None:
            out["battery"] = 100.0 * m.soc_kwh / b.capacity_kwh
        return out

    async def _maybe_replan(self, snap: Snapshot, now: datetime) -> None:
        why = self._replan_why
        if why is None and (
            self._plan_at is None or (now - self._plan_at).total_seconds() >= self.config.replan_s
        ):
            why = f"every {self.config.replan_s / 60:g} minutes"
        if why is None and self._plan is not None:
            step = plan_step(self._plan, now)
            for name, m in snap.storages.items():
                if step is None or m is None or m.soc_kwh is None or name not in step.soc_kwh:
                    continue
                off = m.soc_kwh - step.soc_kwh[name]
                if abs(off) > self.config.soc_replan_kwh:
                    why = f"{name} SoC {off:+.1f} kWh off plan"
                    break
        if why is None or not self.grid.grid_connected:
            return  # islanded: the plan waits for the grid (its prices and limits assume it)
        plugged = {n: bool(p) for n, p in snap.plugged_in.items() if p is not None}
        try:
            plan = self.plans.make_plan(
                PlanState(now, self._soc_pct(snap), plugged, self._settings)
            )
        except Exception as err:  # a failed plan must not stop the loop: keep the last one
            log.exception("planning failed")
            self._event(EventKind.WARNING, f"planning failed ({err}); following the last plan")
            self._replan_why = None
            self._plan_at = now
            return
        self._plan, self._plan_at, self._replan_why = plan, now, None
        self._event(
            EventKind.PLAN,
            f"new plan ({why}): cost {plan.cost.total:.2f} over {plan.grid.n} steps",
            data={"reason": why, "warnings": list(plan.warnings), "solve_ms": plan.solve_ms},
        )
        if isinstance(self.recorder, NullRecorder):
            return  # nothing records it: skip turning it into JSON (a year's simulation plans 35,000 times)
        try:
            minutes = round(float(plan.grid.dt_h[0]) * 60)
            self.recorder.record_plan(now, plan_to_dict(plan, minutes))
        except Exception:  # recording is best effort; the loop goes on
            log.exception("recording the plan failed")

    def _followable_plan(self, now: datetime) -> Plan | None:
        if self._plan is None or self._plan_at is None:
            return None
        if (now - self._plan_at).total_seconds() > self.config.plan_stale_s:
            return None
        return self._plan

    async def _on_grid_event(self, event: GridEvent) -> None:
        now = event.at
        self._event(
            EventKind.GRID,
            f"grid {event.old.value} → {event.new.value}: {event.reason}",
            data={"old": event.old.value, "new": event.new.value},
        )
        if event.new is GridState.ISLANDED and event.old is GridState.ON_GRID:
            await self._island(now)
        elif event.new is GridState.ON_GRID:
            await self._reconnect(now)

    async def _guard_and_write(
        self, decision: Decision, snap: Snapshot, now: datetime, load_kw: float, pv_kw: float
    ) -> list[Command]:
        limits = decision.limits
        measurements: dict[str, Measurement] = {
            n: m for n, m in snap.storages.items() if m is not None and n not in self._faults
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
        site = SiteLimits(
            self.site.import_limit_kw, self.site.export_limit_kw, self.site.export_policy
        )
        asked = [
            Command(name, now, kw, decision.reasons.get(name, ""))
            for name, kw in decision.setpoints.items()
        ]
        commands, interventions = guard(asked, limits, site, state)
        for iv in interventions:
            key = iv.reason.split(": ", 2)[-1].split(" ")[0:3]
            tag = " ".join(key)
            if self._guard_seen.get(iv.device) != tag:
                self._event(EventKind.GUARD, iv.reason, device=iv.device)
            self._guard_seen[iv.device] = tag
        for name in set(self._guard_seen) - {iv.device for iv in interventions}:
            del self._guard_seen[name]
        reduced = {iv.device for iv in interventions}
        for cmd in commands:
            await self._send(cmd, now, force=cmd.device in reduced)
        return commands

    async def _send(self, cmd: Command, now: datetime, force: bool = False) -> None:
        """Write one guarded command, unless it is within the deadband of the last one written
        (a command the guard reduced is always written: its limit is not a matter of taste)."""
        name = cmd.device
        dev_fault = name in self._faults
        if dev_fault:
            if name not in self._safe:
                charger = self.devices.chargers.get(name)
                ok = False
                if charger is not None:
                    ok = await self._write(name, charger.safe_default(), "fault: safe default")
                elif name == "battery" and self.devices.battery is not None:
                    ok = await self._write(
                        name, self.devices.battery.set_battery_power(0.0), "fault"
                    )
                if ok:  # a device that did not take it is tried again next tick
                    self._safe.add(name)
                    self._sent[name] = (0.0, now)
                else:
                    self._sent.pop(name, None)
            return
        last = self._sent.get(name)
        if (
            last is not None
            and not (force and last[0] != cmd.power_kw)
            and not toward_zero(cmd.power_kw, last[0])
            and abs(last[0] - cmd.power_kw) <= self.config.write_deadband_kw
            and (now - last[1]).total_seconds() < self.config.rewrite_s
            and not (cmd.power_kw == 0.0 and last[0] != 0.0)
        ):
            return
        if name == "battery" and self.devices.battery is not None:
            ok = await self._write(
                name, self.devices.battery.set_battery_power(cmd.power_kw), cmd.reason
            )
        elif name in self.devices.chargers:
            ok = await self._write(
                name, self.devices.chargers[name].set_charge_power(cmd.power_kw), cmd.reason
            )
        else:
            return
        if ok:
            self._sent[name] = (cmd.power_kw, now)
            log.debug("%s <- %.2f kW: %s", name, cmd.power_kw, cmd.reason)

    async def _write(self, name: str, call: Coroutine[Any, Any, None], why: str) -> bool:
        """Await one device write within the timeout; a failure is a fault event, never a crash."""
        try:
            await asyncio.wait_for(call, self.config.device_timeout_s)
            return True
        except (TimeoutError, ConnectionError, OSError, ValueError, KeyError) as err:
            if name not in self._faults:
                self._faults[name] = f"write failed: {err or type(err).__name__}"
                self._event(EventKind.FAULT, f"{name}: write failed ({why}): {err}", device=name)
            return False

    def _log_decision(self, status: ControlStatus) -> None:
        """Log the decision in words when what is done changes (not every tick)."""
        words = status.decision.split(":")[0]
        kind = " ".join(w for w in words.split() if not w[0].isdigit())
        if kind != self._logged_kind:
            self._logged_kind = kind
            log.info("%s", status.decision)

    def _event(
        self,
        kind: EventKind,
        message: str,
        device: str | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        event = ControlEvent(self.clock.now(), kind, message, device, dict(data or {}))
        self.events.append(event)
        log.info("%s: %s", kind.value, message)
        try:
            self.recorder.record_event(event)
        except Exception:
            log.exception("recording an event failed")
        self._publish(event)

    def _publish(self, item: ControlStatus | ControlEvent) -> None:
        for q in self._queues:
            if q.full():
                q.get_nowait()
            q.put_nowait(item)
