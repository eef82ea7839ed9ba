"""The simulated plant: cars, home battery, PV, house and grid connection, one step at a time.

Strategies ask for AC power per storage (positive charging); the plant applies what physics and
wiring allow: a car only while at home, state of charge within [0, capacity], the charger's
power-dependent efficiency, the grid connection's import and export limits, and islanded
operation while the grid is absent (no grid power at all: storages and PV cover the house, the
rest is unserved). Every kWh is accounted for, so energy balances exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voltbridge.core.timegrid import FloatArray
from voltbridge.sim.charger import charge_stored_kw, dc_for_ac_kw
from voltbridge.sim.types import StorageTrace


@dataclass
class StorageModel:
    """Physical parameters of one storage in the plant.

    Attributes:
        name: vehicle name or ``"battery"``.
        kind: ``"vehicle"`` or ``"battery"``.
        capacity_kwh: usable capacity [kWh].
        max_charge_kw: AC charge limit [kW].
        max_discharge_kw: AC discharge limit [kW] (0 if it cannot discharge).
        rated_eff: one-way conversion efficiency at rated power [-].
        curve: whether efficiency follows the charger curve (cars) or is constant (battery).
        reserve_kwh: the strategy-facing reserve [kWh] (mobility reserve or battery minimum).
        outage_floor_kwh: the lowest SoC in an outage [kWh] (a car's outage reserve, the
            battery's minimum): backup hardware with fixed settings discharges down to it, not
            below (it has one setting for outages, and cannot tell the fridge from the air
            conditioner).
        plugged_in: per step, at home and connected (always true for a battery).
        driving_kwh: energy driven per step [kWh].
        can_export: whether the site allows this storage's energy onto the grid.
    """

    name: str
    kind: str
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    rated_eff: float
    curve: bool
    reserve_kwh: float
    outage_floor_kwh: float
    plugged_in: np.ndarray
    driving_kwh: FloatArray
    can_export: bool = False

    def __post_init__(self) -> None:
        # The charger curve is evaluated once on a fine grid and interpolated afterwards: the
        # plant asks for single values about a million times a year, and both directions of the
        # table come from the same numbers, so energy still balances exactly.
        self._ac_in = np.linspace(0.0, max(self.max_charge_kw, 1e-9), 4001)
        self._ac_out = np.linspace(0.0, max(self.max_discharge_kw, 1e-9), 4001)
        if self.curve and self.max_charge_kw > 0:
            self._stored = charge_stored_kw(self._ac_in, self.max_charge_kw, self.rated_eff)
        else:
            self._stored = self._ac_in * self.rated_eff
        if self.curve and self.max_discharge_kw > 0:
            self._drawn = dc_for_ac_kw(self._ac_out, self.max_discharge_kw, self.rated_eff)
        else:
            self._drawn = self._ac_out / self.rated_eff

    def stored_from_ac(self, ac_kw: float) -> float:
        """Power into the cells [kW] for an AC charging power [kW]."""
        return float(np.interp(ac_kw, self._ac_in, self._stored))

    def ac_for_stored(self, dc_kw: float) -> float:
        """AC charging power [kW] that puts a given power into the cells [kW] (inverse table)."""
        return float(np.interp(dc_kw, self._stored, self._ac_in))

    def ac_from_stored(self, dc_kw: float) -> float:
        """AC power delivered [kW] for a power drawn from the cells [kW]."""
        return float(np.interp(dc_kw, self._drawn, self._ac_out))

    def stored_for_ac(self, ac_kw: float) -> float:
        """Power drawn from the cells [kW] to deliver an AC power [kW]."""
        return float(np.interp(ac_kw, self._ac_out, self._drawn))


class Plant:
    """State and recorded traces of the simulated home over ``n`` steps of ``dt_h`` hours."""

    def __init__(
        self,
        storages: list[StorageModel],
        soc0_kwh: list[float],
        n: int,
        dt_h: FloatArray,
        import_limit_kw: float,
        export_limit_kw: float,
    ) -> None:
        self.models = storages
        self.dt_h = dt_h
        self.import_limit_kw = import_limit_kw
        self.export_limit_kw = export_limit_kw
        self.soc = np.array(soc0_kwh, dtype=np.float64)
        k = len(storages)
        self.power = np.zeros((k, n))
        self.soc_trace = np.zeros((k, n + 1))
        self.soc_trace[:, 0] = self.soc
        self.losses = np.zeros((k, n))
        self.away = np.zeros((k, n))
        self.driven = np.zeros((k, n))
        self.grid_kw = np.zeros(n)
        self.pv_used_kw = np.zeros(n)
        self.load_served_kw = np.zeros(n)
        self.unserved_kw = np.zeros(n)

    def _limit_ac(self, i: int, t: int, ac_kw: float) -> float:
        """Clip an AC setpoint to the storage's power limits, presence and state of charge."""
        m, dt = self.models[i], self.dt_h[t]
        if not m.plugged_in[t]:
            return 0.0
        if ac_kw > 0:
            ac_kw = min(ac_kw, m.max_charge_kw)
            room = m.capacity_kwh - self.soc[i]
            if m.stored_from_ac(ac_kw) * dt > room:
                ac_kw = m.ac_for_stored(room / dt)
            return max(ac_kw, 0.0)
        ac_kw = max(ac_kw, -m.max_discharge_kw)
        if m.stored_for_ac(-ac_kw) * dt > self.soc[i]:
            ac_kw = -m.ac_from_stored(self.soc[i] / dt)
        return min(ac_kw, 0.0)

    def step(
        self,
        t: int,
        setpoints_kw: list[float],
        load_kw: float,
        pv_kw: float,
        grid_up: bool,
        grid_forming: bool = False,
    ) -> None:
        """Advance one step with the strategy's AC setpoints (one per storage, in order).

        Off grid, storages either keep the house up by themselves down to their reserve (the
        default: backup hardware with fixed settings), or, with ``grid_forming``, deliver what
        their setpoints allow (a controller sets them, and sheds circuits, every tick).
        """
        dt = self.dt_h[t]
        ac = [self._limit_ac(i, t, p) for i, p in enumerate(setpoints_kw)]
        if grid_up:
            pv_used, load_served = self._on_grid(t, ac, load_kw, pv_kw)
        elif grid_forming:
            pv_used, load_served = self._islanded_setpoints(ac, load_kw, pv_kw)
            self.grid_kw[t] = 0.0
        else:
            pv_used, load_served = self._islanded(t, ac, load_kw, pv_kw)
        for i, m in enumerate(self.models):
            p = ac[i]
            stored = m.stored_from_ac(p) if p > 0 else -m.stored_for_ac(-p) if p < 0 else 0.0
            self.losses[i, t] = abs(p - stored) * dt
            soc = self.soc[i] + stored * dt
            drive = float(m.driving_kwh[t])
            if drive > 0:
                short = max(drive - soc, 0.0)
                self.away[i, t] = short  # charged away from home to make the trip
                soc = soc + short - drive
                self.driven[i, t] = drive
            self.soc[i] = min(max(soc, 0.0), m.capacity_kwh)
            self.power[i, t] = p
        self.soc_trace[:, t + 1] = self.soc
        self.pv_used_kw[t] = pv_used
        self.load_served_kw[t] = load_served
        self.unserved_kw[t] = load_kw - load_served

    def _on_grid(
        self, t: int, ac: list[float], load_kw: float, pv_kw: float
    ) -> tuple[float, float]:
        """Grid closes the balance within its limits: export over the limit curtails PV, then
        discharge; import over the limit cuts charging (the breaker must not trip)."""
        net = load_kw + sum(ac) - pv_kw
        if net < -self.export_limit_kw:
            pv_used = max(pv_kw - (-self.export_limit_kw - net), 0.0)
            net = load_kw + sum(ac) - pv_used
            for i in np.argsort(ac):  # most discharging first
                if net >= -self.export_limit_kw or ac[i] >= 0:
                    break
                cut = min(-ac[i], -self.export_limit_kw - net)
                ac[i] = self._limit_ac(i, t, ac[i] + cut)
                net = load_kw + sum(ac) - pv_used
        else:
            pv_used = pv_kw
        self._no_storage_export(t, ac, load_kw, pv_used)
        net = load_kw + sum(ac) - pv_used
        if net > self.import_limit_kw:
            for i in np.argsort(ac)[::-1]:  # most charging first
                if net <= self.import_limit_kw or ac[i] <= 0:
                    break
                cut = min(ac[i], net - self.import_limit_kw)
                ac[i] = self._limit_ac(i, t, ac[i] - cut)
                net = load_kw + sum(ac) - pv_used
        self.grid_kw[t] = net
        return pv_used, load_kw

    def _no_storage_export(self, t: int, ac: list[float], load_kw: float, pv_used: float) -> None:
        """Cut the discharge of storages that may not export until none of it reaches the grid:
        export may only be PV beyond the house, or exporting storages' energy (the planner's
        export rule)."""
        allowed = max(pv_used - load_kw, 0.0)
        allowed += sum(-p for i, p in enumerate(ac) if p < 0 and self.models[i].can_export)
        excess = -(load_kw + sum(ac) - pv_used) - allowed
        for i in np.argsort(ac):
            if excess <= 1e-12 or ac[i] >= 0:
                break
            if self.models[i].can_export:
                continue
            cut = min(-ac[i], excess)
            ac[i] += cut
            excess -= cut

    def _islanded(
        self, t: int, ac: list[float], load_kw: float, pv_kw: float
    ) -> tuple[float, float]:
        """No grid: PV covers the house first, storages above their outage floors cover the rest
        (battery first), PV surplus charges them; what is left unserved or curtailed."""
        deficit = load_kw - pv_kw
        for i in sorted(range(len(ac)), key=lambda j: self.models[j].kind != "battery"):
            m = self.models[i]
            if not m.plugged_in[t]:
                ac[i] = 0.0
                continue
            if deficit > 0:
                above = max(self.soc[i] - m.outage_floor_kwh, 0.0)
                dc = min(above / self.dt_h[t], m.stored_for_ac(m.max_discharge_kw))
                can = min(m.max_discharge_kw, m.ac_from_stored(dc)) if dc > 0 else 0.0
                ac[i] = -min(deficit, can)
            else:
                ac[i] = self._limit_ac(i, t, min(-deficit, m.max_charge_kw))
            deficit += ac[i]
        self.grid_kw[t] = 0.0
        if deficit > 0:
            return pv_kw, load_kw - deficit
        return pv_kw + deficit, load_kw  # negative deficit: PV curtailed

    @staticmethod
    def _islanded_setpoints(ac: list[float], load_kw: float, pv_kw: float) -> tuple[float, float]:
        """No grid, storages at their (limited) setpoints as upper bounds: charging only from
        PV and other storages' discharge, discharge only up to what the house draws (an island
        cannot export); the rest of the load is unserved, the rest of the PV curtailed."""
        charging = sum(p for p in ac if p > 0)
        surplus = max(0.0, pv_kw - load_kw - sum(p for p in ac if p < 0))
        if charging > surplus:
            scale = surplus / charging
            for i, p in enumerate(ac):
                if p > 0:
                    ac[i] = p * scale
        discharging = sum(-p for p in ac if p < 0)
        room = max(0.0, load_kw - pv_kw + sum(p for p in ac if p > 0))
        if discharging > room:
            scale = room / discharging
            for i, p in enumerate(ac):
                if p < 0:
                    ac[i] = p * scale
        net = load_kw + sum(ac) - pv_kw
        if net > 0:
            return pv_kw, load_kw - net
        return pv_kw + net, load_kw

    def traces(self, reserves: list[FloatArray]) -> list[StorageTrace]:
        """The recorded traces, one per storage."""
        return [
            StorageTrace(
                name=m.name,
                kind=m.kind,
                capacity_kwh=m.capacity_kwh,
                power_kw=self.power[i].copy(),
                soc_kwh=self.soc_trace[i].copy(),
                plugged_in=m.plugged_in[: self.power.shape[1]].copy(),
                driving_kwh=self.driven[i].copy(),
                away_charging_kwh=self.away[i].copy(),
                losses_kwh=self.losses[i].copy(),
                reserve_kwh=reserves[i],
            )
            for i, m in enumerate(self.models)
        ]
