"""The status the household sees, made from one tick: flows, cars, backup hours, the decision in words."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from voltbridge.control.baseline import ShadowBaseline
from voltbridge.control.decide import Decision
from voltbridge.control.estimates import backup_hours, range_km
from voltbridge.control.grid_state import GridStateMachine
from voltbridge.control.io import Snapshot
from voltbridge.control.settings import Settings
from voltbridge.control.site_model import ControlSite
from voltbridge.core.status import (
    BatteryStatus,
    ControlStatus,
    PowerFlows,
    StormWatchStatus,
    VehicleStatus,
)
from voltbridge.core.timegrid import ensure_utc
from voltbridge.core.types import Command, GridState, Plan
from voltbridge.forecast.trips import trip_intervals


def next_departure(
    site: ControlSite, name: str, set_departure: datetime | None, now: datetime
) -> datetime | None:
    """The car's next departure as the household set it: its own (settings) while it lies
    ahead, else the next one of its trip schedule, at the very time the schedule says (07:45
    is 07:45, never a plan step's edge), or None when neither has one within a week."""
    if set_departure is not None and ensure_utc(set_departure) > ensure_utc(now):
        return set_departure
    rules = list(site.trips.get(name, ()))
    if not rules:
        return None
    start = ensure_utc(now)
    later = [
        leave
        for leave, _, _ in trip_intervals(rules, start, start + DEPARTURE_LOOKAHEAD, site.timezone)
        if leave > start
    ]
    return min(later, default=None)


DEPARTURE_LOOKAHEAD = timedelta(days=8)
"""How far ahead a scheduled departure is looked for: a weekly schedule has one within a week."""


def _pv_ahead(plan: Plan | None, now: datetime) -> tuple[np.ndarray | None, np.ndarray | None]:
    if plan is None:
        return None, None
    t = ensure_utc(now).timestamp()
    edges = plan.grid.edges_s
    k = int(np.searchsorted(edges, t, side="right")) - 1
    if k < 0 or k >= plan.grid.n:
        return None, None
    dt = plan.grid.dt_h[k:].copy()
    dt[0] = (float(edges[k + 1]) - t) / 3600.0
    return plan.pv_kw[k:], dt


def describe(decision: Decision, commands: list[Command], snap: Snapshot, site: ControlSite) -> str:
    """The decision in one sentence: "discharging 5.2 kW: peak price 0.48, SoC 61% above reserve 35%"."""
    active = [c for c in commands if abs(c.power_kw) > 0.05]
    if not active:
        why = next(iter(decision.reasons.values()), "") if decision.reasons else ""
        return "idle" + (f": {why}" if why and why != "plan" else "")
    c = max(active, key=lambda c: abs(c.power_kw))
    verb = "charging" if c.power_kw > 0 else "discharging"
    parts = [decision.reasons.get(c.device, "").split(";")[0]]
    if decision.plan_price_import is not None:
        parts.append(f"import price {decision.plan_price_import:.2f}")
    m = snap.storages.get(c.device)
    lim = decision.limits.get(c.device)
    if m is not None and m.soc_kwh is not None and lim is not None and lim.capacity_kwh > 0:
        cap = next((v.capacity_kwh for v in site.vehicles if v.name == c.device), lim.capacity_kwh)
        soc_pct = 100 * m.soc_kwh / cap
        floor_pct = 100 * lim.soc_floor_kwh / cap
        parts.append(
            f"SoC {soc_pct:.0f}% {'above' if soc_pct >= floor_pct else 'below'} reserve {floor_pct:.0f}%"
        )
    return f"{c.device} {verb} {abs(c.power_kw):.1f} kW: " + ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class StatusInputs:
    """What one tick's status is made of, taken when the tick ends: the grid-state machine's
    and the shadow baseline's values of that moment, and the tick's own readings and decision
    (made afresh every tick, never changed after it). The status itself is made from them only
    when someone reads it (``build_status``): a simulated year reads none of its 105,000."""

    site: ControlSite
    settings: Settings
    snap: Snapshot
    now: datetime
    grid_state: GridState
    shown_grid_state: GridState
    grid_sensor_stale: bool
    restoring_remaining_s: float | None
    decision: Decision
    commands: list[Command]
    plan: Plan | None
    plan_at: datetime | None
    load_kw: float
    pv_kw: float
    circuits: dict[str, bool]
    faults: Mapping[str, str]
    baseline_grid_kw: float
    baseline_cost_per_h: float
    storm_watch: StormWatchStatus


def status_inputs(
    *,
    site: ControlSite,
    settings: Settings,
    snap: Snapshot,
    now: datetime,
    grid: GridStateMachine,
    decision: Decision,
    commands: list[Command],
    plan: Plan | None,
    plan_at: datetime | None,
    load_kw: float,
    pv_kw: float,
    circuits: Mapping[str, bool],
    faults: Mapping[str, str],
    baseline: ShadowBaseline,
    storm_watch: StormWatchStatus | None = None,
) -> StatusInputs:
    """The ``StatusInputs`` of this tick; advances the shadow baseline to ``now`` (every tick,
    whether or not its status is read)."""
    charging: dict[str, float] = {}
    for v in site.vehicles:
        m = snap.storages.get(v.name)
        if m is not None and m.power_kw is not None and v.name not in faults:
            charging[v.name] = float(m.power_kw)
    baseline.step(now, settings, charging)
    safe_load = load_kw if math.isfinite(load_kw) else 0.0
    safe_pv = pv_kw if math.isfinite(pv_kw) else 0.0
    baseline_cost = baseline.cost_per_h(
        safe_load, safe_pv, decision.plan_price_import, decision.plan_price_export
    )
    return StatusInputs(
        site=site,
        settings=settings,
        snap=snap,
        now=now,
        grid_state=grid.state,
        shown_grid_state=grid.shown_state,
        grid_sensor_stale=grid.sensor_stale,
        restoring_remaining_s=grid.restoring_remaining_s(now),
        decision=decision,
        commands=commands,
        plan=plan,
        plan_at=plan_at,
        load_kw=load_kw,
        pv_kw=pv_kw,
        circuits=dict(circuits),
        faults=faults,
        baseline_grid_kw=baseline.grid_kw(safe_load, safe_pv),
        baseline_cost_per_h=baseline_cost,
        storm_watch=storm_watch or StormWatchStatus(),
    )


def build_status(inp: StatusInputs) -> ControlStatus:
    """The ``ControlStatus`` of the tick ``inp`` was taken from."""
    site, settings, snap, now = inp.site, inp.settings, inp.snap, inp.now
    decision, commands, plan, faults = inp.decision, inp.commands, inp.plan, inp.faults
    load_kw, pv_kw = inp.load_kw, inp.pv_kw
    sent = {c.device: c.power_kw for c in commands}

    def power(name: str) -> float | None:
        """Measured power [kW]; 0 for a car known to be unplugged, None when unknown."""
        m = snap.storages.get(name)
        if m is not None and m.power_kw is not None and name not in faults:
            return float(m.power_kw)
        unplugged = name != "battery" and snap.plugged_in.get(name) is False
        return 0.0 if unplugged else None

    fresh_grid = snap.grid is not None and not inp.grid_sensor_stale and "meter" not in faults
    grid_kw = snap.grid.power_kw if fresh_grid and snap.grid is not None else None
    shown_load = float(load_kw) if np.isfinite(load_kw) else None
    shown_pv = float(pv_kw) if np.isfinite(pv_kw) else None
    # backup: energy above the floors that would apply in an outage (and, apart, PV refilling)
    usable, room, eta = 0.0, 0.0, 1.0
    b = site.battery
    batt_m = snap.storages.get("battery")
    batt_soc = None if batt_m is None or "battery" in faults else batt_m.soc_kwh
    battery_backup = 0.0
    if b is not None and batt_soc is not None:
        battery_backup = max(0.0, batt_soc - b.min_soc_kwh) * b.efficiency
        usable += battery_backup
        room += max(0.0, b.max_soc_kwh - batt_soc)
        eta = b.efficiency
    need_kwh = settings.backup_reserve_h * site.essential_kw
    left_need = max(0.0, need_kwh - battery_backup)
    vehicles: dict[str, VehicleStatus] = {}
    for v in site.vehicles:
        car = settings.vehicles.get(v.name)
        m = snap.storages.get(v.name)
        plugged = snap.plugged_in.get(v.name)
        soc = None if m is None or v.name in faults else m.soc_kwh
        reserve = v.reserve_kwh(car, inp.grid_state.value != "on_grid", settings.v2g_allowed)
        for_driving = reserved = 0.0
        rng = None
        if soc is not None:
            rng = range_km(max(soc, 0.0), v.consumption_kwh_per_km)
            for_driving = min(soc, reserve)
            above = max(0.0, soc - for_driving)
            if plugged and v.can_discharge(settings.v2g_allowed):
                usable += above * v.efficiency
                room += max(0.0, v.capacity_kwh - soc)
                reserved = min(above, left_need / v.efficiency)
                left_need = max(0.0, left_need - reserved * v.efficiency)
        departure = next_departure(site, v.name, None if car is None else car.departure, now)
        vehicles[v.name] = VehicleStatus(
            name=v.name,
            plugged_in=plugged,
            soc_kwh=soc,
            capacity_kwh=v.capacity_kwh,
            power_kw=power(v.name),
            setpoint_kw=sent.get(v.name, 0.0),
            range_km=rng,
            for_driving_kwh=for_driving,
            reserved_for_backup_kwh=reserved,
            mobility_reserve_kwh=reserve,
            departure=departure,
            target_soc_pct=100.0 * v.target_kwh(car) / v.capacity_kwh,
        )
    # storage alone is what the household can count on; the sun's help is shown apart from it
    hours = backup_hours(usable, site.essential_kw)
    pv_ahead, dt_ahead = _pv_ahead(plan, now)
    with_sun = (
        None
        if pv_ahead is None
        else backup_hours(usable, site.essential_kw, pv_ahead, dt_ahead, room, eta)
    )
    battery = None
    if b is not None:
        battery = BatteryStatus(
            soc_kwh=batt_soc,
            capacity_kwh=b.capacity_kwh,
            power_kw=power("battery"),
            setpoint_kw=sent.get("battery", 0.0),
            reserve_kwh=b.min_soc_kwh,
        )
    return ControlStatus(
        at=now,
        grid_state=inp.shown_grid_state,
        mode=settings.mode,
        v2g_allowed=settings.v2g_allowed,
        power=PowerFlows(
            grid_kw=grid_kw,
            pv_kw=shown_pv,
            load_kw=shown_load,
            battery_kw=power("battery"),
            vehicles_kw={v.name: power(v.name) for v in site.vehicles},
        ),
        backup_hours=hours,
        backup_hours_with_sun=with_sun,
        vehicles=vehicles,
        battery=battery,
        circuits=inp.circuits,
        restoring_remaining_s=inp.restoring_remaining_s,
        faults=tuple(f"{n}: {why}" for n, why in sorted(faults.items())),
        decision=describe(decision, commands, snap, site),
        plan_created=inp.plan_at,
        price_import=decision.plan_price_import,
        price_export=decision.plan_price_export,
        baseline_grid_kw=inp.baseline_grid_kw,
        baseline_cost_per_h=inp.baseline_cost_per_h,
        storm_watch=inp.storm_watch,
    )


def failed_status(
    prev: ControlStatus | None,
    now: datetime,
    settings: Settings,
    vehicle_names: list[str],
    fault: str,
) -> ControlStatus:
    """The status of a tick that failed: ``at`` advances, every flow and the grid state are
    unknown, ``fault`` says why and the decision says the storages are on their safe default."""
    unknown = PowerFlows(None, None, None, None, dict.fromkeys(vehicle_names))
    decision = "safe default: the controller's tick failed"
    if prev is None:
        return ControlStatus(
            at=now,
            grid_state=GridState.UNKNOWN,
            mode=settings.mode,
            v2g_allowed=settings.v2g_allowed,
            power=unknown,
            backup_hours=0.0,
            faults=(fault,),
            decision=decision,
        )
    return replace(
        prev,
        at=now,
        grid_state=GridState.UNKNOWN,
        power=unknown,
        faults=(*prev.faults, fault),
        decision=decision,
    )
