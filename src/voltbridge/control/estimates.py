"""What the household sees at every tick: hours of backup for the essential circuits, and range."""

from __future__ import annotations

import math

from voltbridge.core.timegrid import FloatArray

MAX_BACKUP_H = 24.0 * 14
"""Backup estimates are capped at two weeks [h]: beyond that the number means "indefinitely"."""


def backup_hours(
    usable_kwh: float,
    essential_kw: float,
    pv_kw: FloatArray | None = None,
    dt_h: FloatArray | None = None,
    room_kwh: float = 0.0,
    eta_charge: float = 1.0,
) -> float:
    """Hours the essential circuits could run from storage and PV before the storage is empty [h].

    ``usable_kwh`` [kWh, AC] is what the storages at home can deliver above their reserves (stored
    energy above reserve times discharge efficiency); ``essential_kw`` [kW] the essential
    circuits' draw; ``pv_kw`` [kW] a PV forecast on steps ``dt_h`` [h] (PV covers the load first,
    its surplus refills up to ``room_kwh`` [kWh, AC] at ``eta_charge``); after the forecast, no PV.
    Capped at ``MAX_BACKUP_H``.

    >>> backup_hours(6.0, 1.5)
    4.0
    >>> import numpy as np
    >>> backup_hours(1.0, 1.0, np.array([0.0, 3.0, 0.0]), np.array([1.0, 1.0, 1.0]), room_kwh=5.0)
    4.0
    """
    if essential_kw <= 0:
        return MAX_BACKUP_H
    energy = max(usable_kwh, 0.0)
    capacity = energy + max(room_kwh, 0.0)
    hours = 0.0
    if pv_kw is not None and dt_h is not None:
        for pv, dt in zip(pv_kw.tolist(), dt_h.tolist(), strict=True):
            net = essential_kw - float(pv)
            if net > 0 and energy < net * dt:
                return hours + energy / net
            energy = min(energy - net * dt if net > 0 else energy - net * dt * eta_charge, capacity)
            hours += float(dt)
            if hours >= MAX_BACKUP_H:
                return MAX_BACKUP_H
    return min(hours + energy / essential_kw, MAX_BACKUP_H)


def range_km(soc_kwh: float, consumption_kwh_per_km: float, floor_kwh: float = 0.0) -> float:
    """Distance the car can drive on the energy above ``floor_kwh`` [km].

    ``soc_kwh`` [kWh], ``consumption_kwh_per_km`` [kWh/km].

    >>> range_km(40.0, 0.2)
    200.0
    >>> range_km(10.0, 0.2, floor_kwh=12.0)
    0.0
    """
    if consumption_kwh_per_km <= 0 or not math.isfinite(soc_kwh):
        raise ValueError("consumption_kwh_per_km must be positive and soc_kwh finite")
    return max(soc_kwh - floor_kwh, 0.0) / consumption_kwh_per_km
