"""Calibrating the planner's linear wear prices on the cell models (``battery/ageing.py``).

The planner needs wear as two linear prices (``battery/cost.py``): one per kWh discharged and
one per kWh held above a SoC threshold per hour. This module derives both from NREL's cell
models, per chemistry and cell temperature, so that the plan's wear and the simulated capacity
fade agree in direction (issue 11: with uncalibrated prices the planner's wear rose with V2H
while the cell model's fade fell, because parking full ages a pack faster than shallow cycling).

Over a reference life of ``LIFE_YEARS`` years of one repeated daily pattern:

* **calendar**: the fade of a pack held at 100 % SoC minus one held at the threshold
  (``CALENDAR_THRESHOLD``, 30 %: about the lowest a car sits, its mobility reserve), per year,
  taken as growing linearly between them;
* **cycle**: the fade of a daily ``CYCLE_SOC`` swing (a typical V2H evening) minus that of a pack
  held at the swing's mean SoC, per equivalent full cycle; ``EOL_FADE`` divided by it is the
  cycle life.

Both are life averages, not first-year rates: the models' fade slows with age (power laws in
time and throughput), and a price per kWh must hold over the pack's life (first-year rates put
several times more weight on where the SoC sits than on cycling). The table
(``wear_table.json``) is computed by ``python -m voltbridge.battery.calibrate`` (about a minute)
and checked by the tests; prices at other temperatures are interpolated linearly and clamped to
the table's range.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from voltbridge.battery.ageing import CELL_MODELS, capacity_fade

LIFE_YEARS = 10.0
"""Reference life over which fade is averaged [years]."""
EOL_FADE = 0.2
"""Fade at which a pack's useful life ends [fraction of capacity]: 80 % capacity left."""
CALENDAR_THRESHOLD = 0.3
"""SoC above which calendar wear is priced [fraction]."""
CYCLE_SOC = (0.5, 0.8)
"""The daily swing the cycle price is calibrated on [SoC fraction, low and high]."""
TEMPERATURES_C = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0)
"""Cell temperatures of the table [°C]."""
TABLE_FILE = "wear_table.json"


@dataclass(frozen=True)
class Calibration:
    """Wear of one chemistry at one cell temperature, from the cell model.

    Attributes:
        cycle_life_efc: equivalent full cycles of the calibration swing to ``EOL_FADE`` [cycles].
        calendar_extra_fade_per_year: extra fade of a pack held full over one held at the
            threshold [fraction of capacity per year].
    """

    cycle_life_efc: float
    calendar_extra_fade_per_year: float


def _fade_pct(soc: np.ndarray, time_s: np.ndarray, temperature_c: float, chemistry: str) -> float:
    result = capacity_fade(time_s, soc, temperature_c, chemistry, years=LIFE_YEARS)
    assert result.fade_pct_after_years is not None
    return result.fade_pct_after_years


def calibrate(chemistry: str, temperature_c: float) -> Calibration:
    """Run the cell model for ``chemistry`` at ``temperature_c`` [°C] (a few seconds)."""
    time_s = np.arange(0.0, 365 * 86_400.0 + 1.0, 900.0)
    flat = np.ones_like(time_s)
    full = _fade_pct(flat, time_s, temperature_c, chemistry)
    at_threshold = _fade_pct(flat * CALENDAR_THRESHOLD, time_s, temperature_c, chemistry)
    low, high = CYCLE_SOC
    phase = (time_s / 86_400.0) % 1.0
    swing = high - (high - low) * np.where(phase < 0.5, 2.0 * phase, 2.0 - 2.0 * phase)
    cycled = _fade_pct(swing, time_s, temperature_c, chemistry)
    held = _fade_pct(flat * (low + high) / 2.0, time_s, temperature_c, chemistry)
    efc = float(np.abs(np.diff(swing)).sum() / 2.0) * LIFE_YEARS
    per_efc = max(cycled - held, 1e-9) / 100.0 / efc
    return Calibration(
        cycle_life_efc=EOL_FADE / per_efc,
        calendar_extra_fade_per_year=max(full - at_threshold, 0.0) / 100.0 / LIFE_YEARS,
    )


def compute_table() -> dict[str, Any]:
    """The whole table, every chemistry at every temperature (about a minute)."""
    rows: dict[str, list[list[float]]] = {}
    for chem in sorted(CELL_MODELS):
        rows[chem] = []
        for t in TEMPERATURES_C:
            c = calibrate(chem, t)
            rows[chem].append(
                [t, round(c.cycle_life_efc, 1), round(c.calendar_extra_fade_per_year, 7)]
            )
    return {
        "about": "voltbridge.battery.calibrate: [temperature_c, cycle_life_efc, "
        "calendar_extra_fade_per_year] per chemistry; regenerate with "
        "`python -m voltbridge.battery.calibrate`",
        "life_years": LIFE_YEARS,
        "eol_fade": EOL_FADE,
        "calendar_threshold": CALENDAR_THRESHOLD,
        "cycle_soc": list(CYCLE_SOC),
        "rows": rows,
    }


@lru_cache(maxsize=1)
def _load_table() -> dict[str, Any]:
    text = (resources.files("voltbridge.battery") / TABLE_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def calibrated(chemistry: str, temperature_c: float) -> Calibration:
    """The table's wear for ``chemistry`` at ``temperature_c`` [°C], interpolated linearly
    between its temperatures and clamped to its range; an unknown chemistry is an error."""
    key = chemistry.strip().lower()
    table = _load_table()["rows"]
    rows = table.get(key)
    if rows is None:
        known = ", ".join(sorted(table))
        raise ValueError(f"unknown battery chemistry {chemistry!r}: use one of {known}")
    if not math.isfinite(temperature_c):
        raise ValueError(f"temperature_c is {temperature_c}; give a cell temperature [°C]")
    t = np.array([r[0] for r in rows])
    life = float(np.interp(temperature_c, t, [r[1] for r in rows]))
    cal = float(np.interp(temperature_c, t, [r[2] for r in rows]))
    return Calibration(cycle_life_efc=life, calendar_extra_fade_per_year=cal)


def main() -> None:
    """Recompute the table and write it beside this module."""
    path = resources.files("voltbridge.battery") / TABLE_FILE
    table = compute_table()
    with open(str(path), "w", encoding="utf-8") as f:
        json.dump(table, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
