"""The house's flows as the controller uses them, from one tick's readings: load and PV [kW]
(NaN when fresh data cannot show them) and each storage's SoC [%] for the planner."""

from __future__ import annotations

import math
from datetime import datetime

from voltbridge.control.io import DeviceSet, Snapshot
from voltbridge.control.site_model import ControlSite
from voltbridge.core.types import Measurement


def house_flows(
    snap: Snapshot,
    now: datetime,
    devices: DeviceSet,
    *,
    stale_after_s: float,
    grid_stale_after_s: float,
    islanded_open: bool,
) -> tuple[float, float]:
    """House load and PV now [kW]; NaN when they cannot be known from fresh data (the guard
    then refuses every command: without the load, neither the breaker nor export is safe).

    Without a house-side meter the load is ``grid + PV - storages``; ``islanded_open`` (off the
    grid with the transfer switch open) means nothing flows through the grid connection.
    """

    def fresh(m: Measurement | None, limit_s: float) -> float:
        if m is None or m.power_kw is None or (now - m.at).total_seconds() > limit_s:
            return math.nan
        return m.power_kw

    pv = 0.0 if devices.pv is None else fresh(snap.pv, stale_after_s)
    pv = max(pv, 0.0) if math.isfinite(pv) else pv
    if devices.load_meter is not None:
        load = fresh(snap.load, stale_after_s)
        return (max(load, 0.0) if math.isfinite(load) else load), pv
    grid_kw = 0.0 if islanded_open else fresh(snap.grid, grid_stale_after_s)
    storage = 0.0
    for name, m in snap.storages.items():
        kw = fresh(m, stale_after_s)  # a frozen charger's last power is no power now
        if math.isfinite(kw):
            storage += kw
        elif snap.plugged_in.get(name):
            storage = math.nan
    load = grid_kw + pv - storage
    return (max(load, 0.0) if math.isfinite(load) else math.nan), pv


def soc_pct(site: ControlSite, snap: Snapshot) -> dict[str, float]:
    """State of charge [%] per storage with a reading (a car away or silent is left out)."""
    out = {}
    for v in site.vehicles:
        m = snap.storages.get(v.name)
        if m is not None and m.soc_kwh is not None:
            out[v.name] = 100.0 * m.soc_kwh / v.capacity_kwh
    b = site.battery
    m = snap.storages.get("battery")
    if b is not None and m is not None and m.soc_kwh is not None:
        out["battery"] = 100.0 * m.soc_kwh / b.capacity_kwh
    return out
