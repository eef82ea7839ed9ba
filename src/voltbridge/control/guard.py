"""The safety guard: the last step before any device write, clipping each command to what is safe and allowed.

Pure: no I/O, no logging, time only through ``GuardInput.now``. It only ever reduces a command
toward zero (never raises it, never flips its sign), and every reduction is recorded as an
``Intervention`` with a sentence naming the limit and its values.

Rules, in order. Per device: unknown device → 0; stale or missing measurement or SoC → 0 (stop
discharging; a charger falls back to its safe default, setpoint 0); not plugged in → 0; power
limits; SoC floor (discharge) and capacity (charge) over the step; warranty discharge budget. Then
per site, with ``net = load - pv``, ``C`` = total charging and ``D`` = total discharging [kW]:

- main breaker (on grid): ``net + C - D <= import_limit_kw``, by lowering the largest charges;
- islanded: charging only from PV and discharge beyond the load, ``C <= max(0, D - net)``;
- storage export: where export is not allowed (grid absent, enter-service delay, policy "none" or
  "pv-only") ``D <= max(0, net) + C`` over every storage; otherwise the same bound over the
  storages with ``can_export`` false;
- export limit (export allowed): ``D <= max(0, net + export_limit_kw) + C``.

Site rules lower the largest values first, to a common level. The guard only sees the commands it
is given: the controller sends one for every storage each step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

from voltbridge.core.types import Command, Measurement

ExportPolicy = Literal["none", "pv-only", "any"]


@dataclass(frozen=True)
class StorageLimits:
    """What one storage (a car on its charger, or the home battery) may do.

    Attributes:
        device: the device name commands and measurements use.
        max_charge_kw: AC charging limit [kW], >= 0 (car, charger and catalog, the smallest).
        max_discharge_kw: AC discharging limit [kW], >= 0.
        capacity_kwh: usable capacity [kWh].
        soc_floor_kwh: lowest state of charge a discharge may reach [kWh] (mobility reserve or
            battery minimum).
        eta_discharge: discharge efficiency, stored energy to AC (0, 1].
        eta_charge: charge efficiency, AC to stored energy (0, 1].
        can_export: whether car, charger and site allow power toward the grid (V2G).
        discharge_budget_kwh: remaining warranty discharge budget, stored energy out [kWh]; None
            when unlimited.
        stale_after_s: age beyond which a measurement is stale [s].
    """

    device: str
    max_charge_kw: float
    max_discharge_kw: float
    capacity_kwh: float
    soc_floor_kwh: float = 0.0
    eta_discharge: float = 1.0
    eta_charge: float = 1.0
    can_export: bool = False
    discharge_budget_kwh: float | None = None
    stale_after_s: float = 30.0

    def __post_init__(self) -> None:
        if not (self.max_charge_kw >= 0 and self.max_discharge_kw >= 0):
            raise ValueError(f"{self.device}: max_charge_kw and max_discharge_kw must be >= 0 [kW]")
        if not 0 <= self.soc_floor_kwh <= self.capacity_kwh:
            raise ValueError(f"{self.device}: give 0 <= soc_floor_kwh <= capacity_kwh [kWh]")
        if not (0 < self.eta_discharge <= 1 and 0 < self.eta_charge <= 1):
            raise ValueError(f"{self.device}: efficiencies must lie in (0, 1]")
        if self.discharge_budget_kwh is not None and not self.discharge_budget_kwh >= 0:
            raise ValueError(f"{self.device}: discharge_budget_kwh must be >= 0 or None [kWh]")
        if not self.stale_after_s > 0:
            raise ValueError(f"{self.device}: stale_after_s must be > 0 [s]")


@dataclass(frozen=True)
class SiteLimits:
    """The site's connection.

    Attributes:
        import_limit_kw: import limit of the connection and main breaker [kW], >= 0.
        export_limit_kw: export limit of the connection [kW], >= 0.
        export_policy: what may flow to the grid: ``"none"``, ``"pv-only"`` or ``"any"`` (storage too).
    """

    import_limit_kw: float
    export_limit_kw: float
    export_policy: ExportPolicy = "none"

    def __post_init__(self) -> None:
        if not (self.import_limit_kw >= 0 and self.export_limit_kw >= 0):
            raise ValueError("import_limit_kw and export_limit_kw must be >= 0 [kW]")
        if self.export_policy not in ("none", "pv-only", "any"):
            raise ValueError(f"export_policy is {self.export_policy!r}; give none, pv-only or any")


@dataclass(frozen=True)
class GuardInput:
    """What the guard knows at ``now``.

    Attributes:
        now: the decision time (aware).
        dt_h: how long the commands hold [h], > 0.
        grid_connected: whether the home is on grid (``GridStateMachine.grid_connected``).
        grid_export_allowed: whether power may flow to the grid (``GridStateMachine.grid_export_allowed``).
        load_kw: household load measured now [kW], storages excluded.
        pv_kw: PV output measured now [kW].
        measurements: the latest measurement per device (needs ``at`` and ``soc_kwh``).
        plugged_in: per device, whether it is connected; a device missing here is not.
    """

    now: datetime
    dt_h: float
    grid_connected: bool
    grid_export_allowed: bool
    load_kw: float
    pv_kw: float
    measurements: Mapping[str, Measurement]
    plugged_in: Mapping[str, bool]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.dt_h) and self.dt_h > 0):
            raise ValueError(f"dt_h is {self.dt_h}; give the step length [h], > 0")


class GuardRule(StrEnum):
    """Which rule reduced a command: what the controller keys its events on (never the text)."""

    UNKNOWN_DEVICE = "unknown-device"
    NOT_FINITE = "not-finite"
    SITE_DATA = "site-data"
    STALE = "stale"
    NOT_PLUGGED = "not-plugged"
    CHARGE_LIMIT = "charge-limit"
    CAPACITY = "capacity"
    DISCHARGE_LIMIT = "discharge-limit"
    FLOOR = "floor"
    BUDGET = "budget"
    BREAKER = "breaker"
    ISLAND_CHARGE = "island-charge"
    NO_EXPORT = "no-export"
    EXPORT_LIMIT = "export-limit"


@dataclass(frozen=True)
class Intervention:
    """One reduction of one command by one rule; powers [kW] before and after that rule."""

    device: str
    requested_kw: float
    allowed_kw: float
    reason: str
    rule: GuardRule


Why = Callable[[], str]
"""Why a rule bound, in words: made only when it reduces a command (the guard runs every tick
and reduces little; a simulated year saves its 105,000 ticks some 2 million sentences)."""


def _sentence(device: str, before: float, after: float, why: str) -> str:
    verb = "charge" if before > 0 else "discharge"
    outcome = "refused" if after == 0 else f"clipped to {abs(after):.2f} kW"
    return f"{device}: {verb} {abs(before):.2f} kW {outcome}: {why}"


def _device_rules(
    power_kw: float, lim: StorageLimits, meas: Measurement | None, state: GuardInput
) -> list[tuple[float, GuardRule, Why]]:
    """Apply the per-device rules to a finite request; return (power after rule [kW], rule, why)
    for each that bound."""
    soc = None if meas is None else meas.soc_kwh
    if meas is None or soc is None or not math.isfinite(soc):
        return [(0.0, GuardRule.STALE, lambda: "stale data: no state-of-charge reading")]
    age_s = (state.now - meas.at).total_seconds()
    if abs(age_s) > lim.stale_after_s:
        when = f"{age_s:.0f} s old" if age_s > 0 else f"dated {-age_s:.0f} s in the future"
        why = f"stale data: measurement {when} (limit {lim.stale_after_s:g} s)"
        return [(0.0, GuardRule.STALE, lambda: why)]
    if not state.plugged_in.get(lim.device, False):
        return [(0.0, GuardRule.NOT_PLUGGED, lambda: "not plugged in")]
    dt, floor, cap = state.dt_h, lim.soc_floor_kwh, lim.capacity_kwh
    bounds: list[tuple[float, GuardRule, Why]]
    if power_kw > 0:
        room = max(0.0, cap - soc)
        bounds = [
            (
                lim.max_charge_kw,
                GuardRule.CHARGE_LIMIT,
                lambda: f"charge limit {lim.max_charge_kw:g} kW",
            ),
            (
                room / (lim.eta_charge * dt),
                GuardRule.CAPACITY,
                lambda: f"SoC {soc:.2f} kWh is {room:.2f} kWh below the {cap:.2f} kWh capacity",
            ),
        ]
    else:
        above = max(0.0, soc - floor)
        bounds = [
            (
                lim.max_discharge_kw,
                GuardRule.DISCHARGE_LIMIT,
                lambda: f"discharge limit {lim.max_discharge_kw:g} kW",
            ),
            (
                above * lim.eta_discharge / dt,
                GuardRule.FLOOR,
                lambda: f"SoC {soc:.2f} kWh is {above:.2f} kWh above the {floor:.2f} kWh floor",
            ),
        ]
        if lim.discharge_budget_kwh is not None:
            budget = lim.discharge_budget_kwh
            bounds.append(
                (
                    budget * lim.eta_discharge / dt,
                    GuardRule.BUDGET,
                    lambda: f"warranty discharge budget {budget:.2f} kWh left",
                )
            )
    steps: list[tuple[float, GuardRule, Why]] = []
    for bound_kw, rule, because in bounds:
        if abs(power_kw) > bound_kw:
            power_kw = math.copysign(bound_kw, power_kw) if bound_kw > 0 else 0.0
            steps.append((power_kw, rule, because))
    return steps


def level_down(values: list[float], total: float) -> list[float]:
    """Lower the largest of ``values`` (>= 0) to one level so they sum to at most ``total`` (>= 0).

    >>> level_down([11.0, 3.0], 4.0)
    [2.0, 2.0]
    """
    if sum(values) <= total:
        return list(values)
    level, left = math.inf, max(0.0, total)
    ordered = sorted(values)
    for k, v in enumerate(ordered):
        if v * (len(ordered) - k) > left:
            level = left / (len(ordered) - k)
            break
        left -= v
    return [min(v, level) for v in values]


def guard(
    commands: list[Command],
    limits: Mapping[str, StorageLimits],
    site: SiteLimits,
    state: GuardInput,
) -> tuple[list[Command], list[Intervention]]:
    """Clip ``commands`` (powers [kW], + charging) to every limit; return them in input order, with the interventions.

    A clipped command's ``reason`` gets each intervention appended. Two commands for one device
    are a caller error (ValueError). Non-finite load or PV refuses every command.
    """
    names = [c.device for c in commands]
    if len(set(names)) != len(names):
        raise ValueError(f"more than one command for a device in {names}; send one each")
    power = [c.power_kw for c in commands]
    notes: list[list[str]] = [[] for _ in commands]
    out: list[Intervention] = []

    def set_power(i: int, new_kw: float, rule: GuardRule, why: Why) -> None:
        if new_kw != power[i]:
            text = _sentence(names[i], power[i], new_kw, why())
            out.append(Intervention(names[i], power[i], new_kw, text, rule))
            notes[i].append(text)
            power[i] = new_kw

    site_ok = math.isfinite(state.load_kw) and math.isfinite(state.pv_kw)
    for i, name in enumerate(names):
        lim = limits.get(name)
        if lim is None:
            set_power(i, 0.0, GuardRule.UNKNOWN_DEVICE, lambda: "unknown device, no limits known")
        elif not math.isfinite(power[i]):
            set_power(i, 0.0, GuardRule.NOT_FINITE, lambda: "setpoint is not a finite number")
        elif not site_ok:
            set_power(
                i,
                0.0,
                GuardRule.SITE_DATA,
                lambda: f"site data not finite (load {state.load_kw} kW, PV {state.pv_kw} kW)",
            )
        else:
            meas = state.measurements.get(name)
            for new_kw, rule, because in _device_rules(power[i], lim, meas, state):
                set_power(i, new_kw, rule, because)

    def total(sign: float, idx: list[int]) -> float:
        return sum(max(0.0, sign * power[i]) for i in idx)

    def reduce(sign: float, idx: list[int], allowed_kw: float, rule: GuardRule, why: Why) -> None:
        """Lower direction ``sign`` (+1 charge, -1 discharge) of ``idx`` to ``allowed_kw`` in total."""
        active = [i for i in idx if sign * power[i] > 0]
        new = level_down([sign * power[i] for i in active], max(0.0, allowed_kw))
        for i, mag in zip(active, new, strict=True):
            set_power(i, sign * mag if mag > 0 else 0.0, rule, why)

    every = list(range(len(commands)))
    net = state.load_kw - state.pv_kw

    def flows() -> str:
        return f"load {state.load_kw:.2f} kW, PV {state.pv_kw:.2f} kW"

    # each reason is made, if at all, inside the ``reduce`` it is given to: from the values then
    c, d = total(1, every), total(-1, every)
    if state.grid_connected:
        lim_in = site.import_limit_kw
        reduce(
            1,
            every,
            lim_in - net + d,
            GuardRule.BREAKER,
            lambda: (
                f"main breaker: import {net + c - d:.2f} kW over the {lim_in:g} kW limit ({flows()})"
            ),
        )
    else:
        reduce(
            1,
            every,
            d - net,
            GuardRule.ISLAND_CHARGE,
            lambda: (
                f"grid absent: charging only from PV and discharge beyond the load, {max(0.0, d - net):.2f} kW ({flows()})"
            ),
        )
    export_ok = state.grid_connected and state.grid_export_allowed
    storage_may_export = export_ok and site.export_policy == "any"
    held = every
    if not state.grid_connected:
        cause = "grid absent"
    elif not export_ok:
        cause = "grid export not allowed (enter-service delay)"
    elif not storage_may_export:
        cause = f"export policy {site.export_policy!r} allows no storage export"
    else:
        exporting = {n for n, lim in limits.items() if lim.can_export}
        held, cause = [i for i in every if names[i] not in exporting], "V2G not allowed"
    c = total(1, every)
    reduce(
        -1,
        held,
        max(0.0, net) + c,
        GuardRule.NO_EXPORT,
        lambda: (
            f"{cause}: discharge limited to the house's net load {max(0.0, net):.2f} kW plus charging {c:.2f} kW ({flows()})"
        ),
    )
    if storage_may_export:
        lim_out, held_d = site.export_limit_kw, total(-1, held)
        exporters = [i for i in every if i not in held]
        export = total(-1, every) - net - c
        reduce(
            -1,
            exporters,
            max(0.0, net + lim_out) + c - held_d,
            GuardRule.EXPORT_LIMIT,
            lambda: (
                f"export limit {lim_out:g} kW: export would be {export:.2f} kW ({flows()}, charging {c:.2f} kW)"
            ),
        )
    guarded = [
        replace(cmd, power_kw=p, reason="; ".join([cmd.reason, *n]) if cmd.reason else "; ".join(n))
        if n
        else cmd
        for cmd, p, n in zip(commands, power, notes, strict=True)
    ]
    return guarded, out
