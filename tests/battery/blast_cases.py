"""Inputs on which voltbridge's ageing equations are compared with BLAST-Lite's own outputs.

Plain numpy only, so that ``record_blast_fixtures`` can build them in a virtual environment that
has BLAST-Lite and not voltbridge. Each case stresses one part of the life simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

CELL_MODELS = ("NMC_Gr_75Ah_A", "Lfp_Gr_250AhPrismatic", "Nca_Gr_Panasonic3Ah_Battery")
"""The BLAST-Lite classes voltbridge uses (``battery.ageing.CELL_MODELS``)."""

# A weekday of commuting and V2H, as hour of day -> cell SoC (as in test_ageing.py).
COMMUTE_H = [0.0, 1.0, 5.0, 7.0, 8.0, 17.0, 18.0, 23.0, 24.0]
COMMUTE_SOC = [0.30, 0.30, 0.80, 0.80, 0.65, 0.65, 0.50, 0.30, 0.30]


@dataclass(frozen=True)
class Case:
    """One input: times [s], SoC [0..1], cell temperature [°C] and the horizon [years of 365 d]."""

    name: str
    time_s: Array
    soc: Array
    temperature_c: Array
    horizon_years: float


def _commute(days: int, step_s: float = 300.0) -> tuple[Array, Array]:
    t = np.arange(int(days * 86_400 / step_s) + 1, dtype=np.float64) * step_s
    return t, np.interp((t / 3600.0) % 24.0, COMMUTE_H, COMMUTE_SOC)


def cases() -> list[Case]:
    """The comparison inputs, built deterministically from formulas (no random numbers)."""
    out = []
    t, soc = _commute(28)
    # the simulator's use: a period once, 25 °C
    out.append(Case("commute-28d-25C", t, soc, np.full(t.size, 25.0), (t[-1] - 1) / 86_400 / 365))
    # a period repeated for a year under a temperature that swings daily (growth from a worn cell)
    out.append(Case("commute-28d-for-1y", t, soc, 20.0 + 5.0 * np.sin(t / 86_400.0), 1.0))
    # storage: held at 90 % and 35 °C, hourly (calendar fade only, one stretch a day)
    t = np.arange(60 * 24 + 1, dtype=np.float64) * 3600.0
    out.append(Case("held-90pct-35C", t, np.full(t.size, 0.9), np.full(t.size, 35.0), 59.9 / 365))
    # several uneven cycles a day (stretches end on throughput) at 15-min steps, 5..25 °C
    t = np.arange(14 * 96 + 1, dtype=np.float64) * 900.0
    soc = 0.5 + 0.45 * np.sin(t / 3600.0 * 0.9) * np.cos(t / 86_400.0 * 1.3)
    out.append(Case("uneven-cycles-14d", t, soc, 15.0 + 10.0 * np.sin(t / 50_000.0), 1.0))
    # long rests between cycles (stretches end every day through them), hot and cold
    t = np.arange(30 * 24 + 1, dtype=np.float64) * 3600.0
    day = t / 86_400.0
    soc = np.where(np.floor(day) % 5 == 0, 0.5 + 0.4 * np.sin(2 * np.pi * day), 0.5)
    out.append(Case("rests-between-cycles-30d", t, soc, 5.0 + 35.0 * (day % 2 > 1), 29.5 / 365))
    # full 0..100 % cycles: SoC swings rescaled for the worn cell leave 0..1 and are clipped
    t = np.arange(10 * 48 + 1, dtype=np.float64) * 1800.0
    soc = 0.5 - 0.5 * np.cos(2 * np.pi * t / 43_200.0)
    out.append(
        Case("full-cycles-clipped-2y", t, np.clip(soc, 0.0, 1.0), np.full(t.size, 30.0), 2.0)
    )
    return out


def sample_indices(n: int, count: int = 40) -> list[int]:
    """About ``count`` indices spread over ``0..n-1``, the first and the last included."""
    return sorted({int(i) for i in np.linspace(0, n - 1, min(n, count)).round()})
