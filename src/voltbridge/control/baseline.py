"""The shadow baseline the savings are counted against: uncontrolled charging, alongside.

Each car of the baseline charges at full power from plug-in until its target; nothing
discharges. Its grid power (``grid_kw``) is shown as it is. Its money is counted like with like
(``cost_per_h``), the rule of the savings:

    The baseline's charging counts only for energy the real car has also charged. Each kWh the
    baseline car draws is kept, with the price it was drawn at (its marginal cost on top of the
    house: the import price, or the export revenue forgone when it charges from PV that would
    be exported), in order. As the real car charges, the same kWh are taken from the front and
    their baseline cost is counted then, beside the real home's cost of charging them. Energy the
    baseline drew that the real car has not yet charged is not saved yet (at 03:35, before a
    deferred night charge, nothing is saved on it); energy the real car never charges (it
    leaves with less) is dropped at unplug, and energy it charges beyond the baseline's costs
    the real home with nothing to set against it. The house (load less PV) is priced the same
    in both at the time it happens.

So "saved today" always compares the same delivered energy: over a whole charge it is the
difference of the two bills; before the real car has charged, it does not count the baseline's
charge as saved.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime

from voltbridge.control.settings import Settings
from voltbridge.control.site_model import ControlSite


def net_cost_per_h(grid_kw: float, price_import: float, price_export: float) -> float:
    """What a grid power costs per hour [currency/h]: imports at ``price_import``, exports
    earning ``price_export`` [currency/kWh].

    >>> net_cost_per_h(2.0, 0.3, 0.05), net_cost_per_h(-2.0, 0.3, 0.05)
    (0.6, -0.1)
    """
    return max(grid_kw, 0.0) * price_import - max(-grid_kw, 0.0) * price_export


class ShadowBaseline:
    """Uncontrolled charging, alongside the real home (see the module for the savings' rule).

    ``step`` advances it each tick with what held since the last one (a zero-order hold, as the
    store prices statuses); ``cost_per_h`` is the baseline's like-with-like cost rate for the
    interval the tick's status holds over."""

    def __init__(self, site: ControlSite) -> None:
        self.site = site
        self.soc: dict[str, float | None] = {}
        self.plugged: dict[str, bool] = {}
        self._last: datetime | None = None
        self.power_kw: dict[str, float] = {}
        self.lots: dict[str, deque[list[float]]] = {}
        """Per car, the kWh the baseline drew that the real car has not charged yet, oldest
        first: ``[kwh, price per kWh]``."""
        self._lot_price = 0.0
        self._real_kw: dict[str, float] = {}

    def plug(self, name: str, plugged: bool, soc_kwh: float | None) -> None:
        """A car was plugged in (its shadow starts from the measured SoC) or out (what the
        baseline drew that the real car did not charge is dropped: it is never saved)."""
        self.plugged[name] = plugged
        if plugged:
            self.soc[name] = soc_kwh
        self.power_kw[name] = 0.0
        self.lots.pop(name, None)
        self._real_kw[name] = 0.0

    def step(
        self,
        now: datetime,
        settings: Settings,
        real_charge_kw: Mapping[str, float] | None = None,
    ) -> None:
        """Advance the shadow cars to ``now``: what each drew since the last step is kept at the
        price of then, and what each real car charged since (at ``real_charge_kw`` of the last
        step, its measured AC charging power [kW]) takes the same kWh from the front."""
        dt_h = 0.0 if self._last is None else max(0.0, (now - self._last).total_seconds() / 3600)
        self._last = now
        for v in self.site.vehicles:
            drawn_kwh = self.power_kw.get(v.name, 0.0) * dt_h
            if drawn_kwh > 0:
                self.lots.setdefault(v.name, deque()).append([drawn_kwh, self._lot_price])
            self._take(v.name, self._real_kw.get(v.name, 0.0) * dt_h)
            soc = self.soc.get(v.name)
            if not self.plugged.get(v.name) or soc is None:
                self.power_kw[v.name] = 0.0
                continue
            target = v.target_kwh(settings.vehicles.get(v.name))
            p = v.max_charge_kw if soc < target else 0.0
            self.power_kw[v.name] = p
            self.soc[v.name] = min(soc + p * v.efficiency * dt_h, v.capacity_kwh)
        self._real_kw = {
            name: max(0.0, kw)
            for name, kw in (real_charge_kw or {}).items()
            if self.plugged.get(name)
        }

    def _take(self, name: str, kwh: float) -> float:
        """Take ``kwh`` from the front of ``name``'s lots; their baseline cost [currency]."""
        lots = self.lots.get(name)
        cost = 0.0
        while lots and kwh > 1e-12:
            lot = lots[0]
            used = min(lot[0], kwh)
            cost += used * lot[1]
            lot[0] -= used
            kwh -= used
            if lot[0] <= 1e-12:
                lots.popleft()
        return cost

    def grid_kw(self, load_kw: float, pv_kw: float) -> float:
        """Grid power of the baseline [kW], + import (PV beyond the house is exported)."""
        return load_kw - pv_kw + sum(self.power_kw.values())

    def cost_per_h(
        self, load_kw: float, pv_kw: float, price_import: float | None, price_export: float | None
    ) -> float:
        """The baseline's like-with-like cost rate [currency/h] over the interval from now
        (call it once a tick, after ``step``): the house (load less PV) at today's prices, plus,
        for each real car charging now, its power at the price of the front kWh it takes from
        the baseline's (exact but for an interval in which the kept kWh run out or their price
        changes: at most one tick's worth). It also prices what the shadow cars draw from now,
        kept until the real cars charge it. Unknown prices count nothing, as in the store."""
        pi, pe = price_import or 0.0, price_export or 0.0
        house_kw = load_kw - pv_kw
        house = net_cost_per_h(house_kw, pi, pe)
        cars_kw = sum(self.power_kw.values())
        if cars_kw > 0:
            self._lot_price = (net_cost_per_h(house_kw + cars_kw, pi, pe) - house) / cars_kw
        released = 0.0
        for name, kw in self._real_kw.items():
            lots = self.lots.get(name)
            if kw > 0 and lots:
                released += kw * lots[0][1]
        return house + released
