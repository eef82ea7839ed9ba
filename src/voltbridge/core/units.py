"""Unit conversions used at the edges (percent, amperes) and the state-of-charge update."""

from __future__ import annotations

import numpy as np

from voltbridge.core.timegrid import FloatArray


def pct_to_kwh(pct: float, capacity_kwh: float) -> float:
    """State of charge [%] to stored energy [kWh].

    >>> pct_to_kwh(50, 80.0)
    40.0
    """
    return pct / 100.0 * capacity_kwh


def kwh_to_pct(energy_kwh: float, capacity_kwh: float) -> float:
    """Stored energy [kWh] to state of charge [%].

    >>> kwh_to_pct(20.0, 80.0)
    25.0
    """
    return 100.0 * energy_kwh / capacity_kwh if capacity_kwh > 0 else 0.0


def breaker_kw(current_a: float, voltage_v: float, phases: int = 1) -> float:
    """Apparent power a breaker allows [kW] at unity power factor.

    ``voltage_v`` is phase-to-neutral for 3 phases, the supply voltage for single or split phase.

    >>> breaker_kw(200, 240)
    48.0
    >>> round(breaker_kw(63, 230, 3), 1)
    43.5
    """
    return current_a * voltage_v * phases / 1000.0


def soc_trajectory_kwh(
    soc0_kwh: float,
    power_kw: FloatArray,
    dt_h: FloatArray,
    eta_charge: float,
    eta_discharge: float,
    driving_kwh: FloatArray | None = None,
) -> FloatArray:
    """Stored energy at every step edge [kWh] from AC power [kW] (positive = charging).

    ``soc[t+1] = soc[t] + eta_charge * max(p, 0) * dt_h - max(-p, 0) * dt_h / eta_discharge - driving``

    >>> soc_trajectory_kwh(10.0, np.array([4.0, -2.0]), np.array([1.0, 1.0]), 0.9, 0.8).tolist()
    [10.0, 13.6, 11.1]
    """
    p = np.asarray(power_kw, dtype=np.float64)
    delta = eta_charge * np.maximum(p, 0) * dt_h - np.maximum(-p, 0) * dt_h / eta_discharge
    if driving_kwh is not None:
        delta = delta - driving_kwh
    return np.concatenate(([soc0_kwh], soc0_kwh + np.cumsum(delta)))
