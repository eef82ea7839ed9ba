"""On grid, between plans: the plan's setpoints now, the household's mode on top, and deviations absorbed.

Pure functions over plain values; the controller feeds them measurements and the guard checks
what comes out. Powers are AC [kW], positive charging.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from voltbridge.core.status import Mode
from voltbridge.core.timegrid import FloatArray, ensure_utc
from voltbridge.core.types import Plan


@dataclass(frozen=True)
class TrackStorage:
    """One storage as tracking sees it.

    Attributes:
        name: device name ("battery" or the vehicle's name).
        kind: ``"battery"`` or ``"vehicle"``.
        usable: plugged in with fresh data (and not in V2L): it may be commanded.
        soc_kwh: stored energy [kWh].
        target_kwh: for a car, the SoC wanted at departure [kWh]; for the battery its maximum.
        max_charge_kw: AC charge limit [kW].
        max_discharge_kw: AC discharge limit [kW].
    """

    name: str
    kind: str
    usable: bool
    soc_kwh: float
    target_kwh: float
    max_charge_kw: float
    max_discharge_kw: float


@dataclass(frozen=True)
class PlanStep:
    """The plan at one instant: setpoint per storage [kW], the net load it expected [kW], prices."""

    power_kw: dict[str, float]
    expected_net_kw: float
    price_import: float
    price_export: float
    soc_kwh: dict[str, float]


_last_step: tuple[Plan, float, PlanStep | None] | None = None
"""The last ``plan_step`` answer: every tick asks twice for the same plan and time (is a
re-plan due, then the setpoints), and a simulated year ticks 105,000 times."""


def plan_step(plan: Plan, now: datetime) -> PlanStep | None:
    """The step of ``plan`` holding ``now``, with each storage's SoC interpolated at ``now``;
    None when ``now`` is outside the plan. The answer is shared by the callers asking for the
    same plan and time: read it, never change it."""
    global _last_step
    t = (now if now.tzinfo is UTC else ensure_utc(now)).timestamp()  # the same instant
    last = _last_step
    if last is not None and last[0] is plan and last[1] == t:
        return last[2]
    step = _plan_step(plan, t)
    _last_step = (plan, t, step)
    return step


def _plan_step(plan: Plan, t: float) -> PlanStep | None:
    # ``item`` gives Python numbers (exactly the array's), and Python's float arithmetic is
    # numpy's on float64 scalars (IEEE doubles, one operation at a time), a few times faster
    edges = plan.grid.edges_s
    if t < edges.item(0) or t >= edges.item(-1):
        return None
    k = int(edges.searchsorted(t, side="right")) - 1
    e0, e1 = edges.item(k), edges.item(k + 1)
    frac = (t - float(e0)) / float(e1 - e0)
    soc: dict[str, float] = {}
    for s in plan.storages:
        a = float(s.soc_kwh.item(k))
        soc[s.name] = a + frac * (float(s.soc_kwh.item(k + 1)) - a)
    return PlanStep(
        power_kw={s.name: float(s.power_kw.item(k)) for s in plan.storages},
        expected_net_kw=float(plan.load_kw.item(k)) - float(plan.pv_used_kw.item(k)),
        price_import=float(plan.price_import.item(k)),
        price_export=float(plan.price_export.item(k)),
        soc_kwh=soc,
    )


def mode_setpoints(
    mode: Mode, planned: dict[str, float], storages: list[TrackStorage]
) -> tuple[dict[str, float], dict[str, str]]:
    """The setpoints [kW] the household's mode asks for on grid, with a reason per storage.

    ``auto`` follows the plan; ``charge-now`` charges every car at full power until its target
    (the battery follows the plan); ``backup-only`` keeps the plan's charging but never
    discharges; ``v2l`` leaves the cars alone (they feed their own loads); ``off`` is 0 for all.

    >>> s = [TrackStorage("ev", "vehicle", True, 20.0, 60.0, 11.0, 11.0)]
    >>> mode_setpoints(Mode.CHARGE_NOW, {"ev": -3.0}, s)[0]
    {'ev': 11.0}
    """
    out: dict[str, float] = {}
    why: dict[str, str] = {}
    for s in storages:
        p = planned.get(s.name, 0.0) if s.usable else 0.0
        reason = "plan"
        if not s.usable:
            reason = "not available"
        elif mode is Mode.OFF:
            p, reason = 0.0, "mode off"
        elif mode is Mode.CHARGE_NOW and s.kind == "vehicle":
            if s.soc_kwh < s.target_kwh - 1e-6:
                p, reason = s.max_charge_kw, "charge-now until the departure target"
            else:
                p, reason = max(p, 0.0), "charge-now: target reached"
        elif mode is Mode.BACKUP_ONLY and p < 0:
            p, reason = 0.0, "backup-only: no discharging on grid"
        elif mode is Mode.V2L and s.kind == "vehicle":
            p, reason = 0.0, "v2l: the car feeds its own loads"
        out[s.name], why[s.name] = p, reason
    return out, why


def absorb_deviation(
    setpoints: dict[str, float],
    deviation_kw: float,
    storages: list[TrackStorage],
    mode: Mode,
) -> dict[str, float]:
    """Adjust ``setpoints`` [kW] for a net load ``deviation_kw`` [kW] above what the plan expected
    (negative: more PV surplus than expected).

    A surplus first trims what the cars give (a car giving the house more than it draws would
    export or fill the battery from the car), then goes into the battery, then the cars; a
    deficit is covered by the battery, then by charging the cars less, never by discharging a
    car more than planned. The household's mode
    bounds it: nothing absorbs in ``off``, cars keep full power in ``charge-now``, nothing
    discharges in ``backup-only``.

    >>> s = [TrackStorage("battery", "battery", True, 5.0, 10.0, 3.0, 3.0),
    ...      TrackStorage("ev", "vehicle", True, 20.0, 60.0, 11.0, 11.0)]
    >>> absorb_deviation({"battery": 0.0, "ev": 2.0}, -5.0, s, Mode.AUTO)
    {'battery': 3.0, 'ev': 4.0}
    """
    out = dict(setpoints)
    if mode is Mode.OFF:
        return out
    dev = deviation_kw
    if dev < 0:
        for s in storages:
            now = out.get(s.name, 0.0)
            if s.kind != "vehicle" or not s.usable or now >= 0 or dev >= 0:
                continue
            wanted = min(now - dev, 0.0)
            dev -= now - wanted
            out[s.name] = wanted
    for s in sorted(storages, key=lambda s: s.kind != "battery"):
        if abs(dev) < 1e-9:
            break
        if not s.usable or (s.kind == "vehicle" and mode in (Mode.CHARGE_NOW, Mode.V2L)):
            continue
        now = out.get(s.name, 0.0)
        lo = -s.max_discharge_kw if s.kind == "battery" else min(now, 0.0)
        if mode is Mode.BACKUP_ONLY:
            lo = max(lo, 0.0)
        hi = s.max_charge_kw
        if s.kind == "vehicle" and s.soc_kwh >= s.target_kwh and mode is not Mode.AUTO:
            hi = max(now, 0.0)
        wanted = min(max(now - dev, lo), hi)
        dev -= now - wanted
        out[s.name] = wanted
    return out


def battery_residual_kw(house_kw: float, cars_kw: list[float], planned_feed_kw: float) -> float:
    """The load the home battery covers now [kW]; negative: the PV surplus it may store.

    ``house_kw`` is the house's net load (load - PV) [kW], ``cars_kw`` the cars' setpoints [kW,
    positive charging], ``planned_feed_kw`` what the plan has the battery give the charging cars
    now [kW] (:func:`planned_battery_feed_kw`). The battery covers the house's load less what the
    cars give, and feeds the cars' charging beyond the PV surplus only as far as the plan meant
    it to (moving stored PV into the car before tomorrow's sun refills the battery pays; feeding
    a car's grid charging at night does not). It never stores what a car gives: that only loses
    a tenth of it and wears both. With the earlier rule (load - PV + the cars' setpoints) the
    battery fed all the cars' charging and soaked up a car's V2H whenever the house drew less
    than forecast: over 2025 on the dynamic-tariff example 584 kWh went from the battery into the
    car and 159 kWh the other way, where ``oracle`` moved 162 and 3 kWh.

    >>> battery_residual_kw(0.4, [11.0], 0.0)  # night charging: the battery covers the house
    0.4
    >>> battery_residual_kw(0.4, [11.0], 5.0)  # ... and the 5 kW the plan moves into the car
    5.4
    >>> battery_residual_kw(1.0, [-0.4], 0.0)  # the car gives 0.4, the battery the rest
    0.6
    >>> battery_residual_kw(-5.0, [3.0], 0.0)  # 2 kW of PV surplus left for the battery
    -2.0
    """
    charging = sum(max(p, 0.0) for p in cars_kw)
    giving = sum(min(p, 0.0) for p in cars_kw)
    surplus = -house_kw - charging
    if surplus > 0:
        return -surplus
    from_storage = charging - max(-house_kw, 0.0)  # what the cars draw beyond the PV surplus
    return max(house_kw + giving, 0.0) + min(from_storage, max(planned_feed_kw, 0.0))


_last_surplus: tuple[Plan, FloatArray] | None = None
"""The last plan's cumulative PV surplus [kWh] at its edges: found once a plan, not on each of
the 15 ticks that follow it."""


def battery_refills_from_pv(
    plan: Plan, now: datetime, max_soc_kwh: float, within_h: float = 24.0
) -> bool:
    """Whether the PV surplus ``plan`` forecasts within ``within_h`` [h] of ``now`` (PV above the
    load and the cars' planned charging) could fill the home battery from empty
    (``max_soc_kwh`` [kWh]): what the battery gives before then comes back from the sun for
    nothing, so it may feed a charging car even where the plan did not say so (PV short of its
    forecast). Without such a surplus the battery's energy is worth its price and feeds a car
    only as planned. (The plan's own battery trajectory is no guide: it fills the battery only
    as far as it plans to use it, while the battery stores every surplus at home.)"""
    global _last_surplus
    last = _last_surplus
    if last is not None and last[0] is plan:
        cum = last[1]
    else:
        cum = _cumulative_surplus_kwh(plan)
        _last_surplus = (plan, cum)
    edges = plan.grid.edges_s
    t = ensure_utc(now).timestamp()
    k0 = max(int(edges.searchsorted(t, side="right")) - 1, 0)
    k1 = int(edges.searchsorted(t + within_h * 3600.0, side="right")) - 1
    k1 = min(max(k1, k0), len(cum) - 1)
    return float(cum[k1] - cum[k0]) >= max_soc_kwh


def _cumulative_surplus_kwh(plan: Plan) -> FloatArray:
    """PV surplus of ``plan``'s forecast summed from its start to each edge [kWh]: PV above the
    load and the cars' planned charging."""
    cars = sum(
        (np.maximum(s.power_kw, 0.0) for s in plan.storages if s.kind == "vehicle"),
        np.zeros(plan.grid.n),
    )
    surplus = np.maximum(plan.pv_kw - plan.load_kw - cars, 0.0) * plan.grid.dt_h
    out: FloatArray = np.concatenate(([0.0], np.cumsum(surplus)))
    return out


def planned_battery_feed_kw(
    battery_kw: float, expected_net_kw: float, cars_kw: list[float]
) -> float:
    """What the plan has the battery give the charging cars [kW]: its discharge beyond the
    house's expected net load (``expected_net_kw``: load - PV) less what the cars give there,
    up to what the cars charge beyond the expected PV surplus.

    >>> planned_battery_feed_kw(-5.0, -3.8, [8.8])  # 17:00, 3.8 kW of PV, the car takes 8.8
    5.0
    >>> planned_battery_feed_kw(-0.3, 0.3, [7.0])  # the battery covers the house only
    0.0
    """
    charging = sum(max(p, 0.0) for p in cars_kw)
    giving = sum(min(p, 0.0) for p in cars_kw)
    beyond_house = -battery_kw - max(expected_net_kw + giving, 0.0)
    need = charging - max(-expected_net_kw, 0.0)
    return max(0.0, min(beyond_house, need))


def ramp_limit(setpoints: dict[str, float], elapsed_s: float, ramp_s: float) -> dict[str, float]:
    """Limit setpoints [kW] to a linear ramp from 0 over ``ramp_s`` [s] after reconnection.

    >>> ramp_limit({"ev": -10.0}, 30.0, 300.0)
    {'ev': -1.0}
    """
    if ramp_s <= 0 or elapsed_s >= ramp_s:
        return dict(setpoints)
    share = max(0.0, elapsed_s) / ramp_s
    return {k: v * share for k, v in setpoints.items()}


def battery_on_grid(
    planned_kw: float,
    expected_residual_kw: float,
    residual_kw: float,
    battery: TrackStorage,
    floor_kwh: float,
    eta_discharge: float,
    dt_h: float,
) -> tuple[float, str]:
    """The home battery's setpoint [kW] on grid, and why.

    The plan is kept where it discharges the battery beyond the load it expected (export at a
    high price). Otherwise the battery covers the house's residual load now (``residual_kw``:
    load - PV + the cars' setpoints [kW]; negative is surplus), within its limits and floor.
    The plan's charging of the battery from the grid is not followed: with PV forecast from
    the past, it filled the battery in cheap night hours just before PV came, and cost 22.33
    against 18.98 EUR (bill + ageing) for this rule over 12 days on the dynamic-tariff example
    (``examples/sigen-dynamic-germany.toml``, March 2024). ``planned_kw`` and
    ``expected_residual_kw`` [kW] are the plan's battery power and the residual it expected.

    >>> b = TrackStorage("battery", "battery", True, 5.0, 10.0, 3.0, 3.0)
    >>> battery_on_grid(0.0, 1.0, -2.0, b, 1.0, 1.0, 0.25)
    (2.0, 'storing PV surplus')
    >>> battery_on_grid(-3.0, 1.0, 1.0, b, 1.0, 1.0, 0.25)
    (-3.0, 'plan: exporting at a high price')
    """
    if planned_kw < -max(0.0, expected_residual_kw) - 0.1:
        return planned_kw, "plan: exporting at a high price"
    if residual_kw < 0:
        return min(-residual_kw, battery.max_charge_kw), "storing PV surplus"
    above = max(battery.soc_kwh - floor_kwh, 0.0) * eta_discharge / dt_h
    return -min(residual_kw, battery.max_discharge_kw, above), "covering the house"


def toward_zero(new_kw: float, last_kw: float) -> bool:
    """Whether ``new_kw`` [kW] asks less of a device than ``last_kw`` [kW] did, or reverses it:
    such a change is always written, however small, since the limits are on the far side.

    >>> toward_zero(-2.97, -3.0), toward_zero(-3.03, -3.0)
    (True, False)
    """
    return new_kw * last_kw < 0 or abs(new_kw) < abs(last_kw) - 1e-9
