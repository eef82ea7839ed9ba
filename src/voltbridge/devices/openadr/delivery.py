"""Energy delivered in an event window, from the grid-power samples the controller measures.

Delivered power is ``baseline_kw - grid_kw`` (grid power positive for import): with the zero
baseline of an export event it is the power exported. Each sample holds until the next one, but
for at most ``max_gap_s`` (stale data is never taken as delivery); the window's energy is the net
of what was delivered and what was drawn above the baseline, and never below zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray


def held_energy_kwh(
    times_s: NDArray[np.float64],
    power_kw: NDArray[np.float64],
    start_s: float,
    end_s: float,
    max_gap_s: float,
) -> tuple[float, float]:
    """Energy [kWh] of zero-order-held samples over ``[start_s, end_s)`` and the hours covered.

    Args:
        times_s: sample times [s], ascending.
        power_kw: power at each sample [kW].
        start_s, end_s: the window [s].
        max_gap_s: the longest a sample holds [s].

    >>> held_energy_kwh(np.array([0.0, 1800.0]), np.array([4.0, 2.0]), 0.0, 3600.0, 1800.0)
    (3.0, 1.0)
    """
    if times_s.size == 0:
        return 0.0, 0.0
    until_s = np.minimum(np.append(times_s[1:], np.inf), times_s + max_gap_s)
    lo = np.maximum(times_s, start_s)
    hi = np.minimum(until_s, end_s)
    held_s = np.clip(hi - lo, 0.0, None)
    return float(np.sum(power_kw * held_s) / 3600.0), float(np.sum(held_s) / 3600.0)


@dataclass(frozen=True)
class Delivery:
    """What one event window delivered.

    Attributes:
        energy_kwh: net energy delivered against the baseline, >= 0 [kWh].
        covered_h: hours of the window with fresh telemetry [h].
        window_h: length of the window [h].
    """

    energy_kwh: float
    covered_h: float
    window_h: float

    @property
    def mean_kw(self) -> float:
        """Average delivered power over the whole window [kW]."""
        return self.energy_kwh / self.window_h if self.window_h > 0 else 0.0


class DeliveryMeter:
    """Keeps the latest grid-power samples and tells what a window delivered."""

    def __init__(self, max_gap_s: float) -> None:
        self.max_gap_s = max_gap_s
        self._times_s: list[float] = []
        self._delivered_kw: list[float] = []

    def add(self, at: datetime, grid_kw: float, baseline_kw: float = 0.0) -> str | None:
        """Take one sample; returns why it was refused, or None.

        Args:
            at: when it was measured (timezone-aware).
            grid_kw: grid power, positive for import [kW].
            baseline_kw: the program's baseline at that time [kW] (0 for export events).
        """
        if at.tzinfo is None:
            return f"grid sample at {at} has no timezone"
        if not (math.isfinite(grid_kw) and math.isfinite(baseline_kw)):
            return f"grid sample at {at.isoformat()} is not a number ({grid_kw}, {baseline_kw})"
        t = at.timestamp()
        if self._times_s and t <= self._times_s[-1]:
            return f"grid sample at {at.isoformat()} is not after the previous one"
        self._times_s.append(t)
        self._delivered_kw.append(baseline_kw - grid_kw)
        return None

    def delivered(self, start: datetime, end: datetime) -> Delivery:
        """What ``[start, end)`` delivered (see the module docstring)."""
        energy, covered = held_energy_kwh(
            np.asarray(self._times_s, dtype=np.float64),
            np.asarray(self._delivered_kw, dtype=np.float64),
            start.timestamp(),
            end.timestamp(),
            self.max_gap_s,
        )
        window_h = (end - start).total_seconds() / 3600.0
        return Delivery(max(energy, 0.0), covered, window_h)

    def forget_before(self, at: datetime) -> None:
        """Drop samples no open window can need (all but the last one before ``at``)."""
        t = at.timestamp()
        keep = 0
        while keep + 1 < len(self._times_s) and self._times_s[keep + 1] <= t:
            keep += 1
        del self._times_s[:keep], self._delivered_kw[:keep]
