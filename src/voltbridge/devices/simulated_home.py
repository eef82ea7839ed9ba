"""The shared state behind the simulated devices: house, PV, car, home battery, grid and circuits, on a virtual clock."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from voltbridge.core.clock import Clock, VirtualClock
from voltbridge.core.types import Measurement

Profile = float | Sequence[float]
"""A constant [kW], or one value per profile step [kW] (the last value holds after the end)."""
CellPower = Callable[[float], float]
"""AC power [kW] (+ charging) → power into the cells [kW] (+ charging), monotone increasing."""
Fault = Literal["freeze", "drop", "corrupt"]


@dataclass
class SimStorage:
    """A simulated car (behind its charger) or home battery.

    Attributes:
        capacity_kwh: usable capacity [kWh].
        soc_kwh: stored energy [kWh], within [0, capacity_kwh].
        max_charge_kw: AC charge limit [kW], >= 0.
        max_discharge_kw: AC discharge limit [kW], >= 0.
        eta_charge: constant charge efficiency, AC to cells (0, 1].
        eta_discharge: constant discharge efficiency, cells to AC (0, 1].
        plugged_in: whether the car is connected (always true for a battery).
        cell_kw: replaces the constant efficiencies, e.g. the charger curve of ``voltbridge.sim.charger``.
        setpoint_kw: the last setpoint [kW], + charging.
        power_kw: AC power applied over the last step [kW], + charging.
    """

    capacity_kwh: float
    soc_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    eta_charge: float = 1.0
    eta_discharge: float = 1.0
    plugged_in: bool = True
    cell_kw: CellPower | None = None
    setpoint_kw: float = 0.0
    power_kw: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.soc_kwh <= self.capacity_kwh:
            raise ValueError(f"give 0 <= soc_kwh <= capacity_kwh [kWh], got {self.soc_kwh}")
        if not (0 < self.eta_charge <= 1 and 0 < self.eta_discharge <= 1):
            raise ValueError("eta_charge and eta_discharge must lie in (0, 1]")

    def cell_power_kw(self, ac_kw: float) -> float:
        """Power into the cells [kW] for an AC power [kW], both + charging."""
        if self.cell_kw is not None:
            return self.cell_kw(ac_kw)
        return self.eta_charge * max(ac_kw, 0.0) - max(-ac_kw, 0.0) / self.eta_discharge

    def limit_kw(self, ac_kw: float) -> float:
        """Clip an AC setpoint [kW] to presence and the power limits."""
        if not self.plugged_in or not math.isfinite(ac_kw):
            return 0.0
        return min(max(ac_kw, -self.max_discharge_kw), self.max_charge_kw)

    def step(self, ac_kw: float, dt_h: float) -> float:
        """Hold ``ac_kw`` [kW] for ``dt_h`` [h] until full or empty; return the mean AC power [kW]."""
        cell = self.cell_power_kw(ac_kw)
        energy = cell * dt_h  # may underflow to 0 for a subnormal setpoint
        frac = 1.0
        if energy > 0:
            frac = min(1.0, (self.capacity_kwh - self.soc_kwh) / energy)
        elif energy < 0:
            frac = min(1.0, self.soc_kwh / -energy)
        soc = self.soc_kwh + cell * dt_h * frac
        self.soc_kwh = min(max(soc, 0.0), self.capacity_kwh)
        self.power_kw = ac_kw * frac
        return self.power_kw


@dataclass
class EnergyTotals:
    """Energy since the start [kWh]; ``grid + pv_used = load - unserved + car + battery`` holds."""

    grid_import_kwh: float = 0.0
    grid_export_kwh: float = 0.0
    load_kwh: float = 0.0
    unserved_kwh: float = 0.0
    pv_used_kwh: float = 0.0
    car_kwh: float = 0.0
    battery_kwh: float = 0.0
    backfeed_kwh: float = 0.0
    """Storage discharge asked while the house was joined to a dead grid [kWh]; refused, so it is
    not in the balance, but it must stay 0: a controller that asks it would energize the lines."""
    driven_kwh: float = 0.0
    """Energy the car's trips took from its battery away from home [kWh] (not in the balance)."""


@dataclass(frozen=True)
class CarTrip:
    """The car away from home: unplugged at ``depart``, back and plugged in at ``return_`` with
    ``energy_kwh`` [kWh] less in its battery (never below empty)."""

    depart: datetime
    return_: datetime
    energy_kwh: float

    def __post_init__(self) -> None:
        if self.return_ <= self.depart or self.energy_kwh < 0:
            raise ValueError(f"a trip returns after it departs and uses energy >= 0: {self}")


def profile_at(profile: Profile, elapsed_s: float, step_s: float) -> float:
    """The profile's value [kW] at ``elapsed_s`` [s] after the start, with steps of ``step_s`` [s]."""
    if isinstance(profile, int | float):
        return float(profile)
    i = min(max(int(elapsed_s // step_s), 0), len(profile) - 1)
    return float(profile[i])


class SimulatedHome:
    """House, PV, car, battery, grid and circuits, integrated over time by ``advance``.

    Power signs follow ARCHITECTURE.md: grid + import, car and battery + charging, load and PV +.
    While the grid is down, charging is limited to the PV surplus, grid power is 0 and any shortfall
    is unserved load; a PV surplus is curtailed.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        load_kw: Profile = 0.0,
        pv_kw: Profile = 0.0,
        profile_step_s: float = 900.0,
        car: SimStorage | None = None,
        battery: SimStorage | None = None,
        circuits_kw: Mapping[str, float] | None = None,
        voltage_v: float = 230.0,
        frequency_hz: float = 50.0,
        max_step_s: float = 60.0,
        car_trips: Sequence[CarTrip] = (),
    ) -> None:
        """``car_trips``: when the car leaves and comes back (in time order, not overlapping);
        a trip under way at the start has the car away from it."""
        self.clock = clock
        self.start = clock.now()
        self.load_profile, self.pv_profile, self.profile_step_s = load_kw, pv_kw, profile_step_s
        self.car, self.battery = car, battery
        self.circuits_kw = dict(circuits_kw or {})
        """Load of each switchable circuit [kW], added to the house load while its relay is closed."""
        self.circuits_on = dict.fromkeys(self.circuits_kw, True)
        self.voltage_v, self.frequency_hz, self.max_step_s = voltage_v, frequency_hz, max_step_s
        self.grid_up = True
        self.transfer_closed = True
        """The transfer switch: True while the home is connected to the grid through it."""
        self.backup_mode: dict[str, bool] = {}
        """Devices put in grid-forming backup operation, by name."""
        self.totals = EnergyTotals()
        self._t = self.start
        self.load_kw = self.pv_kw = self.grid_kw = self.pv_used_kw = self.unserved_kw = 0.0
        self._faults: dict[str, Fault] = {}
        self._frozen: dict[str, Measurement] = {}
        self._readers: dict[str, Callable[[], Measurement]] = {}
        self._plug_changes: list[tuple[datetime, bool, float]] = []
        """(when, plugged in, energy used [kWh]) of the trips to come, in time order."""
        for trip in sorted(car_trips, key=lambda t: t.depart):
            if car is None:
                raise ValueError("trips need a car")
            if trip.return_ <= self.start:
                continue
            if trip.depart > self.start:
                self._plug_changes.append((trip.depart, False, 0.0))
            else:
                car.plugged_in = False  # away at the start
            self._plug_changes.append((trip.return_, True, trip.energy_kwh))
        self.refresh()

    # --- time ---------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds`` [s] and integrate up to it, holding the last setpoints."""
        if seconds < 0:
            raise ValueError("a simulated home does not go back in time")
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("advance needs a VirtualClock; with a running clock call sync()")
        self.clock.advance(seconds)
        self.sync()

    def sync(self) -> None:
        """Integrate the physics from where it stopped up to the clock's present, in steps of
        ``max_step_s``, holding the last setpoints (for a clock that runs by itself)."""
        left = (self.clock.now() - self._t).total_seconds()
        self._trips_due()
        while left > 1e-9:
            dt_s = min(self.max_step_s, left)
            if self._plug_changes:  # a step ends on the next departure or return exactly
                dt_s = min(dt_s, max((self._plug_changes[0][0] - self._t).total_seconds(), 0.0))
            self._step(dt_s / 3600.0)
            self._t += timedelta(seconds=dt_s)
            left -= dt_s
            self._trips_due()
        self.refresh()

    def _trips_due(self) -> None:
        """Unplug the car at a departure; at a return, take the trip's energy and plug it in."""
        while self._plug_changes and self._plug_changes[0][0] <= self._t:
            _, plugged, used_kwh = self._plug_changes.pop(0)
            assert self.car is not None
            if plugged:
                driven = min(used_kwh, self.car.soc_kwh)
                self.car.soc_kwh -= driven
                self.totals.driven_kwh += driven
            self.car.plugged_in = plugged

    def refresh(self) -> None:
        """Recompute the present flows [kW] for the present setpoints without moving time."""
        self._step(0.0)

    def _step(self, dt_h: float) -> None:
        elapsed_s = (self._t - self.start).total_seconds()
        shed = sum(kw for c, kw in self.circuits_kw.items() if self.circuits_on[c])
        load = profile_at(self.load_profile, elapsed_s, self.profile_step_s) + shed
        pv = profile_at(self.pv_profile, elapsed_s, self.profile_step_s)
        stores = [s for s in (self.car, self.battery) if s is not None]
        asked = [s.limit_kw(s.setpoint_kw) for s in stores]
        on_grid = self.grid_up and self.transfer_closed
        dead = not self.grid_up and self.transfer_closed
        if dead:  # the switch still joins the house to a dead grid: nothing is served, and any
            # discharge would energize the utility's lines (recorded as backfeed, must stay 0)
            backfeed = sum(max(-p, 0.0) for p in asked)
            self.totals.backfeed_kwh += backfeed * dt_h
            asked = [0.0 for _ in asked]
        elif not on_grid:  # islanded: charging only from PV and other storages' discharge
            charging = sum(p for p in asked if p > 0)
            surplus = max(0.0, pv - load - sum(p for p in asked if p < 0))
            scale = min(1.0, surplus / charging) if charging > 0 else 1.0
            asked = [p * scale if p > 0 else p for p in asked]
            discharging = sum(-p for p in asked if p < 0)
            # an island cannot export, and PV (which cannot be stored away) is used first
            room = max(0.0, load - pv + sum(p for p in asked if p > 0))
            scale = min(1.0, room / discharging) if discharging > 0 else 1.0
            asked = [p * scale if p < 0 else p for p in asked]
        applied = [s.step(p, dt_h) for s, p in zip(stores, asked, strict=True)]
        net = load + sum(applied) - pv
        if on_grid:
            grid, pv_used, unserved = net, pv, 0.0
        elif dead:
            grid, pv_used, unserved = 0.0, 0.0, load
        else:
            grid, pv_used, unserved = 0.0, pv + min(net, 0.0), max(net, 0.0)
        self.load_kw, self.pv_kw, self.grid_kw = load, pv, grid
        self.pv_used_kw, self.unserved_kw = pv_used, unserved
        t = self.totals
        t.grid_import_kwh += max(grid, 0.0) * dt_h
        t.grid_export_kwh += max(-grid, 0.0) * dt_h
        t.load_kwh += load * dt_h
        t.unserved_kwh += unserved * dt_h
        t.pv_used_kwh += pv_used * dt_h
        t.car_kwh += (self.car.power_kw if self.car else 0.0) * dt_h
        t.battery_kwh += (self.battery.power_kw if self.battery else 0.0) * dt_h

    # --- grid and circuits --------------------------------------------------------------------
    def grid_down(self) -> None:
        """Take the utility grid away (an outage)."""
        self.grid_up = False
        self.refresh()

    def grid_restore(self) -> None:
        """Bring the utility grid back."""
        self.grid_up = True
        self.refresh()

    def set_transfer(self, grid_connected: bool) -> None:
        """Close or open the transfer switch between the house and the grid."""
        self.transfer_closed = grid_connected
        self.refresh()

    # --- faults -------------------------------------------------------------------------------
    def attach(self, name: str, reader: Callable[[], Measurement]) -> None:
        """Register a device's fresh-reading function under its name (done by each device)."""
        if name in self._readers:
            raise ValueError(f"a simulated device named {name!r} is already attached")
        self._readers[name] = reader

    def freeze(self, device: object) -> None:
        """From now on ``device`` repeats its present measurement, ``at`` included (stale data)."""
        name = _name(device)
        self._frozen[name] = self._readers[name]()
        self._faults[name] = "freeze"

    def drop(self, device: object) -> None:
        """From now on every call to ``device`` raises ConnectionError."""
        self._faults[_name(device)] = "drop"

    def corrupt(self, device: object) -> None:
        """From now on ``device`` reports out-of-range values (power 1e6 kW, SoC -1 kWh, 0 V, 0 Hz)."""
        self._faults[_name(device)] = "corrupt"

    def heal(self, device: object) -> None:
        """Clear any fault on ``device``."""
        name = _name(device)
        self._faults.pop(name, None)
        self._frozen.pop(name, None)

    def check(self, name: str) -> None:
        """Raise ConnectionError if ``name`` is dropped (called by every device method)."""
        if self._faults.get(name) == "drop":
            raise ConnectionError(f"simulated device {name!r} does not answer (dropped)")

    def measure(self, name: str) -> Measurement:
        """The device's measurement as its faults make it (physics integrated up to now first)."""
        self.check(name)
        self.sync()
        fault = self._faults.get(name)
        if fault == "freeze":
            return self._frozen[name]
        m = self._readers[name]()
        if fault == "corrupt":

            def bad(value: float | None, wrong: float) -> float | None:
                return None if value is None else wrong

            return replace(
                m,
                power_kw=bad(m.power_kw, 1e6),
                soc_kwh=bad(m.soc_kwh, -1.0),
                voltage_v=bad(m.voltage_v, 0.0),
                frequency_hz=bad(m.frequency_hz, 0.0),
            )
        return m


def _name(device: object) -> str:
    name = device if isinstance(device, str) else getattr(device, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"give a simulated device or its name, not {device!r}")
    return name
