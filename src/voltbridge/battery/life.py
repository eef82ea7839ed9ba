"""Capacity fade along a state-of-charge history: the life simulation of NREL's BLAST-Lite 1.1.1.

The history is cut into stretches, each stretch's stressors set the fade rates of the cell model
(``battery/cells.py``), and fade grows along the model's power laws. Written after BLAST-Lite's
``BatteryDegradationModel.simulate_battery_life`` (Copyright (c) 2023, Alliance for Energy
Innovation, LLC; BSD 3-Clause, see ``LICENSE-BLAST-Lite.txt``) and checked against its outputs
in ``tests/battery/test_blast_equivalence.py``, so these steps follow it exactly, quirks included:

1. **Stretches.** SoC turning points come from rainflow counting (ASTM E1049-85 (2011), 5.4.4);
   a stretch ends at a turning point once more than one equivalent full cycle (EFC) has passed
   since the last end, and at least every day (``_breakpoints``). A stretch runs from the sample
   after the previous end to its own end, so the step between two stretches is not counted.
2. **Stressors of a stretch.** Its duration [d]; its throughput in EFC (half the summed absolute
   SoC change) times the present relative capacity; its depth of discharge (SoC range); its mean
   C-rate (the time average of ``|dSoC/dt|`` over steps faster than 0.01 1/h) times the present
   relative capacity; temperature [K], SoC and anode potential at each sample.
3. **Rates.** The model's rates at each sample, averaged over the stretch by the trapezoidal rule.
4. **Growth.** With the trajectory ``q_loss = k·x^p`` (``x`` the time or the throughput in the
   model's units), a loss ``y`` already reached grows by ``k·p·(y/k)^((p-1)/p)·dx``; from zero
   it jumps to ``k·dx^p``. Calendar and cycle losses add up.
5. **Energy throughput is conserved.** Before each stretch its SoC swings are scaled by
   ``1/q`` (a faded cell swings further for the same energy), clipped to 0..1.
6. The history is repeated until the simulated time passes the horizon.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from voltbridge.battery.cells import KELVIN_AT_0C, CellModel, anode_potential_v
from voltbridge.core.timegrid import FloatArray

SECONDS_PER_DAY = 86_400.0
DAYS_PER_YEAR = 365.0
MAX_STRETCH_S = 86_400.0
"""A stretch ends at least every this many seconds [s]."""
MAX_STRETCH_EFC = 1.0
"""A stretch ends at the first turning point past this throughput [EFC]."""
STORAGE_C_RATE = 1e-2
"""SoC change rates below this [1/h] count as rest in the mean C-rate."""


@dataclass(frozen=True, eq=False)
class FadeTrajectory:
    """Relative capacity after each simulated stretch, starting with the new cell.

    Attributes:
        t_days: simulated time at the end of each stretch [d] (0 first).
        efc: throughput at the end of each stretch [EFC] (0 first).
        q: relative capacity [-] (1 first).
        q_cal: 1 minus the calendar loss [-].
        q_cyc: 1 minus the cycle loss [-].
    """

    t_days: FloatArray
    efc: FloatArray
    q: FloatArray
    q_cal: FloatArray
    q_cyc: FloatArray


def simulate_fade(
    cell: CellModel,
    time_s: FloatArray,
    soc: FloatArray,
    temperature_c: FloatArray,
    horizon_years: float,
) -> FadeTrajectory:
    """Fade of ``cell`` following ``soc`` over ``time_s`` at ``temperature_c``, repeated until the
    simulated time exceeds ``horizon_years`` [years of 365 d].

    Args:
        cell: the cell model.
        time_s: increasing sample times [s].
        soc: state of charge at each sample [0..1].
        temperature_c: cell temperature at each sample [°C].
        horizon_years: stop once the simulated time passes this [years of 365 d] (> 0).
    """
    t = np.asarray(time_s, dtype=np.float64)
    soc0 = np.asarray(soc, dtype=np.float64)
    t_k = np.asarray(temperature_c, dtype=np.float64) + KELVIN_AT_0C
    ends = _breakpoints(t, soc0)
    days, efcs, loss_cal, loss_cyc = [0.0], [0.0], [0.0], [0.0]
    q = 1.0
    while True:
        before = days[-1]
        first = 0
        for end in ends:
            chunk = slice(first, end + 1)
            first = end + 1
            s = _rescaled(soc0[chunk], 1.0 / q)
            span_days, dq_cal, dq_cyc, d_efc = _stretch(
                cell, t[chunk], s, t_k[chunk], q, loss_cal[-1], loss_cyc[-1]
            )
            days.append(days[-1] + span_days)
            efcs.append(efcs[-1] + d_efc)
            loss_cal.append(loss_cal[-1] + dq_cal)
            loss_cyc.append(loss_cyc[-1] + dq_cyc)
            q = 1.0 - loss_cal[-1] - loss_cyc[-1]
            if days[-1] / DAYS_PER_YEAR > horizon_years:
                cal, cyc = np.asarray(loss_cal), np.asarray(loss_cyc)
                return FadeTrajectory(
                    np.asarray(days), np.asarray(efcs), 1.0 - cal - cyc, 1.0 - cal, 1.0 - cyc
                )
        if days[-1] <= before:
            raise ValueError("the input has no duration to age over")


def _stretch(
    cell: CellModel,
    t_s: FloatArray,
    soc: FloatArray,
    t_k: FloatArray,
    q: float,
    loss_cal: float,
    loss_cyc: float,
) -> tuple[float, float, float, float]:
    """(duration [d], calendar loss added, cycle loss added, throughput [EFC]) of one stretch."""
    t_days = t_s / SECONDS_PER_DAY
    span_days = float(t_days[-1] - t_days[0])
    span_s = float(t_s[-1] - t_s[0])
    d_efc = float(np.sum(np.abs(np.ediff1d(soc, to_begin=0))) / 2) * q
    dod = float(np.max(soc) - np.min(soc))
    rate = np.abs(np.diff(soc) / np.diff(t_s / 3600.0))
    rate[rate < STORAGE_C_RATE] = 0.0
    c_rate = _trapezoid(rate, t_days[1:]) / span_days if span_days > 0 else 0.0
    c_rate *= q
    if span_s <= 0:  # a stretch of one sample ages nothing
        return 0.0, 0.0, 0.0, d_efc
    ua = anode_potential_v(soc)
    k_cal = _trapezoid(cell.k_cal(t_k, soc, ua, dod, c_rate), t_s) / span_s
    k_cyc = _trapezoid(cell.k_cyc(t_k, soc, ua, dod, c_rate), t_s) / span_s
    dq_cal = _power_law_step(loss_cal, span_days / cell.days_per_unit, k_cal, cell.p_cal)
    dq_cyc = _power_law_step(loss_cyc, d_efc / cell.efc_per_unit, k_cyc, cell.p_cyc)
    return span_days, dq_cal, dq_cyc, d_efc


def _power_law_step(y0: float, dx: float, k: float, p: float) -> float:
    """Growth of a loss on the trajectory ``y = k·x^p`` over ``dx``, from the loss ``y0`` reached.

    >>> _power_law_step(0.0, 4.0, 0.01, 0.5)  # from new: k·dx^p
    0.02
    >>> round(_power_law_step(0.02, 1.0, 0.01, 0.5), 6)  # at x = 4 the slope is k·p/√x
    0.0025
    """
    if dx == 0 or k == 0:
        return 0.0
    if y0 == 0:
        return float(k * dx**p / dx * dx)  # BLAST-Lite's order of operations
    return float(k * p * ((y0 / k) ** ((p - 1) / p)) * dx)


def _trapezoid(y: FloatArray, x: FloatArray) -> float:
    """The trapezoidal integral of ``y`` over ``x`` (0 for fewer than two samples)."""
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def _rescaled(soc: FloatArray, factor: float) -> FloatArray:
    """``soc`` with every change scaled by ``factor`` from its first value, clipped to 0..1 when
    it leaves that range."""
    scaled = np.cumsum(np.diff(soc, prepend=soc[0]) * factor) + soc[0]
    if np.max(scaled) > 1 or np.min(scaled) < 0:
        scaled = np.maximum(0, np.minimum(1, scaled))
    return np.asarray(scaled, dtype=np.float64)


def _breakpoints(t_s: FloatArray, soc: FloatArray) -> list[int]:
    """Indices that end the stretches (the last sample always ends one)."""
    turning = sorted(set(_cycle_ends(soc.tolist())))
    efc = (np.cumsum(np.abs(np.ediff1d(soc, to_begin=0))) / 2).tolist()
    t = t_s.tolist()
    ends: list[int] = []
    last = 0
    for i in turning:
        if t[i] - t[last] > MAX_STRETCH_S:
            # a long rest before this turning point: end a stretch every day through it
            for j in range(last, i):
                if t[j] - t[last] > MAX_STRETCH_S:
                    ends.append(j)
                    last = j
            continue
        if efc[i] - efc[last] > MAX_STRETCH_EFC:
            ends.append(i)
            last = i
    if not ends or ends[-1] != len(t) - 1:
        ends.append(len(t) - 1)
    return ends


def _reversals(series: Sequence[float]) -> Iterator[tuple[int, float]]:
    """The first point, every point where the series turns (the last of a plateau) and the last.

    >>> list(_reversals([0.0, 1.0, 1.0, 0.0, 0.5]))
    [(0, 0.0), (2, 1.0), (3, 0.0), (4, 0.5)]
    """
    if len(series) < 2:
        return
    x_last, x = series[0], series[1]
    d_last = x - x_last
    yield 0, x_last
    index = 0
    x_next = x
    for index in range(1, len(series) - 1):
        x_next = series[index + 1]
        if x_next == x:
            continue
        d_next = x_next - x
        if d_last * d_next < 0:
            yield index, x
        x, d_last = x_next, d_next
    if len(series) > 2:
        yield index + 1, x_next


def _cycle_ends(series: Sequence[float]) -> Iterator[int]:
    """End index of every full and half cycle found by rainflow counting (ASTM E1049-85, 5.4.4).

    >>> sorted(set(_cycle_ends([0.0, 1.0, 0.2, 0.8, 0.0])))
    [1, 3, 4]
    """
    points: deque[tuple[int, float]] = deque()
    for point in _reversals(series):
        points.append(point)
        while len(points) >= 3:
            x1, x2, x3 = points[-3][1], points[-2][1], points[-1][1]
            if abs(x3 - x2) < abs(x2 - x1):
                break
            if len(points) == 3:  # the range holds the start: a half cycle
                yield points[1][0]
                points.popleft()
            else:  # a full cycle: drop its peak and valley
                yield points[-2][0]
                last = points.pop()
                points.pop()
                points.pop()
                points.append(last)
    while len(points) > 1:
        yield points[1][0]
        points.popleft()
