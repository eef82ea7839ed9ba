"""Benchmark: the day-ahead PV forecast on every shipped example, in several seasons.

Run: ``python bench/pv_forecast.py [--days 60] [--starts 01-01 04-01 07-01 10-01] [--year 2025]``.

For each example and each start it builds the simulated world (the site's typical weather) for
``--days`` days, with no history before the start (as ``voltbridge simulate`` does), and prints
the hourly day-ahead MAE and bias [kW] of the simulator's learned PV forecast
(``forecast/pv_learned.py``, scored by ``sim.forecasting.forecast_metrics``), of yesterday's PV
(persistence, the baseline it must beat) and of the former method (the clear-sky PV scaled by
yesterday's clear-sky index), computed here from the world's arrays.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.table import Table


def former_method(pv: np.ndarray, clear: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """Hourly day-ahead forecasts of the former method for days 1.. [kW]: clear-sky PV times
    yesterday's PV/clear-sky energy ratio in [0, 1.2] (the typical index when the sun was down)."""
    out = []
    for d in range(1, pv.shape[0]):
        c = clear[d - 1].sum()
        k = typical[d] if c <= 1e-6 * 24 else min(max(pv[d - 1].sum() / c, 0.0), 1.2)
        out.append(clear[d] * k)
    return np.asarray(out)


def main() -> None:
    from voltbridge.config import load_site
    from voltbridge.sim.forecasting import forecast_metrics
    from voltbridge.sim.world import build_world

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--starts", nargs="+", default=["01-01", "04-01", "07-01", "10-01"])
    args = ap.parse_args()
    folder = resources.files("voltbridge") / "examples"
    paths = sorted(Path(str(f)) for f in folder.iterdir() if str(f).endswith(".toml"))
    table = Table(title=f"day-ahead PV forecast, hourly MAE (bias) \\[kW], {args.days} days")
    for col in ("example", "start", "learned", "persistence", "former", "learned/persistence"):
        table.add_column(col, justify="left" if col in ("example", "start") else "right")
    worst = 0.0
    for path in paths:
        site = load_site(path)
        tz = ZoneInfo(site.location.timezone)
        for start in args.starts:
            month, day = (int(x) for x in start.split("-"))
            world = build_world(site, datetime(args.year, month, day, tzinfo=tz), args.days)
            m = forecast_metrics(world)
            per_day = world.steps_per_day
            n = world.n_sim // per_day * per_day
            hourly = world.steps_per_day // 24

            def days(a: np.ndarray) -> np.ndarray:
                return a[:n].reshape(-1, hourly).mean(axis=1).reshape(-1, 24)  # noqa: B023

            pv, clear = days(world.pv_kw), days(world.clearsky_pv_kw)
            assert world.pv_clear_index is not None
            typical = world.pv_clear_index[:n:per_day]
            err = former_method(pv, clear, typical) - pv[1:]
            ratio = m["pv_mae_kw"] / m["baseline_pv_mae_kw"]
            worst = max(worst, ratio)
            table.add_row(
                path.stem,
                start,
                f"{m['pv_mae_kw']:.3f} ({m['pv_bias_kw']:+.3f})",
                f"{m['baseline_pv_mae_kw']:.3f} ({m['baseline_pv_bias_kw']:+.3f})",
                f"{np.abs(err).mean():.3f} ({err.mean():+.3f})",
                f"{ratio:.3f}",
            )
    console = Console(width=120)
    console.print(table)
    console.print(f"worst learned/persistence: {worst:.3f} (below 1: the learned forecast wins)")


if __name__ == "__main__":
    main()
