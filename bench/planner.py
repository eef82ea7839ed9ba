"""Planner timing: build and solve a realistic commuter home at 96, 192 and 672 steps of 15 min.

Run with ``python bench/planner.py [--cases N] [--seed S] [--json]`` (about ten seconds plus the
random set). Prints, per horizon, the median and
90th percentile of ``Planner().plan(req)`` (build, solve, extract, warnings) and of
``build_model(req)`` alone over repeated runs, the LP's size and HiGHS's simplex iterations.

The site: one 77 kWh car on an 11 kW bidirectional charger (V2H), away 07:30-18:00 on weekdays
with a 7 kWh commute, back to 80 % by each departure and a 20 % mobility reserve at home; a
13.5 kWh home battery; 6 kWp of PV on a clear-sky bell curve; a two-level time-of-use price
(0.40 from 16:00 to 21:00, else 0.15) with a 0.05 feed-in; 5 kWh of backup kept at all times.
A last row plans the same home over two days with negative prices from 11:00 to 15:00 (5 runs):
the LP relaxation then charges and discharges at once and the planner re-solves with binaries.

Then a controller's sequence of warm re-plans of the 48 h home (``--replans``, default 300;
tests/planner/rolling.py: the horizon rolls 15 min each time, the state of charge follows the
last plan, forecasts and prices move a little), timed end to end from the state to the Plan
with a planner kept between re-plans (hot-started, planner/hot.py) and with cold solves.

Then a seeded random set (bench/random_cases.py: 1-4 storages, 24-96 h, hourly or 15-min steps,
negative prices in about a third, PV surplus, export limits, departure targets; 1,000 cases by
default): the share planned as a plain LP (overlap of the first LP removed at no cost included),
the branch-and-bound rounds, median, p99 and max times of ``Planner().plan`` (second call of
each case) and the largest relative gap to the independent LP of tests/planner/reference_lp.py
(the MILP with a binary on every step where the planner needed binaries). ``--json`` ends the
output with one line of these figures.

``--evcc`` instead runs evcc's optimizer test cases (bench/evcc_cases/, converted by
bench/evcc.py): per case the median of ``Planner().plan`` over ``--evcc-runs`` cold runs, the
branch-and-bound rounds, whether it was planned as a plain LP, voltbridge's money against evcc's
expected schedule, and the totals with the largest relative gap to the independent LP.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voltbridge.battery.cost import wear_cost
from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Plan
from voltbridge.planner import (
    Departure,
    Planner,
    PlanRequest,
    StorageSpec,
    build_model,
)
from voltbridge.planner import lp as lp_module

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]
from evcc import load_cases, print_timings, time_case  # noqa: E402
from random_cases import random_cases  # noqa: E402

from tests.planner.reference_lp import reference_objective  # noqa: E402
from tests.planner.rolling import rolling  # noqa: E402

FloatArray = npt.NDArray[np.float64]
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
STEP_MIN = 15
WARMUP, RUNS = 3, 30
TARGETS_MS = {192: 5.0, 672: 30.0}


def hour_of_day(grid: TimeGrid) -> FloatArray:
    """Hour of the day (UTC, the site's clock here) at each step start [h]."""
    seconds = (grid.starts_s - grid.edges_s[0]).astype(np.float64)
    return np.asarray(seconds / 3600.0 % 24.0, dtype=np.float64)


def day_index(grid: TimeGrid) -> npt.NDArray[np.int64]:
    """Days since the grid's start (0 = Monday) at each step start."""
    return np.asarray((grid.starts_s - grid.edges_s[0]) // 86400, dtype=np.int64)


def commuter_car(grid: TimeGrid) -> StorageSpec:
    """Away 07:30-18:00 Monday to Friday, 3.5 kWh each way, 80 % by every departure."""
    n, h, day = grid.n, hour_of_day(grid), day_index(grid)
    cap = 77.0
    weekday = (day % 7) < 5
    away = weekday & (h >= 7.5) & (h < 18.0)
    driving = np.zeros(n)
    out_trip = weekday & (h >= 7.5) & (h < 8.0)
    back_trip = weekday & (h >= 17.5) & (h < 18.0)
    driving[out_trip | back_trip] = 3.5 / 2  # two 15-min steps each way
    leaving = [k for k in range(1, n) if away[k] and not away[k - 1]]
    at_home = np.concatenate((~away[:1], ~away))
    reserve = 0.2 * cap
    plugged = ~away
    return StorageSpec(
        name="ev",
        kind="vehicle",
        capacity_kwh=cap,
        soc0_kwh=0.5 * cap,
        eta_charge=0.92,
        eta_discharge=0.92,
        max_charge_kw=np.where(plugged, 11.0, 0.0),
        max_discharge_kw=np.where(plugged, 11.0, 0.0),
        reserve_kwh=np.where(at_home, reserve, 0.0),
        max_soc_kwh=cap,
        driving_kwh=driving,
        departures=tuple(
            Departure(
                edge=k, target_kwh=0.8 * cap, at=datetime.fromtimestamp(int(grid.edges_s[k]), UTC)
            )
            for k in leaving
        ),
        can_export=False,
        wear=wear_cost(cap, "nmc"),
        backup_counts=at_home.astype(np.float64),
    )


def home_battery(grid: TimeGrid) -> StorageSpec:
    n, cap = grid.n, 13.5
    return StorageSpec(
        name="battery",
        kind="battery",
        capacity_kwh=cap,
        soc0_kwh=0.5 * cap,
        eta_charge=0.95,
        eta_discharge=0.95,
        max_charge_kw=np.full(n, 5.0),
        max_discharge_kw=np.full(n, 5.0),
        reserve_kwh=np.full(n + 1, 0.1 * cap),
        max_soc_kwh=cap,
        driving_kwh=np.zeros(n),
        wear=wear_cost(cap, "lfp"),
    )


def commuter_home(steps: int, negative_midday: bool = False) -> PlanRequest:
    grid = TimeGrid.regular(START, steps * STEP_MIN / 60, STEP_MIN)
    n, h = grid.n, hour_of_day(grid) + STEP_MIN / 120  # step midpoints
    pv = 6.0 * np.clip(np.sin(np.pi * (h - 6.0) / 14.0), 0.0, None) ** 1.5 * 0.85
    load = 0.4 + 1.2 * np.exp(-(((h - 7.5) / 1.0) ** 2)) + 2.0 * np.exp(-(((h - 19.0) / 1.5) ** 2))
    price = np.where((h >= 16) & (h < 21), 0.40, 0.15)
    if negative_midday:
        price = np.where((h >= 11) & (h < 15), -0.05, price)
    return PlanRequest(
        grid=grid,
        load_kw=load,
        pv_kw=pv,
        price_import=price,
        price_export=np.full(n, 0.05),
        import_limit_kw=20.0,
        export_limit_kw=5.0,
        pv_export=True,
        storages=(commuter_car(grid), home_battery(grid)),
        backup_kwh=np.full(n + 1, 5.0),
    )


@dataclass
class SolveStats:
    """What HiGHS reported for every solve of one plan, and how long its runs took."""

    iterations: list[int]
    run_ms: float

    @property
    def solves(self) -> int:
        return len(self.iterations)


def solve_stats(req: PlanRequest, runs: int = 5) -> SolveStats:
    """Plan with a solver that records its simplex iterations and the time spent in ``run``.

    Returns the last plan's iterations and the median over ``runs`` plans of the summed run time.
    """
    base = lp_module._Solver
    seen: list[int] = []
    spent: list[float] = []

    class Recording(base):  # type: ignore[misc, valid-type]
        def run(self) -> Any:
            t0 = time.perf_counter()
            status = super().run()
            spent.append((time.perf_counter() - t0) * 1000.0)
            seen.append(int(self.getInfo().simplex_iteration_count))
            return status

    lp_module._Solver = Recording
    per_plan: list[float] = []
    try:
        for _ in range(runs):
            seen.clear()
            spent.clear()
            Planner().plan(req)
            per_plan.append(sum(spent))
    finally:
        lp_module._Solver = base
    return SolveStats(list(seen), statistics.median(per_plan))


def timings_ms(fn: Callable[[], object], runs: int = RUNS) -> list[float]:
    for _ in range(WARMUP):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def p90(values: list[float]) -> float:
    return float(np.percentile(values, 90))


def row(label: str, req: PlanRequest, runs: int = RUNS, target: float | None = None) -> list[str]:
    plan_ms = timings_ms(lambda: Planner().plan(req), runs)
    build_ms = timings_ms(lambda: build_model(req), runs)
    lp = build_model(req).lp
    nnz = sum(a.size for a in lp.a_val)
    stats = solve_stats(req)
    med = statistics.median(plan_ms)
    verdict = "" if target is None else f"<= {target:g} ms " + ("ok" if med <= target else "MISSED")
    return [
        label,
        str(req.grid.n),
        f"{med:.2f}",
        f"{p90(plan_ms):.2f}",
        f"{statistics.median(build_ms):.2f}",
        f"{p90(build_ms):.2f}",
        f"{stats.run_ms:.2f}",
        f"{lp.num_row} x {lp.num_col}",
        str(nnz),
        "+".join(str(i) for i in stats.iterations) + ("" if stats.solves == 1 else " (MIP)"),
        verdict,
    ]


HEADERS = [
    "case",
    "steps",
    "plan med ms",
    "plan p90 ms",
    "build med ms",
    "build p90 ms",
    "HiGHS run ms",
    "LP rows x cols",
    "nonzeros",
    "simplex iters",
    "target (median)",
]


def print_table(rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text without rich
        widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
        for r in [HEADERS, *rows]:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        return
    table = Table(title=f"Planner timing ({RUNS} runs after {WARMUP} warm-up, 15-min steps)")
    for h in HEADERS:
        table.add_column(h, justify="left" if h in ("case", "LP rows x cols") else "right")
    for r in rows:
        table.add_row(*r)
    Console(width=200).print(table)


@dataclass
class RandomSet:
    """Figures of the random case set."""

    cases: int
    lp_share: float
    rounds: dict[int, int]
    rescued: int
    not_proven: int
    times_ms: list[float]
    max_gap: float

    def summary(self) -> dict[str, float | int]:
        t = self.times_ms
        return {
            "random_cases": self.cases,
            "random_lp_share": round(self.lp_share, 4),
            "random_median_ms": round(statistics.median(t), 3),
            "random_p99_ms": round(float(np.percentile(t, 99)), 3),
            "random_max_ms": round(max(t), 3),
            "random_max_cost_gap": float(f"{self.max_gap:.3g}"),
            "random_not_proven_optimal": self.not_proven,
        }


def random_set(count: int, seed: int, check: bool = True) -> RandomSet:
    """Plan every case twice (the second call timed) and compare with the reference LP."""
    times: list[float] = []
    rounds: dict[int, int] = {}
    rescued = not_proven = lp_only = 0
    worst = 0.0
    for req in random_cases(count, seed):
        planner = Planner()
        planner.plan(req)
        t0 = time.perf_counter()
        plan = planner.plan(req)
        times.append((time.perf_counter() - t0) * 1000.0)
        st = planner.last_stats
        rounds[st.mip_rounds] = rounds.get(st.mip_rounds, 0) + 1
        lp_only += st.mip_rounds == 0 and not st.fixed_directions
        rescued += st.lp_overlap and st.mip_rounds == 0
        not_proven += not st.proven_optimal
        if check:
            ref = reference_objective(req, exclusive=st.mip_rounds > 0 or st.fixed_directions)
            ours = plan.cost.total - plan.cost.terminal_value
            worst = max(worst, abs(ours - ref) / max(1.0, abs(ref)))
    return RandomSet(count, lp_only / count, rounds, rescued, not_proven, times, worst)


def print_random(r: RandomSet) -> None:
    t = r.times_ms
    rounds = ", ".join(f"{k}: {v}" for k, v in sorted(r.rounds.items()))
    print(
        f"random set: {r.cases} cases, {100 * r.lp_share:.1f} % planned as a plain LP "
        f"({r.rescued} of them after removing free overlap); branch-and-bound rounds per case "
        f"{{{rounds}}}; {r.not_proven} stopped by the MIP work bound (feasible, not proven best)"
    )
    print(
        f"  plan median {statistics.median(t):.2f} ms, p99 {np.percentile(t, 99):.1f} ms, "
        f"max {max(t):.1f} ms; largest cost gap to the reference LP {r.max_gap:.2g} (relative)"
    )


REPLAN_STEPS = 192
WARM_TARGETS_MS = {"median": 2.0, "p99": 10.0}


@dataclass
class Replans:
    """Times of a controller's sequence of re-plans, hot and cold [ms]."""

    warm_ms: list[float]
    cold_ms: list[float]
    moving_prices_ms: list[float]
    starts: dict[str, int]
    rejected: int

    def summary(self) -> dict[str, float | int]:
        return {
            "replan_warm_median_ms": round(statistics.median(self.warm_ms), 3),
            "replan_warm_p99_ms": round(float(np.percentile(self.warm_ms, 99)), 3),
            "replan_cold_median_ms": round(statistics.median(self.cold_ms), 3),
            "replan_cold_p99_ms": round(float(np.percentile(self.cold_ms, 99)), 3),
            "replan_warm_moving_prices_median_ms": round(
                statistics.median(self.moving_prices_ms), 3
            ),
            "replan_hot_rejected": self.rejected,
        }


def replans(count: int) -> Replans:
    """The commuter home (car + battery + PV, 48 h of 15 min) re-planned ``count`` times as a
    controller does: the horizon rolls 15 min each time, the state of charge follows the last
    plan (+-0.2 kWh measurement noise), load and PV forecasts move up to 3 % per step, and the
    time-of-use prices stay what the tariff says. Timed end to end from the state to the Plan
    (request cut from the forecasts, then ``Planner.plan``), with a planner kept between
    re-plans (warm, hot-started) and with every request solved cold; and warm again with the
    import prices also moving up to 3 % per step (a dynamic tariff's forecast). The first
    (cold) call of a warm planner is left out."""
    base = commuter_home(REPLAN_STEPS + count)
    warm, cold = Planner(), Planner(hot=False)
    warm_ms: list[float] = []
    cold_ms: list[float] = []
    starts: dict[str, int] = {}

    def plan_warm(req: PlanRequest) -> Plan:
        plan = warm.plan(req)
        starts[warm.last_stats.start] = starts.get(warm.last_stats.start, 0) + 1
        return plan

    for _ in rolling(base, REPLAN_STEPS, count, plan_warm, 1, times_ms=warm_ms, price_noise=0):
        pass
    for _ in rolling(base, REPLAN_STEPS, count, cold.plan, 1, times_ms=cold_ms, price_noise=0):
        pass
    moving = Planner()
    moving_ms: list[float] = []
    for _ in rolling(base, REPLAN_STEPS, count, moving.plan, 1, times_ms=moving_ms):
        pass
    rejected = warm.hot_rejections + moving.hot_rejections
    return Replans(warm_ms[1:], cold_ms, moving_ms[1:], starts, rejected)


def print_replans(r: Replans) -> None:
    print(f"warm re-plans: {len(r.warm_ms)} of the commuter home, 48 h of 15-min steps, rolled")
    print(
        "  15 min each (state to Plan; starts "
        + ", ".join(f"{k}: {v}" for k, v in sorted(r.starts.items()))
        + f"; {r.rejected} hot answers rejected by the certificate)"
    )
    rows = [
        ("warm (hot start)", r.warm_ms),
        ("cold (every solve)", r.cold_ms),
        ("warm, prices moving", r.moving_prices_ms),
    ]
    print(f"  {'planner':20s} {'median ms':>10s} {'p99 ms':>8s} {'max ms':>8s}  target")
    for label, t in rows:
        med, p99 = statistics.median(t), float(np.percentile(t, 99))
        target = ""
        if label == "warm (hot start)":
            ok = med <= WARM_TARGETS_MS["median"] and p99 <= WARM_TARGETS_MS["p99"]
            target = "median <= 2, p99 <= 10 " + ("ok" if ok else "MISSED")
        print(f"  {label:20s} {med:10.2f} {p99:8.2f} {max(t):8.2f}  {target}")


def machine() -> str:
    """The machine in words, for the printed figures."""
    import os

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"
    )


def evcc_set(runs: int) -> dict[str, float | int]:
    """Time and check evcc's cases (module docstring); return the totals for ``--json``."""
    rows, worst = [], 0.0
    for case in load_cases():
        rows.append(time_case(case, runs))
        planner = Planner(hot=False)
        plan = planner.plan(case.request)
        st = planner.last_stats
        ref = reference_objective(case.request, exclusive=st.mip_rounds > 0 or st.fixed_directions)
        ours = plan.cost.total - plan.cost.terminal_value
        worst = max(worst, abs(ours - ref) / max(1.0, abs(ref)))
    figures = print_timings(rows)
    print(f"largest relative gap to the independent LP: {worst:.2g}")
    figures["evcc_max_cost_gap"] = float(f"{worst:.3g}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="random cases (default 1000)")
    parser.add_argument("--seed", type=int, default=12, help="seed of the random set")
    parser.add_argument("--replans", type=int, default=300, help="warm re-plans (default 300)")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON figures")
    parser.add_argument("--evcc", action="store_true", help="only evcc's optimizer test cases")
    parser.add_argument("--evcc-runs", type=int, default=7, help="timed runs per evcc case")
    args = parser.parse_args()
    t0 = time.perf_counter()
    print(f"machine: {machine()}")
    if args.evcc:
        evcc = evcc_set(args.evcc_runs)
        print(f"total {time.perf_counter() - t0:.1f} s")
        if args.json:
            print(json.dumps({"machine": machine(), **evcc}))
        return
    rows = [
        row("commuter home", commuter_home(steps), target=TARGETS_MS.get(steps))
        for steps in (96, 192, 672)
    ]
    neg = commuter_home(192, negative_midday=True)
    rows.append(row("negative midday", neg, runs=5))
    print_table(rows)
    warm = replans(args.replans) if args.replans > 1 else None
    if warm is not None:
        print_replans(warm)
    rand = random_set(args.cases, args.seed) if args.cases > 0 else None
    if rand is not None:
        print_random(rand)
    print(f"total {time.perf_counter() - t0:.1f} s; plan = build + solve + extract + warnings")
    if args.json:
        figures: dict[str, object] = {"machine": machine()}
        if warm is not None:
            figures.update(warm.summary())
        if rand is not None:
            figures.update(rand.summary())
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
