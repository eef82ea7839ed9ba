"""Benchmark: what each strategy is worth on every shipped example, over a year.

Run: ``python bench/value.py [--days 365] [--jobs 2] [--json] [--example NAME ...]``.

Per example and strategy it prints the bill, the battery wear (the simulator's calibrated ageing
cost), the worst car's capacity fade (a year on average over the battery's life for periods of
four weeks or more, else over the period), the bill plus wear, and the saving against ``uncontrolled`` and ``smart-charge``; per
example, ``optimal``'s share of ``oracle``'s saving over ``uncontrolled`` and the forecast error
when the simulator reports one. Every comparison is net of wear and of the energy left stored
at the end (``net_cost``), in the site's currency.

Targets (issue 11): ``optimal`` >= ``smart-charge`` on every example; ``optimal`` >= 85 % of
``oracle``'s saving over ``uncontrolled`` where the household varies and prices are real.

With ``--json`` the last line is one object keyed by example, each holding
``optimal_vs_smart_charge``, ``oracle_vs_uncontrolled`` and ``optimal_vs_uncontrolled`` (savings,
positive when the first is cheaper), ``optimal_share_of_oracle``, ``currency`` and
``wear_fade_disagree`` (pairs of strategies whose calibrated wear cost and simulated capacity
fade move in opposite directions; empty when the two agree).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from voltbridge.sim.weather_sources import weather_text

STRATEGIES = ("uncontrolled", "smart-charge", "v2h-rules", "oracle", "optimal")


def example_files() -> dict[str, Path]:
    """The examples shipped inside the package, by name (file stem)."""
    folder = resources.files("voltbridge") / "examples"
    return {Path(str(f)).stem: Path(str(f)) for f in folder.iterdir() if str(f).endswith(".toml")}


def run_example(path: Path, days: int, seed: int) -> dict[str, Any]:
    """Simulate every strategy on one example; the JSON summary plus the time it took [s]."""
    from voltbridge.config import load_site
    from voltbridge.sim.simulate import simulate_site

    site = load_site(path)
    start = datetime(2025, 1, 1, tzinfo=ZoneInfo(site.location.timezone))
    t0 = time.perf_counter()
    summary, _, _ = simulate_site(site, start, days, list(STRATEGIES), seed=seed)
    summary["seconds"] = time.perf_counter() - t0
    summary["currency"] = site.tariff.currency or ""
    return summary


def net(s: dict[str, Any]) -> float:
    """Bill plus wear, less the energy left stored at the end [currency] (``net_cost``)."""
    return float(s["net_cost"])


def figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The headline comparisons of one example, net of wear."""
    st = summary["strategies"]
    base, smart = net(st["uncontrolled"]), net(st["smart-charge"])
    opt, oracle = net(st["optimal"]), net(st["oracle"])
    oracle_gain = base - oracle
    return {
        "optimal_vs_smart_charge": round(smart - opt, 2),
        "oracle_vs_uncontrolled": round(oracle_gain, 2),
        "optimal_vs_uncontrolled": round(base - opt, 2),
        "optimal_share_of_oracle": (
            round((base - opt) / oracle_gain, 4) if abs(oracle_gain) > 1e-9 else None
        ),
        "currency": summary.get("currency", ""),
    }


def _fade(row: dict[str, Any]) -> float:
    """Fade a year over the battery's life where the simulator gives it (periods of four weeks
    or more: the basis the wear prices are calibrated on), else over the period [%]."""
    life = row.get("life_fade_pct_per_year")
    return float(life if life is not None else row["capacity_fade_pct"])


def wear_disagreements(strategies: dict[str, Any], tol_pct: float = 1e-4) -> list[str]:
    """Pairs of strategies whose calibrated wear cost and simulated capacity fade move apart.

    The planner prices wear with the linear model calibrated on the cell models
    (``battery/calibrate.py``); the simulator ages each storage with the cell model itself. The
    two must rank the strategies the same way: for every storage and pair, the strategy with
    the higher wear cost must not lose less capacity. Fade differences under ``tol_pct`` [%]
    are ties. Each storage is compared where the JSON has ``wear_by_storage``, else the
    strategy's totals.
    """
    names = [s for s in STRATEGIES if s in strategies]

    def rows(name: str) -> dict[str, dict[str, Any]]:
        by = strategies[name].get("wear_by_storage")
        return by if isinstance(by, dict) and by else {"all": strategies[name]}

    bad: list[str] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ra, rb = rows(a), rows(b)
            for storage in sorted(set(ra) & set(rb)):
                d_cost = float(ra[storage]["ageing_cost"]) - float(rb[storage]["ageing_cost"])
                d_fade = _fade(ra[storage]) - _fade(rb[storage])
                if abs(d_fade) > tol_pct and d_cost * d_fade < 0:
                    bad.append(f"{a}/{b}" + ("" if storage == "all" else f" ({storage})"))
    return bad


def forecast_line(summary: dict[str, Any]) -> str:
    """The learned load and PV forecasts' errors against their baselines [kW]."""
    fc = summary.get("forecast")
    if not isinstance(fc, dict) or fc.get("load_mae_kw") is None:
        return "load forecast: not scored"
    base = fc.get("baseline_load_mae_kw")
    return (
        f"load forecast MAE {float(fc['load_mae_kw']):.3f} kW, bias "
        f"{float(fc.get('load_bias_kw') or 0.0):+.3f} kW (seasonal naive "
        + ("n/a" if base is None else f"{float(base):.3f} kW")
        + ")"
        + (
            ""
            if fc.get("pv_mae_kw") is None
            else f"; PV forecast MAE {float(fc['pv_mae_kw']):.3f} kW, bias "
            f"{float(fc.get('pv_bias_kw') or 0.0):+.3f} kW (yesterday's PV "
            f"{float(fc.get('baseline_pv_mae_kw') or 0.0):.3f} kW)"
        )
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--example", action="append", help="only these examples (file stem)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = p.parse_args(argv)
    files = example_files()
    names = sorted(args.example or files)
    unknown = [n for n in names if n not in files]
    if unknown:
        p.error(f"unknown example(s) {', '.join(unknown)}; shipped: {', '.join(sorted(files))}")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {n: pool.submit(run_example, files[n], args.days, args.seed) for n in names}
        results = {n: f.result() for n, f in futures.items()}
    console = Console(width=140)
    out: dict[str, Any] = {}
    for name in names:
        summary = results[name]
        st, cur = summary["strategies"], summary["currency"]
        base, smart = net(st["uncontrolled"]), net(st["smart-charge"])
        table = Table(
            title=f"{name}: {args.days} days from {summary['start'][:10]}, "
            f"weather: {weather_text(summary.get('weather'))}, {summary['seconds']:.0f} s"
        )
        for col in (
            "strategy",
            "bill",
            "wear",
            "fade %",
            "left stored",
            "net",
            "vs uncontrolled",
            "vs smart",
        ):
            unit = "" if col in ("strategy", "fade %") else f" [{cur}]"
            table.add_column(col + unit, justify="right")
        for s in STRATEGIES:
            row = st[s]
            table.add_row(
                s,
                f"{row['bill']:.2f}",
                f"{row.get('ageing_cost', 0.0):.2f}",
                f"{_fade(row):.4f}",
                f"{row.get('stored_value', 0.0):.2f}",
                f"{net(row):.2f}",
                f"{base - net(row):+.2f}",
                f"{smart - net(row):+.2f}",
            )
        console.print(table)
        fig = figures(summary)
        share = fig["optimal_share_of_oracle"]
        ok_smart = "yes" if fig["optimal_vs_smart_charge"] >= -0.005 else "NO"
        console.print(forecast_line(summary))
        fig["wear_fade_disagree"] = wear_disagreements(st)
        console.print(
            "wear cost and capacity fade rank the strategies alike: "
            + (
                "yes"
                if not fig["wear_fade_disagree"]
                else "NO: " + ", ".join(fig["wear_fade_disagree"])
            )
        )
        console.print(
            f"optimal >= smart-charge: {ok_smart}; optimal's share of oracle's saving: "
            + ("n/a" if share is None else f"{100 * share:.1f} % (target >= 85 %)")
        )
        out[name] = fig
    console.print(f"total {time.perf_counter() - t0:.0f} s with {args.jobs} processes")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
