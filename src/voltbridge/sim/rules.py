"""Rule-based strategies: what cars do today without voltbridge, and simple V2H rules.

``uncontrolled`` charges at full power on arrival up to the departure target; ``smart-charge``
charges from PV surplus and in the cheapest steps before the next scheduled departure (what
today's smart chargers do); ``v2h-rules`` adds covering
the house from the car in peak-price steps, down to its reserve. In all three the home battery
(if any) runs the usual self-consumption mode: it stores PV surplus and covers the house.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from voltbridge.sim.context import Context, StorageParams

HORIZON_H = 24.0
"""Without a departure within this many hours, smart charging spreads over this window."""


class Strategy(Protocol):
    """Decides the AC power setpoint [kW] of every storage (in the context's order) each step."""

    name: str

    def setpoints(self, t: int, ctx: Context) -> list[float]: ...


def battery_self_consumption(t: int, ctx: Context, setpoints: list[float]) -> None:
    """Home battery: charge from PV surplus, cover the house's deficit (never export)."""
    w = ctx.world
    for i, p in enumerate(ctx.params):
        if p.kind != "battery":
            continue
        residual = (
            w.load_kw[t] - w.pv_kw[t] + sum(setpoints[j] for j in range(len(setpoints)) if j != i)
        )
        if residual < 0:
            setpoints[i] = min(-residual, p.max_charge_kw)
        else:
            above = max(ctx.plant.soc[i] - p.reserve_kwh, 0.0) * p.eta / w.dt_h[t]
            setpoints[i] = -min(residual, p.max_discharge_kw, above)


def next_departure_steps(t: int, ctx: Context, p: StorageParams) -> int:
    """Steps from t to the next scheduled departure (or to ``HORIZON_H`` without one)."""
    w = ctx.world
    now = w.grid.edges_s[t]
    k = int(np.searchsorted(p.departures_s, now, side="right"))
    dt_s = float(w.dt_h[t]) * 3600
    horizon = round(HORIZON_H * 3600 / dt_s)
    if k >= p.departures_s.size:
        return horizon
    return max(1, min(horizon, math.ceil(float(p.departures_s[k] - now) / dt_s)))


def smart_charge_kw(t: int, ctx: Context, i: int, p: StorageParams) -> float:
    """What a smart charger does now: soak up PV surplus, and charge at full power if now is
    among the cheapest steps needed to reach the target by the next departure."""
    w = ctx.world
    need_kwh = p.target_kwh - float(ctx.plant.soc[i])
    if need_kwh <= 1e-6 or not w.vehicles[i].plugged_in[t]:
        return 0.0
    dt = float(w.dt_h[t])
    most = min(p.max_charge_kw, need_kwh / (p.eta * dt))
    surplus = float(w.pv_kw[t] - w.load_kw[t])
    steps = next_departure_steps(t, ctx, p)
    price, _ = ctx.known_prices(t, steps)
    needed = math.ceil(need_kwh / (p.eta * p.max_charge_kw * dt) - 1e-9)
    if needed >= price.size or 0 in np.argsort(price, kind="stable")[:needed]:
        return most
    return min(max(surplus, 0.0), most)


class Uncontrolled:
    """Charge at full power on arrival until the departure target; never discharge."""

    name = "uncontrolled"

    def cars(self, t: int, ctx: Context) -> list[float]:
        """Setpoints of the cars [kW] (0 for the battery, which ``setpoints`` adds)."""
        out = [0.0] * len(ctx.params)
        for i, p in enumerate(ctx.params):
            if p.kind == "vehicle" and ctx.world.vehicles[i].plugged_in[t]:
                need = p.target_kwh - ctx.plant.soc[i]
                out[i] = min(p.max_charge_kw, max(need, 0.0) / (p.eta * ctx.world.dt_h[t]))
        return out

    def setpoints(self, t: int, ctx: Context) -> list[float]:
        out = self.cars(t, ctx)
        battery_self_consumption(t, ctx, out)
        return out


class SmartCharge(Uncontrolled):
    """Charge in the cheapest steps before the next departure; never discharge."""

    name = "smart-charge"

    def cars(self, t: int, ctx: Context) -> list[float]:
        out = [0.0] * len(ctx.params)
        for i, p in enumerate(ctx.params):
            if p.kind == "vehicle":
                out[i] = smart_charge_kw(t, ctx, i, p)
        return out


class V2HRules(SmartCharge):
    """Smart charging, plus covering the house from the car in peak-price steps.

    A step is "peak" when its import price beats recharging later: it exceeds the cheapest known
    price of the next 24 h divided by the round-trip efficiency, plus the wear of a kWh.
    The car then covers the house's deficit (never exports) down to its reserve; the home
    battery covers what is left.
    """

    name = "v2h-rules"

    def cars(self, t: int, ctx: Context) -> list[float]:
        out = super().cars(t, ctx)
        w = ctx.world
        price, _ = ctx.known_prices(t, w.steps_per_day)
        for i, p in enumerate(ctx.params):
            if p.kind != "vehicle" or out[i] > 0 or p.max_discharge_kw <= 0:
                continue
            if not w.vehicles[i].plugged_in[t]:
                continue
            threshold = price.min() / (p.eta * p.eta) + p.wear.throughput_per_kwh
            if price[0] <= threshold:
                continue
            deficit = w.load_kw[t] - w.pv_kw[t] + sum(out[j] for j in range(len(out)) if j != i)
            above = max(ctx.plant.soc[i] - p.reserve_kwh, 0.0) * p.eta / w.dt_h[t]
            if deficit > 0:
                out[i] = -min(deficit, p.max_discharge_kw, above)
        return out
