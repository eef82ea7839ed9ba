"""Islanded operation, as pure functions: which circuits to shed and how storages share the house.

While the grid is absent the house runs on PV and storage alone. Two decisions are made at every
tick: which switchable circuits stay on (``plan_shedding``) and how much each storage charges or
discharges (``island_setpoints``). Both only use what is measured now and the limits of the
storages; the controller feeds them and the guard checks the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CircuitInfo:
    """A switchable circuit of the house panel.

    Attributes:
        name: the circuit's name (as the relay driver knows it).
        typical_kw: typical draw while on [kW].
        essential: kept on as long as anything can be powered (fridge, lights, router, medical).
        shed_priority: higher numbers are shed first; essentials after every other circuit.
    """

    name: str
    typical_kw: float
    essential: bool = False
    shed_priority: int = 1


@dataclass(frozen=True)
class IslandStorage:
    """What one storage can do for the island now.

    Attributes:
        name: device name.
        kind: ``"battery"`` or ``"vehicle"`` (the battery covers the house first).
        available: plugged in, fresh data and not in V2L: it may be used.
        soc_kwh: stored energy [kWh].
        floor_kwh: lowest SoC it may reach for the essential circuits [kWh] (a car's outage
            reserve, the battery's minimum).
        capacity_kwh: usable capacity [kWh].
        max_charge_kw: AC charge limit [kW].
        max_discharge_kw: AC discharge limit [kW] (0 if it cannot power the house).
        eta_discharge: stored energy to AC (0, 1].
        reserve_kwh: lowest SoC it may reach for the other circuits [kWh] (a car's mobility
            reserve); None: ``floor_kwh``. Between the two it powers only the essentials.
    """

    name: str
    kind: str
    available: bool
    soc_kwh: float
    floor_kwh: float
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    eta_discharge: float = 1.0
    reserve_kwh: float | None = None

    def lowest_kwh(self, essential: bool) -> float:
        """The SoC it may reach [kWh]: for the essential circuits, or for the whole house."""
        if essential or self.reserve_kwh is None:
            return self.floor_kwh
        return max(self.reserve_kwh, self.floor_kwh)

    def discharge_kw(self, dt_h: float, essential: bool = True) -> float:
        """AC power it can deliver for ``dt_h`` [h] without going below its floor [kW] (the
        essentials' floor, or with ``essential`` False the whole house's)."""
        if not self.available:
            return 0.0
        above = max(0.0, self.soc_kwh - self.lowest_kwh(essential))
        return min(self.max_discharge_kw, above * self.eta_discharge / dt_h)

    def usable_kwh(self, essential: bool = True) -> float:
        """AC energy it can deliver above its floor [kWh] (as in :meth:`discharge_kw`)."""
        if not self.available or self.max_discharge_kw <= 0:
            return 0.0
        return max(0.0, self.soc_kwh - self.lowest_kwh(essential)) * self.eta_discharge


@dataclass(frozen=True)
class SheddingPlan:
    """Which circuits are on, and why the others are off."""

    on: dict[str, bool]
    reasons: dict[str, str]
    reserve_reached: bool


RESTORE_MARGIN = 1.2
"""A shed circuit comes back only when its typical draw fits 1.2 times over (no flapping)."""


def expected_load_kw(
    circuits: Iterable[CircuitInfo],
    before: Mapping[str, bool],
    after: Mapping[str, bool],
    load_kw: float,
) -> float:
    """The house load [kW] expected once the relays go from ``before`` to ``after``: the
    measured ``load_kw`` less the typical draw of each circuit switched off, plus that of each
    switched on, but never below what the circuits left on may draw (the lower of the measured
    load and their typical draws together), nor below 0.

    A circuit is shed at its typical draw, whatever it draws now: taking an idle water heater
    (4.5 kW typical, 0 kW now) off the estimate must neither leave the fridge and well pump
    without power for a tick (in a 72 h outage the house went dark for 10 minutes when the car
    reached its mobility reserve and the idle circuits were shed) nor keep an idle dryer on
    that may start to draw from the car.

    >>> c = [CircuitInfo("fridge", 0.3, True), CircuitInfo("heater", 4.5)]
    >>> expected_load_kw(c, {}, {"fridge": True, "heater": False}, 0.3)
    0.3
    """
    typical = {c.name: c.typical_kw for c in circuits}
    est = load_kw
    for name, on in after.items():
        was = before.get(name, True)
        if was and not on:
            est -= typical[name]
        elif on and not was:
            est += typical[name]
    still_on = sum(kw for n, kw in typical.items() if after.get(n, True) and before.get(n, True))
    return max(est, min(load_kw, still_on), 0.0)


def plan_shedding(
    circuits: list[CircuitInfo],
    current: dict[str, bool],
    load_kw: float,
    pv_kw: float,
    supply_kw: float,
    storage_kwh: float,
    storage_present: bool = True,
    essential_supply_kw: float | None = None,
    essential_storage_kwh: float | None = None,
) -> SheddingPlan:
    """Circuits to keep on so that the house load fits the supply while islanded.

    ``load_kw`` [kW] is the house load measured now with the ``current`` relay states,
    ``supply_kw`` [kW] what the storages can discharge now above the whole house's floors (a
    car's mobility reserve), ``storage_kwh`` [kWh] the energy above them;
    ``essential_supply_kw`` [kW] and ``essential_storage_kwh`` [kWh] the same above the
    essentials' floors (a car's outage reserve; None: the same as for the whole house).
    Non-essential circuits go first, highest ``shed_priority`` first, once the load is over PV
    and ``supply_kw``; essential circuits go only when the storages are down to the essentials'
    floors and PV does not cover them (``reserve_reached``). So between a car's mobility
    reserve and its outage reserve only the essential circuits are powered: the fridge
    outranks the range kept for the next trip, the air conditioner does not. A shed circuit is
    restored, lowest priority number first (essentials first), once its typical draw fits
    ``RESTORE_MARGIN`` times into the spare supply it may use, PV included (so PV brings the
    essentials back first even at the reserve).

    With no storage present (``storage_present`` False: the car away and no home battery) and
    some PV, essentials are not shed, and shed ones come back as soon as PV covers what the
    house draws without them (not only once it covers each 1.2 times over): there is no stored
    energy to protect, so shedding them only turns away PV that could serve them (a 72 h
    outage with the truck out on weekdays lost 3.8 kWh of essential load this way, against a
    house that did nothing; with the truck leaving before sunrise, essentials shed in the dark
    came back one by one, each only once PV covered it 1.2 times over).

    >>> c = [CircuitInfo("fridge", 0.2, True), CircuitInfo("heat-pump", 3.0, False, 5)]
    >>> p = plan_shedding(c, {"fridge": True, "heat-pump": True}, 4.0, 0.0, 2.0, 10.0)
    >>> p.on
    {'fridge': True, 'heat-pump': False}
    >>> p = plan_shedding(c, {"fridge": True, "heat-pump": True}, 3.2, 0.0, 0.0, 0.0, True, 5.0, 8.0)
    >>> p.on, p.reserve_reached
    ({'fridge': True, 'heat-pump': False}, False)
    """
    ess_supply = supply_kw if essential_supply_kw is None else max(essential_supply_kw, supply_kw)
    ess_kwh = (
        storage_kwh if essential_storage_kwh is None else max(essential_storage_kwh, storage_kwh)
    )
    on = {c.name: current.get(c.name, True) for c in circuits}
    reasons: dict[str, str] = {}
    capacity = {False: pv_kw + supply_kw, True: pv_kw + ess_supply}
    reserve_reached = ess_kwh <= 1e-6 and ess_supply <= 1e-9 and (storage_present or pv_kw <= 1e-9)
    load = load_kw
    order = sorted(circuits, key=lambda c: (c.essential, -c.shed_priority))
    for c in order:  # non-essentials first: their capacity is never above the essentials'
        if load <= capacity[c.essential] + 1e-9:
            break
        if not on[c.name]:
            continue
        if c.essential and not reserve_reached:
            continue
        on[c.name] = False
        load = expected_load_kw(circuits, current, on, load_kw)
        if c.essential:
            reasons[c.name] = "storage down to its reserve and PV does not cover the essentials"
        elif capacity[False] < capacity[True]:
            reasons[c.name] = (
                f"load {load_kw:.2f} kW over what PV and storage above the mobility reserve "
                f"supply, {capacity[False]:.2f} kW: below it only essential circuits are powered"
            )
        else:
            reasons[c.name] = (
                f"load {load_kw:.2f} kW over what PV and storage supply, {capacity[False]:.2f} kW"
            )
    if load <= capacity[True] + 1e-9:
        for c in reversed(order):  # essentials first, then lowest shed priority
            if on[c.name] or current.get(c.name, True):
                continue
            fits = load + RESTORE_MARGIN * c.typical_kw <= capacity[c.essential]
            if fits or (c.essential and not reserve_reached and not storage_present):
                on[c.name] = True
                load += c.typical_kw
    return SheddingPlan(on=on, reasons=reasons, reserve_reached=reserve_reached)


def island_setpoints(
    storages: list[IslandStorage], load_kw: float, pv_kw: float, dt_h: float
) -> dict[str, float]:
    """AC setpoints [kW] (+ charging) that balance the island: PV covers the house first; a
    deficit is covered by the battery, then the cars, each above its floor; a surplus charges the
    battery, then the cars. What cannot be covered is left to shedding, what cannot be stored is
    curtailed by the PV inverter.

    >>> b = IslandStorage("battery", "battery", True, 5.0, 1.0, 10.0, 5.0, 5.0)
    >>> car = IslandStorage("car", "vehicle", True, 40.0, 16.0, 80.0, 11.0, 11.0)
    >>> island_setpoints([b, car], load_kw=7.0, pv_kw=0.0, dt_h=1.0)
    {'battery': -4.0, 'car': -3.0}
    """
    out = {s.name: 0.0 for s in storages}
    deficit = load_kw - pv_kw
    for s in sorted(storages, key=lambda s: s.kind != "battery"):
        if not s.available:
            continue
        if deficit > 0:
            p = min(deficit, s.discharge_kw(dt_h))
            out[s.name] = -p
            deficit -= p
        elif deficit < 0:
            room = max(0.0, s.capacity_kwh - s.soc_kwh) / dt_h
            p = min(-deficit, s.max_charge_kw, room)
            out[s.name] = p
            deficit += p
    return out
