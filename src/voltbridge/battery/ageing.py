"""Capacity fade of a vehicle's pack over a simulated state-of-charge history (NREL's cell models).

What is modelled: NREL's semi-empirical BLAST-Lite cell models (``battery/cells.py``, run by
``battery/life.py``, checked against BLAST-Lite 1.1.1's own outputs) add **calendar ageing** (elapsed time,
cell temperature, state of charge through the graphite anode potential) and **cycle ageing**
(charge throughput in equivalent full cycles, depth of discharge, C-rate, temperature). The input
is split into day-long or one-cycle chunks, each chunk's stressors set the fade rates, and fade
grows along the models' power-law trajectories, so a profile repeated for years fades more slowly
each year. One cell stands for the whole pack: every cell at the pack's SoC and temperature.

Not modelled: resistance growth and power fade; the knee of late life and lithium plating (fast or
cold charging); spread between cells and balancing; the BMS's hidden buffer (pass the cells' SoC,
not the dashboard's); the heat of charging and driving unless the temperature given includes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from voltbridge.battery.cells import CELLS
from voltbridge.battery.life import DAYS_PER_YEAR, SECONDS_PER_DAY, simulate_fade
from voltbridge.core.timegrid import FloatArray

MAX_STEP_S = 3_600.0
"""Coarsest time step accepted [s]: ageing depends on the daily SoC swing, which coarser data hides."""
MIN_STEP_S = 300.0
"""Finer inputs are thinned to about this step [s]; it keeps a year near 0.3 s and loses little."""

# Why these cells: NMC and LFP come from one study (Gasper et al., J. Energy Storage (2023),
# doi:10.1016/j.est.2023.109042: large-format commercial cells aged over temperature, SoC, depth of
# discharge and C-rate), so the two chemistries are compared on the same footing. Their fade for a
# year of commuting and V2H at 25 °C (about 1-2 %) sits near fleet data (Geotab telematics: 1.8 %/year
# over ~10,000 EVs in 2024, 2.3 %/year over 22,700 in 2026, 1.5 %/year for cars rarely DC
# fast-charged), whereas BLAST-Lite's NMC811/Gr-Si LG M50 and MJ1 models give 8-12 %/year there.
CELL_MODELS: dict[str, str] = {
    # 'NMC-Gr A' of the paper above: ~75 Ah large-format pouch, energy-to-power ratio 16 1/h.
    "nmc": "NMC_Gr_75Ah_A",
    # >250 Ah prismatic LFP/graphite of the paper above, the format of LFP packs (BYD, CATL).
    "lfp": "Lfp_Gr_250AhPrismatic",
    # Panasonic 18650B NCA/graphite, the Tesla-type cell: calendar data Keil et al.,
    # J. Electrochem. Soc. 163 (2016) A1872; cycling Preger et al., J. Electrochem. Soc. 167 (2020) 120532.
    "nca": "Nca_Gr_Panasonic3Ah_Battery",
    # NMC is the most common EV chemistry.
    "unknown": "NMC_Gr_75Ah_A",
}
"""The cell model (``battery.cells.CELLS``, named as BLAST-Lite's class) for each pack chemistry."""


@dataclass(frozen=True, eq=False)
class AgeingResult:
    """Capacity fade over an input period (and, if asked, after some years of repeating it).

    Attributes:
        fade_pct: capacity lost over the input period [% of initial capacity].
        relative_capacity: capacity at the end of the period over initial capacity [-].
        daily_fade_pct: fade at the end of each whole day of the input [% of initial capacity].
        calendar_fade_pct: the part of ``fade_pct`` due to time [% of initial capacity].
        cycle_fade_pct: the part of ``fade_pct`` due to charge throughput [% of initial capacity].
        equivalent_full_cycles: half the summed absolute SoC change of the input [cycles].
        model: the cell model used (its BLAST-Lite class name).
        years: the horizon asked for [years of 365 d], or None.
        fade_pct_after_years: fade after ``years`` of repeating the input [% of initial], or None.
    """

    fade_pct: float
    relative_capacity: float
    daily_fade_pct: FloatArray
    calendar_fade_pct: float
    cycle_fade_pct: float
    equivalent_full_cycles: float
    model: str
    years: float | None = None
    fade_pct_after_years: float | None = None


def cell_model_for(chemistry: str) -> str:
    """The cell model's name for a pack chemistry (``nmc``, ``lfp``, ``nca``, ``unknown``).

    >>> cell_model_for("LFP")
    'Lfp_Gr_250AhPrismatic'
    """
    try:
        return CELL_MODELS[chemistry.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(CELL_MODELS))
        raise ValueError(f"unknown battery chemistry {chemistry!r}: use one of {known}") from None


def capacity_fade(
    time_s: FloatArray,
    soc_frac: FloatArray,
    temperature_c: FloatArray | float,
    chemistry: str,
    years: float | None = None,
) -> AgeingResult:
    """Capacity fade of a pack that follows ``soc_frac`` over ``time_s``.

    Args:
        time_s: strictly increasing sample times [s], steps of at most an hour (5-15 min intended).
        soc_frac: state of charge of the cells at each time [fraction, 0..1].
        temperature_c: cell temperature, one value or one per sample [°C].
        chemistry: pack chemistry, see :func:`cell_model_for`.
        years: if given, the input is repeated until this many years [years of 365 d] and
            ``fade_pct_after_years`` reports the fade then. Runtime grows about 0.2 s per year.

    The first sample is the start of life. Deterministic: the same input gives the same output.
    """
    t, soc, temp = _checked(time_s, soc_frac, temperature_c)
    if years is not None and not (math.isfinite(years) and years > 0):
        raise ValueError(f"years must be a positive number, got {years!r}")
    efc = float(np.abs(np.diff(soc)).sum() / 2.0)
    t, soc, temp = _thinned(t - t[0], soc, temp)
    period_d = float(t[-1] / SECONDS_PER_DAY)
    horizon_d = max(period_d, years * DAYS_PER_YEAR) if years is not None else period_d

    name = cell_model_for(chemistry)
    trajectory = simulate_fade(CELLS[name], t, soc, temp, horizon_d / DAYS_PER_YEAR)
    # The simulation's clock skips one sample step between stretches, so results are read on it.
    days = trajectory.t_days
    relative = {"q": trajectory.q, "q_t": trajectory.q_cal, "q_EFC": trajectory.q_cyc}

    def fade_at(output: str, day: float | FloatArray) -> Any:
        return np.interp(day, days, 100.0 * (1.0 - relative[output]))

    fade = float(fade_at("q", period_d))
    return AgeingResult(
        fade_pct=fade,
        relative_capacity=1.0 - fade / 100.0,
        daily_fade_pct=np.asarray(
            fade_at("q", np.arange(1.0, math.floor(period_d + 1e-9) + 1.0)), dtype=np.float64
        ),
        calendar_fade_pct=float(fade_at("q_t", period_d)),
        cycle_fade_pct=float(fade_at("q_EFC", period_d)),
        equivalent_full_cycles=efc,
        model=name,
        years=years,
        fade_pct_after_years=None if years is None else float(fade_at("q", years * DAYS_PER_YEAR)),
    )


def pack_temperature_c(
    ambient_c: FloatArray, dt_h: float, time_constant_h: float = 6.0, offset_c: float = 0.0
) -> FloatArray:
    """Temperature of a parked pack that lags the air around it [°C].

    ASSUMPTION, not a fitted model: a pack of several hundred kilograms without active thermal
    management while parked follows ambient (``ambient_c`` [°C], steps of ``dt_h`` [h]) as a
    first-order lag with ``time_constant_h`` [h], shifted by ``offset_c`` [°C] (e.g. a heated
    garage). It starts at the first ambient value. Prefer the BMS's temperature where known.

    >>> pack_temperature_c(np.array([10.0, 20.0, 20.0]), dt_h=6.0).round(2).tolist()
    [10.0, 16.32, 18.65]
    """
    if dt_h <= 0 or time_constant_h <= 0:
        raise ValueError("dt_h and time_constant_h must be positive")
    ambient = np.asarray(ambient_c, dtype=np.float64)
    keep = math.exp(-dt_h / time_constant_h)
    pack = np.empty_like(ambient)
    level = float(ambient[0]) if ambient.size else 0.0
    for i, value in enumerate(ambient.tolist()):
        level = keep * level + (1.0 - keep) * value
        pack[i] = level
    return pack + offset_c


def _checked(
    time_s: FloatArray, soc_frac: FloatArray, temperature_c: FloatArray | float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    t = np.asarray(time_s, dtype=np.float64)
    soc = np.asarray(soc_frac, dtype=np.float64)
    temp = np.broadcast_to(np.asarray(temperature_c, dtype=np.float64), t.shape).copy()
    if t.ndim != 1 or t.size < 2 or soc.shape != t.shape:
        raise ValueError("time_s and soc_frac must be 1-D arrays of the same length, at least 2")
    if not (np.isfinite(t).all() and np.isfinite(soc).all() and np.isfinite(temp).all()):
        raise ValueError("time_s, soc_frac and temperature_c must be finite (no NaN or inf)")
    steps = np.diff(t)
    if steps.min() <= 0 or steps.max() > MAX_STEP_S:
        raise ValueError(
            f"time_s must increase in steps of at most {MAX_STEP_S:.0f} s; "
            f"got steps from {steps.min():g} to {steps.max():g} s: resample the input"
        )
    if soc.min() < 0.0 or soc.max() > 1.0:
        raise ValueError("soc_frac is a fraction of capacity and must stay within 0..1")
    return t, soc, temp


def _thinned(
    t: FloatArray, soc: FloatArray, temp: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Every k-th sample (and the last) so that steps are about ``MIN_STEP_S``."""
    stride = max(1, int(MIN_STEP_S // float(np.median(np.diff(t)))))
    if stride == 1:
        return t, soc, temp
    keep = np.arange(0, t.size, stride)
    if keep[-1] != t.size - 1:
        keep = np.append(keep, t.size - 1)
    return t[keep], soc[keep], temp[keep]
