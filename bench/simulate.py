"""Benchmark: a simulated year of an example home per strategy, its peak memory, and where the
time goes.

Run: ``python bench/simulate.py [--days 365] [--example NAME | --site FILE | --all-examples]
[--json] [--profile]``. Targets (issue 12): one simulated year of ``optimal`` at most 30 s, the
five strategies at most 60 s together, a year's simulation under 1 GB peak RSS.

Each strategy runs in its own child process (building its own world), so that the peak resident
set size of one strategy is not the peak of another: ``resource.getrusage`` reports a process's
high-water mark, which never goes down. ``optimal_year_s`` is the ``optimal`` run alone;
``all_strategies_year_s`` is one world build plus the five runs (what ``voltbridge simulate``
spends before summarising); ``peak_rss_mb`` is the largest child's peak. With ``--days`` other
than 365 the ``*_year_s`` figures are scaled to a year linearly and ``scaled_from_days`` says so
(short runs overstate: the first re-plan's one-off imports, about 2 s, are scaled up too).
With ``--all-examples`` the three figures are each example's worst (the targets hold "on any
example"), and every example's figures are listed under ``examples``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "voltbridge" / "examples"
STRATEGIES = ("uncontrolled", "smart-charge", "v2h-rules", "oracle", "optimal")
YEAR_DAYS = 365
TARGETS = {"optimal_year_s": 30.0, "all_strategies_year_s": 60.0, "peak_rss_mb": 1024.0}


def machine() -> str:
    """The machine in words (CPU model, CPUs, system), for the printed figures."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def peak_rss_mb() -> float:
    """This process's peak resident set size [MB] (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


class Stopwatch:
    """Wall time spent inside chosen methods [s], summed over calls (a ``perf_counter`` pair per
    call: about a microsecond, well under 1 % of a re-plan or a controller tick)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: Any, method: str, label: str) -> None:
        inner = getattr(owner, method)
        seconds = self.seconds
        seconds[label] = 0.0

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - t0

        setattr(owner, method, timed)


def breakdown(watch: Stopwatch, run_s: float) -> dict[str, float]:
    """Where ``optimal``'s run went [s]: the planner's LP (``Planner.plan``: build, solve,
    extract), the plan's inputs (forecasts, price vectors, the request; the first day's
    statsforecast compilation included), the controller's tick around them, and the simulator's
    own per-step work (plant physics, the runner)."""
    w = watch.seconds
    return {
        "planner_s": round(w["plan"], 3),
        "plan_inputs_s": round(w["make_plan"] - w["plan"], 3),
        "controller_tick_s": round(w["setpoints"] - w["make_plan"], 3),
        "simulator_s": round(run_s - w["setpoints"], 3),
    }


def child(site_path: Path, days: int, strategy: str) -> dict[str, Any]:
    """Build the world and run one strategy in this process; seconds, plans and peak RSS, and for
    ``optimal`` where its time went (``breakdown``)."""
    from voltbridge.config import load_site
    from voltbridge.planner import Planner
    from voltbridge.sim.controlled import ControlledOptimal, SimPlanSource
    from voltbridge.sim.runner import make_strategy, run
    from voltbridge.sim.world import build_world

    watch = Stopwatch()
    if strategy == "optimal":
        watch.wrap(Planner, "plan", "plan")
        watch.wrap(SimPlanSource, "make_plan", "make_plan")
        watch.wrap(ControlledOptimal, "setpoints", "setpoints")

    site = load_site(site_path)
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(site.location.timezone))
    t0 = time.perf_counter()
    world = build_world(site, start, days, seed=0)
    world_s = time.perf_counter() - t0
    strat = make_strategy(strategy)
    t0 = time.perf_counter()
    run(world, strat)
    run_s = time.perf_counter() - t0
    plans = getattr(strat, "plans", None)
    out: dict[str, Any] = {
        "strategy": strategy,
        "world_s": round(world_s, 3),
        "run_s": round(run_s, 3),
        "plans": plans,
        "steps": world.n_sim,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if watch.seconds:
        out["breakdown"] = breakdown(watch, run_s)
    return out


def in_child(site_path: Path, days: int, strategy: str) -> dict[str, Any]:
    """``child`` in a fresh interpreter (its own peak RSS); its last stdout line is the JSON."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        strategy,
        "--site",
        str(site_path),
        "--days",
        str(days),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{strategy} on {site_path.name} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_site(site_path: Path, days: int) -> dict[str, Any]:
    """Every strategy on one site, each in its own process; a printed table and the figures."""
    runs = [in_child(site_path, days, name) for name in STRATEGIES]
    scale = YEAR_DAYS / days
    print(f"\n{site_path.stem}: {days} days at 5-minute steps")
    print(
        f"  {'strategy':14s} {'world s':>8s} {'run s':>8s} {'per day ms':>10s} {'plans':>7s}"
        f" {'peak RSS MB':>12s}"
    )
    for r in runs:
        plans = "" if r["plans"] is None else str(r["plans"])
        print(
            f"  {r['strategy']:14s} {r['world_s']:8.2f} {r['run_s']:8.2f}"
            f" {1000 * r['run_s'] / days:10.0f} {plans:>7s} {r['peak_rss_mb']:12.0f}"
        )
    optimal = next(r for r in runs if r["strategy"] == "optimal")
    world_s = min(r["world_s"] for r in runs)
    figures = {
        "optimal_year_s": round(optimal["run_s"] * scale, 2),
        "all_strategies_year_s": round((world_s + sum(r["run_s"] for r in runs)) * scale, 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "optimal_plans": optimal["plans"],
        "runs": runs,
    }
    if "breakdown" in optimal:
        n_plans, n_steps = max(optimal["plans"] or 1, 1), optimal["steps"]
        per_plan = {"planner_s", "plan_inputs_s"}
        print(f"  where optimal's time went (a year: x{scale:.1f}):")
        for part, secs in optimal["breakdown"].items():
            unit, what = (n_plans, "re-plan") if part in per_plan else (n_steps, "step")
            print(
                f"    {part:18s} {secs:8.2f} s  {1000 * secs / unit:7.3f} ms a {what:7s}"
                f"  year {secs * scale:7.1f} s"
            )
    for key, target in TARGETS.items():
        ok = "ok" if figures[key] <= target else "MISSED"
        print(f"  {key} = {figures[key]} (target <= {target:g}) {ok}")
    return figures


def profile_optimal(site_path: Path, days: int) -> None:
    """The top of a cProfile of ``optimal`` (the profiler slows it down by about a quarter)."""
    from voltbridge.config import load_site
    from voltbridge.sim.runner import make_strategy, run
    from voltbridge.sim.world import build_world

    site = load_site(site_path)
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(site.location.timezone))
    short = build_world(site, start, days, seed=0)
    profile = cProfile.Profile()
    profile.enable()
    run(short, make_strategy("optimal"))
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(18)
    print(f"\nprofile of optimal over {days} days (cumulative, with profiler overhead):")
    print(out.getvalue().split("\n", 6)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=YEAR_DAYS)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--site", type=Path, help="a site file")
    where.add_argument("--example", help="an example's name (src/voltbridge/examples)")
    where.add_argument("--all-examples", action="store_true", help="every shipped example")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON figures")
    parser.add_argument("--profile", action="store_true", help="profile optimal over 14 days")
    parser.add_argument("--child", choices=STRATEGIES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.example:
        site_paths = [EXAMPLES / f"{args.example.removesuffix('.toml')}.toml"]
    elif args.all_examples:
        site_paths = sorted(EXAMPLES.glob("*.toml"))
    else:
        site_paths = [args.site or EXAMPLES / "ev9-california.toml"]
    if args.child:
        print(json.dumps(child(site_paths[0], args.days, args.child)))
        return
    print(f"machine: {machine()}")
    per_site = {p.stem: bench_site(p, args.days) for p in site_paths}
    if args.profile:
        profile_optimal(site_paths[0], min(args.days, 14))
    if args.json:
        print(json.dumps(summary_figures(per_site, args.days)))


def summary_figures(per_site: dict[str, dict[str, Any]], days: int) -> dict[str, Any]:
    """The JSON line: the machine, each target figure at its worst example, every example's."""
    figures: dict[str, Any] = {
        "machine": machine(),
        "days": days,
        **{k: max(s[k] for s in per_site.values()) for k in TARGETS},
        "examples": per_site,
    }
    if days != YEAR_DAYS:
        figures["scaled_from_days"] = days
    return figures


if __name__ == "__main__":
    main()
