"""One tick's decision, as a pure function of what was read: setpoints, circuits and the guard's limits."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from voltbridge.control.guard import StorageLimits
from voltbridge.control.io import Snapshot
from voltbridge.control.island import (
    IslandStorage,
    expected_load_kw,
    island_setpoints,
    plan_shedding,
)
from voltbridge.control.settings import Settings
from voltbridge.control.site_model import ControlSite
from voltbridge.control.storm import hold_floors, within_floors
from voltbridge.control.tracking import (
    TrackStorage,
    absorb_deviation,
    battery_on_grid,
    battery_refills_from_pv,
    battery_residual_kw,
    mode_setpoints,
    plan_step,
    planned_battery_feed_kw,
    ramp_limit,
)
from voltbridge.core.status import Mode
from voltbridge.core.types import GridState, Plan


@dataclass(frozen=True)
class Decision:
    """What to do this tick, before the guard.

    Attributes:
        setpoints: AC power per storage device [kW], + charging (every charger and the battery).
        reasons: why, per device.
        limits: the guard's limits per device for this tick (floors include the reserves in force).
        islanded: the house is off the grid (outage or enter-service wait).
        ramp_done: on grid and past the reconnection ramp.
        circuits: the relay state wanted per circuit, or None to leave them.
        shed_reasons: why a circuit is shed.
        reserve_reached: islanded with storage down to its floors: essentials shed.
        cannot_island: why the house cannot be powered in this outage, or "".
        plan_price_import: the plan's import price now [currency/kWh], or None.
        plan_price_export: the plan's export price now [currency/kWh], or None.
    """

    setpoints: dict[str, float]
    reasons: dict[str, str]
    limits: dict[str, StorageLimits]
    islanded: bool
    ramp_done: bool = True
    circuits: dict[str, bool] | None = None
    shed_reasons: dict[str, str] = field(default_factory=dict)
    reserve_reached: bool = False
    cannot_island: str = ""
    plan_price_import: float | None = None
    plan_price_export: float | None = None


def _storages(
    site: ControlSite,
    settings: Settings,
    snap: Snapshot,
    islanded: bool,
    stale_after_s: float,
    budgets: Mapping[str, float | None],
) -> tuple[list[TrackStorage], list[IslandStorage], dict[str, StorageLimits]]:
    track: list[TrackStorage] = []
    island: list[IslandStorage] = []
    limits: dict[str, StorageLimits] = {}
    v2l = settings.mode is Mode.V2L
    for v in site.vehicles:
        if v.name not in snap.plugged_in:
            continue  # no charger for this car
        car = settings.vehicles.get(v.name)
        m = snap.storages.get(v.name)
        soc = m.soc_kwh if m is not None and m.soc_kwh is not None else None
        usable = bool(snap.plugged_in.get(v.name)) and soc is not None and not v2l
        reserve = min(v.reserve_kwh(car, islanded, settings.v2g_allowed), v.capacity_kwh)
        # islanded, the essential circuits may go below the mobility reserve, down to the
        # outage reserve (the shedding keeps the other circuits above the mobility reserve)
        floor = min(v.outage_floor_kwh(car, settings.v2g_allowed), reserve) if islanded else reserve
        max_dis = 0.0 if v2l else v.discharge_kw(settings.v2g_allowed)
        limits[v.name] = StorageLimits(
            device=v.name,
            max_charge_kw=v.max_charge_kw,
            max_discharge_kw=max_dis,
            capacity_kwh=v.capacity_kwh,
            soc_floor_kwh=floor,
            eta_discharge=v.efficiency,
            eta_charge=v.efficiency,
            can_export=v.may_export and settings.v2g_allowed and not v2l,
            discharge_budget_kwh=budgets.get(v.name),
            stale_after_s=stale_after_s,
        )
        s = 0.0 if soc is None else soc
        track.append(
            TrackStorage(v.name, "vehicle", usable, s, v.target_kwh(car), v.max_charge_kw, max_dis)
        )
        island.append(
            IslandStorage(
                v.name,
                "vehicle",
                usable,
                s,
                floor,
                v.capacity_kwh,
                v.max_charge_kw,
                max_dis,
                v.efficiency,
                reserve,
            )
        )
    b = site.battery
    if b is not None and "battery" in snap.plugged_in:
        m = snap.storages.get("battery")
        soc = m.soc_kwh if m is not None and m.soc_kwh is not None else None
        usable = soc is not None
        limits["battery"] = StorageLimits(
            device="battery",
            max_charge_kw=b.max_charge_kw,
            max_discharge_kw=b.max_discharge_kw,
            capacity_kwh=b.max_soc_kwh,
            soc_floor_kwh=b.min_soc_kwh,
            eta_discharge=b.efficiency,
            eta_charge=b.efficiency,
            can_export=site.export_policy == "any",
            stale_after_s=stale_after_s,
        )
        s = 0.0 if soc is None else soc
        track.append(
            TrackStorage(
                "battery", "battery", usable, s, b.max_soc_kwh, b.max_charge_kw, b.max_discharge_kw
            )
        )
        island.append(
            IslandStorage(
                "battery",
                "battery",
                usable,
                s,
                b.min_soc_kwh,
                b.max_soc_kwh,
                b.max_charge_kw,
                b.max_discharge_kw,
                b.efficiency,
            )
        )
    return track, island, limits


def backup_floors(
    limits: dict[str, StorageLimits],
    island: list[IslandStorage],
    need_kwh: float,
) -> dict[str, StorageLimits]:
    """On grid, raise each storage's floor so that the storages at home keep ``need_kwh`` [kWh,
    AC] for the essential circuits (``backup_reserve_h`` of their draw) above their reserves.

    The reserve is a total over the storages at home, as in the planner: each may discharge down
    to where the others' energy above their reserves and its own still cover the need, so the
    plan may keep it in either. Forecast errors absorbed on grid no longer eat into it, and the
    house enters an outage with it (``backup_reserve_h`` in the planner's constraints alone was
    soft and left the controller free to go below it).
    """
    if need_kwh <= 0:
        return limits
    usable = [s for s in island if s.available and limits[s.name].max_discharge_kw > 0]
    above = {s.name: max(s.soc_kwh - s.floor_kwh, 0.0) * s.eta_discharge for s in usable}
    total = sum(above.values())
    out = dict(limits)
    for s in usable:
        lim = limits[s.name]
        short = need_kwh - (total - above[s.name])
        if short <= 0:
            continue
        floor = min(s.floor_kwh + short / s.eta_discharge, lim.capacity_kwh)
        out[s.name] = replace(lim, soc_floor_kwh=max(lim.soc_floor_kwh, floor))
    return out


@dataclass(frozen=True)
class DecideInput:
    """Everything one tick's decision depends on.

    Attributes:
        site: the home's limits.
        settings: the household's settings now.
        snap: this tick's readings.
        now: the tick's time (aware).
        grid_state: the grid-state machine's state (never UNKNOWN: that is only shown).
        has_transfer: whether the home has a transfer switch.
        plan: the plan to follow, or None.
        load_kw: house load now [kW]; NaN when unknown.
        pv_kw: PV power now [kW]; NaN when unknown.
        dt_h: the tick's length [h].
        circuits: each switchable circuit's state now (True: on).
        reconnected_s: time since the house went back on the grid [s], or None.
        ramp_s: the reconnection ramp's length [s].
        stale_after_s: a storage reading older than this is stale [s].
        budgets: warranty discharge left today per car [kWh], None where unlimited.
        storm_targets_kwh: while storm watch is on, the SoC held per storage [kWh]
            (``control/storm.py``): on grid, nothing discharges below it.
    """

    site: ControlSite
    settings: Settings
    snap: Snapshot
    now: datetime
    grid_state: GridState
    has_transfer: bool
    plan: Plan | None
    load_kw: float
    pv_kw: float
    dt_h: float
    circuits: Mapping[str, bool]
    reconnected_s: float | None = None
    ramp_s: float = 300.0
    stale_after_s: float = 30.0
    budgets: Mapping[str, float | None] = field(default_factory=dict)
    storm_targets_kwh: Mapping[str, float] = field(default_factory=dict)

    @property
    def transfer_open(self) -> bool:
        """Whether the transfer switch is confirmed open by this tick's reading."""
        return self.snap.transfer_closed is False


def within_budgets(
    sp: dict[str, float],
    reasons: dict[str, str],
    limits: Mapping[str, StorageLimits],
    dt_h: float,
) -> tuple[dict[str, float], dict[str, str]]:
    """Cars' discharge setpoints [kW] trimmed to what their warranty budget left today allows
    this tick, so that the home battery covers the rest of the house.

    The guard would trim them anyway, but after the battery's setpoint was chosen from the
    untrimmed ones: the house then imported what the car was no longer allowed to give (22 kWh
    in January 2025 on the dynamic-tariff example, at evening prices).
    """
    out, why = dict(sp), dict(reasons)
    for name, p in sp.items():
        lim = limits.get(name)
        if p >= 0 or lim is None or lim.discharge_budget_kwh is None:
            continue
        allowed_kw = max(lim.discharge_budget_kwh, 0.0) * lim.eta_discharge / dt_h
        if -p > allowed_kw:
            out[name] = -allowed_kw
            why[name] = (
                f"{reasons.get(name, '')}; warranty discharge budget left today "
                f"{lim.discharge_budget_kwh:.2f} kWh"
            )
    return out, why


def decide(inp: DecideInput) -> Decision:
    """Setpoints for every storage and, while islanded, the circuits to keep on.

    On grid: the household's mode over the plan's step now, deviations from the plan's expected
    net load absorbed, ramped after a reconnection. Off grid (outage or enter-service wait): only
    with the transfer switch confirmed open, the storages balance the house above their floors
    and circuits are shed by priority; without a confirmed-open switch, nothing discharges (it
    would energize the utility's lines).
    """
    site, settings, snap, now = inp.site, inp.settings, inp.snap, inp.now
    load_kw, pv_kw, dt_h, circuits = inp.load_kw, inp.pv_kw, inp.dt_h, inp.circuits
    islanded = inp.grid_state is not GridState.ON_GRID
    track, island, limits = _storages(
        site, settings, snap, islanded, inp.stale_after_s, inp.budgets
    )
    if not islanded:
        limits = backup_floors(limits, island, settings.backup_reserve_h * site.essential_kw)
        limits = hold_floors(limits, inp.storm_targets_kwh)
    plan, has_transfer, transfer_open = inp.plan, inp.has_transfer, inp.transfer_open
    reconnected_s, ramp_s = inp.reconnected_s, inp.ramp_s
    names = [s.name for s in track]
    zeros = dict.fromkeys(names, 0.0)
    step = plan_step(plan, now) if plan is not None else None
    prices = (step.price_import, step.price_export) if step is not None else (None, None)
    if islanded:
        if not has_transfer or not transfer_open:
            why = (
                "no transfer switch: the house cannot be islanded, so no storage powers it in "
                "this outage"
                if not has_transfer
                else "transfer switch not confirmed open: storages stay at 0 kW"
            )
            return Decision(
                setpoints=zeros,
                reasons=dict.fromkeys(names, why),
                limits=limits,
                islanded=True,
                ramp_done=False,
                cannot_island=why,
                plan_price_import=prices[0],
                plan_price_export=prices[1],
            )
        if settings.mode is Mode.OFF or not (math.isfinite(load_kw) and math.isfinite(pv_kw)):
            why = "mode off" if settings.mode is Mode.OFF else "house load or PV unknown"
            return Decision(
                setpoints=zeros,
                reasons=dict.fromkeys(names, why),
                limits=limits,
                islanded=True,
                ramp_done=False,
            )
        present = any(s.available for s in island)
        shed = plan_shedding(
            list(site.circuits),
            dict(circuits),
            load_kw,
            pv_kw,
            sum(s.discharge_kw(dt_h, essential=False) for s in island),
            sum(s.usable_kwh(essential=False) for s in island),
            present,
            sum(s.discharge_kw(dt_h) for s in island),
            sum(s.usable_kwh() for s in island),
        )
        est_load = expected_load_kw(site.circuits, circuits, shed.on, load_kw)
        sp = island_setpoints(island, est_load, pv_kw, dt_h)
        reasons = {
            n: (
                "outage: covering the house"
                if p < 0
                else "outage: storing PV surplus"
                if p > 0
                else "outage"
            )
            for n, p in sp.items()
        }
        return Decision(
            setpoints=sp,
            reasons=reasons,
            limits=limits,
            islanded=True,
            ramp_done=False,
            circuits=shed.on,
            shed_reasons=shed.reasons,
            reserve_reached=shed.reserve_reached,
            plan_price_import=prices[0],
            plan_price_export=prices[1],
        )
    planned = step.power_kw if step is not None else {}
    sp, reasons = mode_setpoints(settings.mode, planned, track)
    if step is None:
        reasons = {
            n: (r if r != "plan" else "no plan yet: self-consumption") for n, r in reasons.items()
        }
    expected = step.expected_net_kw if step is not None else 0.0
    deviation = (load_kw - pv_kw) - expected
    if math.isfinite(deviation):
        adjusted = absorb_deviation(sp, deviation, track, settings.mode)
        for n in names:
            if abs(adjusted[n] - sp[n]) > 1e-6:
                reasons[n] += (
                    f"; {'absorbing' if deviation < 0 else 'covering'} {abs(deviation):.2f} kW off forecast"
                )
        sp = adjusted
    sp, reasons = within_budgets(sp, reasons, limits, dt_h)
    b = site.battery
    batt = next((s for s in track if s.kind == "battery"), None)
    if (
        b is not None
        and batt is not None
        and batt.usable
        and settings.mode in (Mode.AUTO, Mode.CHARGE_NOW, Mode.V2L)
        and math.isfinite(load_kw - pv_kw)
    ):
        cars = [p for n, p in sp.items() if n != "battery"]
        planned_cars = sum(p for n, p in planned.items() if n != "battery")
        sp["battery"], reasons["battery"] = battery_on_grid(
            planned.get("battery", 0.0),
            expected + planned_cars,
            battery_residual_kw(
                load_kw - pv_kw,
                cars,
                math.inf
                if plan is not None and battery_refills_from_pv(plan, now, b.max_soc_kwh)
                else planned_battery_feed_kw(
                    planned.get("battery", 0.0),
                    expected,
                    [p for n, p in planned.items() if n != "battery"],
                ),
            ),
            batt,
            b.min_soc_kwh,
            b.efficiency,
            dt_h,
        )
    if inp.storm_targets_kwh:
        sp, reasons = within_floors(
            sp,
            reasons,
            limits,
            {s.name: s.soc_kwh for s in track if s.usable},
            inp.storm_targets_kwh,
            dt_h,
        )
    ramp_done = reconnected_s is None or reconnected_s >= ramp_s
    if not ramp_done:
        assert reconnected_s is not None
        sp = ramp_limit(sp, reconnected_s, ramp_s)
        reasons = {
            n: r + f"; ramping after reconnection ({reconnected_s:.0f}/{ramp_s:.0f} s)"
            for n, r in reasons.items()
        }
    return Decision(
        setpoints=sp,
        reasons=reasons,
        limits=limits,
        islanded=False,
        ramp_done=ramp_done,
        plan_price_import=prices[0],
        plan_price_export=prices[1],
    )
