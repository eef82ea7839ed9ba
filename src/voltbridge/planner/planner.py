"""The planner: builds the LP from a request, solves it with HiGHS, and returns a checked Plan."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from voltbridge.core.timegrid import FloatArray
from voltbridge.core.types import Plan, PlanCost, StoragePlan
from voltbridge.planner import model as m
from voltbridge.planner import overlap as ov
from voltbridge.planner.hot import HotSolver
from voltbridge.planner.lp import IntArray, LinearProgram, LpSolution, NoSolution, solve
from voltbridge.planner.request import PlanRequest
from voltbridge.planner.warnings import plan_warnings

SIMULTANEOUS_TOL_KW = 1e-6
"""Charge and discharge (or import and export) both above this at one step count as simultaneous."""

MAX_EXCLUSIVE_ROUNDS = 4
"""Rounds of adding binaries before falling back to fixing directions."""

MIP_NODE_BUDGET = 1000
"""Branch-and-bound nodes all rounds of one plan may use together; once spent, the remaining
overlap is settled by fixing directions (LPs only). A work bound, so plans stay reproducible;
``Planner.last_stats.proven_optimal`` then says so."""


@dataclass
class BuiltModel:
    """An assembled LP with the indices needed to read its solution."""

    lp: LinearProgram
    grid: m.GridCols
    storages: list[m.StorageCols]
    scale: float
    value_end: float


def exclusive_pairs(
    req: PlanRequest, g: m.GridCols, cols: list[m.StorageCols]
) -> dict[int, tuple[IntArray, IntArray, FloatArray, FloatArray]]:
    """Per storage index (-1 for the grid): the two directions' columns and their limits [kW]."""
    n = req.grid.n
    pairs = {-1: (g.imp, g.exp, np.full(n, req.import_limit_kw), np.full(n, req.export_limit_kw))}
    for i, (s, sc) in enumerate(zip(req.storages, cols, strict=True)):
        pairs[i] = (sc.charge, sc.discharge, s.max_charge_kw, s.max_discharge_kw)
    return pairs


def build_model(
    req: PlanRequest,
    exclusive: dict[int, np.ndarray] | None = None,
    forced: dict[int, np.ndarray] | None = None,
) -> BuiltModel:
    """Assemble the LP.

    ``exclusive`` maps a storage index (-1 = grid) to steps that get a binary on/off choice
    (with the hull cut on all its steps); ``forced`` maps one to a direction per step
    (+1: only charge/import, -1: only discharge/export, 0: free).
    """
    lp = LinearProgram()
    scale = m.penalty_scale(req)
    value_end = m.terminal_value(req)
    g = m.define_grid(lp, req, scale)
    cols = [m.define_storage(lp, req, s, i, value_end, scale) for i, s in enumerate(req.storages)]
    m.define_balance(lp, req, g, cols)
    for i, (s, sc) in enumerate(zip(req.storages, cols, strict=True)):
        m.define_soc_dynamics(lp, req, s, sc, i, scale)
        m.define_departures(lp, req, s, sc, i, scale)
        m.define_discharge_budget(lp, req, s, sc, i, scale)
    m.define_export_rule(lp, req, g, req.storages, cols)
    m.define_backup(lp, req, g, req.storages, cols, scale)
    m.define_demand_charges(lp, req, g)
    pairs = exclusive_pairs(req, g, cols)
    for key, steps in sorted((exclusive or {}).items()):
        on, off, on_max, off_max = pairs[key]
        name = "grid" if key < 0 else f"s{key}"
        m.define_exclusive_hull(lp, name, on, off, on_max, off_max)
        m.define_exclusive(lp, name, on[steps], off[steps], on_max[steps], off_max[steps])
    for key, direction in sorted((forced or {}).items()):
        on, off, _, _ = pairs[key]
        lp.fix_to_zero(np.concatenate((on[direction < 0], off[direction > 0])))
    return BuiltModel(lp=lp, grid=g, storages=cols, scale=scale, value_end=value_end)


def simultaneous_steps(built: BuiltModel, req: PlanRequest, x: FloatArray) -> dict[int, np.ndarray]:
    """Steps where a storage charges and discharges, or the grid imports and exports, at once."""
    found: dict[int, np.ndarray] = {}
    for key, (a, b, _, _) in exclusive_pairs(req, built.grid, built.storages).items():
        both = np.flatnonzero((x[a] > SIMULTANEOUS_TOL_KW) & (x[b] > SIMULTANEOUS_TOL_KW))
        if both.size:
            found[key] = both
    return found


def merge_steps(into: dict[int, np.ndarray], found: dict[int, np.ndarray]) -> None:
    """Add ``found`` steps to ``into``, per key."""
    for key, steps in found.items():
        into[key] = np.union1d(into.get(key, np.zeros(0, dtype=np.int64)), steps)


def round_directions(
    built: BuiltModel, req: PlanRequest, x: FloatArray, forced: dict[int, np.ndarray]
) -> None:
    """Fix each simultaneous step to the direction that moves more energy (updates ``forced``)."""
    pairs = exclusive_pairs(req, built.grid, built.storages)
    for key, steps in simultaneous_steps(built, req, x).items():
        a, b, _, _ = pairs[key]
        direction = forced.setdefault(key, np.zeros(req.grid.n, dtype=np.int64))
        direction[steps] = np.where(x[a[steps]] >= x[b[steps]], 1, -1)


def paying_steps(req: PlanRequest, key: int) -> np.ndarray:
    """Steps where overlap of ``key`` (-1: the grid) can earn money, so binaries may be needed.

    A storage gains from burning energy in its losses only where energy has a negative value
    (import or export price below 0); the grid gains from importing to export only where export
    pays more than import costs.
    """
    if key < 0:
        return np.flatnonzero(req.price_export > req.price_import)
    return np.flatnonzero((req.price_import < 0) | (req.price_export < 0))


def only_paying(req: PlanRequest, found: dict[int, np.ndarray]) -> bool:
    """Whether every overlapping step found is one where overlap can pay (see
    :func:`paying_steps`); then only binaries can settle it."""
    return bool(found) and all(
        np.isin(steps, paying_steps(req, key)).all() for key, steps in found.items()
    )


@dataclass
class PlanStats:
    """How the last plan was found: for benchmarks and tests, not part of the plan."""

    lp_overlap: bool = False
    """The first LP optimum charged and discharged (or imported and exported) at once."""
    throughput_lp: bool = False
    """A second LP (least throughput at the same objective) removed the overlap."""
    mip_rounds: int = 0
    """Branch-and-bound solves (0: the plan is an LP optimum)."""
    mip_nodes: int = 0
    """Branch-and-bound nodes of all rounds together."""
    mip_stopped: bool = False
    """A branch and bound stopped at its node limit (its answer is feasible, not proven best)."""
    fixed_directions: bool = False
    """Branch and bound hit its limits and directions were fixed instead."""
    start: str = "cold"
    """How the first LP started: "cold", or hot from the last plan's basis ("updated": same
    structure, "carried": basis carried over by key; see :mod:`voltbridge.planner.hot`)."""

    @property
    def proven_optimal(self) -> bool:
        """Whether the plan is a proven optimum (of the LP, or of the MIP within its gap)."""
        return not (self.fixed_directions or self.mip_stopped)


class Planner:
    """Plans every storage of a site over a horizon.

    One planner serves one site: with ``hot`` (the default) it keeps its last LP and basis and
    starts each re-plan from there (:class:`hot.HotSolver`), a few times faster. Every plan is
    an optimum of its request either way (hot answers are certified, see :func:`hot.certify`),
    but where several plans cost the same, which one comes back may depend on the plans before:
    the same sequence of requests always gives the same plans. ``hot=False`` solves every
    request cold, so the same request always gives the same plan.
    """

    def __init__(self, hot: bool = True) -> None:
        self.last_stats = PlanStats()
        self._hot = HotSolver() if hot else None

    def plan(self, req: PlanRequest) -> Plan:
        """Solve ``req`` and return the plan with its costs and warnings.

        The LP is solved first. Where it charges and discharges one storage at once (or imports
        and exports at once) the overlap is first removed at no cost where it only burns a free
        surplus (:func:`overlap.remove_free_overlap`, then a least-throughput LP at the same
        objective). Only where overlap remains, which negative prices can make pay, do those
        steps (and every step where overlap could pay) get binaries, for at most
        ``MAX_EXCLUSIVE_ROUNDS`` branch-and-bound solves and ``MIP_NODE_BUDGET`` nodes in all
        together. If that does not settle it, each such step is fixed to its dominant direction
        and the LP re-solved.
        """
        t0 = time.perf_counter()
        req.validate()
        stats = PlanStats()
        built = build_model(req)
        first = self._first_solve(built.lp)
        stats.start = "cold" if self._hot is None else self._hot.last_mode
        stats.lp_overlap = bool(simultaneous_steps(built, req, first.x))
        sol = self._without_free_overlap(req, built, first)
        found = simultaneous_steps(built, req, sol.x)
        # Overlap only where it can pay would survive a least-throughput LP: straight to binaries.
        if found and not only_paying(req, found) and (settled := least_throughput(req, built, sol)):
            stats.throughput_lp = True
            sol, found = settled, {}
        exclusive: dict[int, np.ndarray] = {}
        forced: dict[int, np.ndarray] = {}
        nodes_left = MIP_NODE_BUDGET
        while found and stats.mip_rounds < MAX_EXCLUSIVE_ROUNDS and nodes_left > 0:
            for key, steps in found.items():
                widen = np.arange(req.grid.n) if key in exclusive else paying_steps(req, key)
                found[key] = np.union1d(steps, widen)
            merge_steps(exclusive, found)
            try:
                built = build_model(req, exclusive)
                stats.mip_rounds += 1
                mip = solve(built.lp, max_nodes=nodes_left)
                nodes_left -= max(1, mip.nodes)
                stats.mip_nodes += mip.nodes
                stats.mip_stopped |= not mip.optimal
                sol = self._without_free_overlap(req, built, mip)
            except NoSolution:
                break
            found = simultaneous_steps(built, req, sol.x)
        while simultaneous_steps(built, req, sol.x):
            stats.fixed_directions = True
            round_directions(built, req, sol.x, forced)
            built = build_model(req, forced=forced)
            sol = self._without_free_overlap(req, built, solve(built.lp))
        self.last_stats = stats
        solve_ms = (time.perf_counter() - t0) * 1000.0
        return extract_plan(req, built, sol, solve_ms)

    def _first_solve(self, lp: LinearProgram) -> LpSolution:
        """The plain LP of a request, hot from the last one's basis where the planner is hot."""
        if self._hot is None:
            return solve(lp)
        return self._hot.solve(lp)

    @property
    def hot_rejections(self) -> int:
        """Hot answers that failed their certificate and were solved cold (0 expected)."""
        return 0 if self._hot is None else self._hot.rejected

    @staticmethod
    def _without_free_overlap(req: PlanRequest, built: BuiltModel, sol: LpSolution) -> LpSolution:
        """``sol`` with the overlap that costs nothing removed (the same objective)."""
        if not simultaneous_steps(built, req, sol.x):
            return sol
        arrays = ov.Arrays.of(built.lp)
        x = ov.remove_free_overlap(req, arrays, built.grid, built.storages, sol.x)
        return sol if x is sol.x else replace(sol, x=x)


def least_throughput(req: PlanRequest, built: BuiltModel, sol: LpSolution) -> LpSolution | None:
    """An LP optimum as cheap as ``sol`` without overlap, or None if the least-throughput LP
    (:func:`overlap.least_throughput`) still overlaps. ``built`` must have no binaries."""
    arrays = ov.Arrays.of(built.lp)
    fresh = build_model(req)
    x = ov.least_throughput(fresh.lp, arrays, fresh.grid, fresh.storages, arrays.objective(sol.x))
    if x is None:
        return None
    x = ov.remove_free_overlap(req, arrays, built.grid, built.storages, x)
    if simultaneous_steps(built, req, x):
        return None
    return replace(sol, x=x)


def storage_soc(s_soc0: float, sc: m.StorageCols, x: FloatArray) -> FloatArray:
    """Stored energy at every edge [kWh] from the solution's segments."""
    return np.concatenate(([s_soc0], x[sc.segments].sum(axis=0)))


def extract_plan(req: PlanRequest, built: BuiltModel, sol: LpSolution, solve_ms: float) -> Plan:
    """Read the solution into a Plan, with the cost split by term and the slack by name."""
    x, g, dt = sol.x, built.grid, req.grid.dt_h
    imp, exp = x[g.imp], x[g.exp]
    scale, pen = built.scale, req.penalties
    storages: list[StoragePlan] = []
    degradation = 0.0
    penalties = float(np.sum(pen.unserved_load * scale * dt * x[g.unserved]))
    slack: dict[str, float] = {"unserved_load": float(np.sum(x[g.unserved] * dt))}
    terminal = 0.0
    for s, sc in zip(req.storages, built.storages, strict=True):
        ch, dis, soc = x[sc.charge], x[sc.discharge], storage_soc(s.soc0_kwh, sc, x)
        degradation += float(np.sum(s.wear.throughput_per_kwh * dis * dt / s.eta_discharge))
        above = np.maximum(soc[1:] - s.wear.calendar_threshold_kwh, 0.0)
        degradation += float(np.sum(s.wear.calendar_per_kwh_h * above * dt))
        terminal += built.value_end * float(soc[-1])
        short = np.maximum(
            np.minimum(s.reserve_kwh[1:], max(s.max_soc_kwh, s.soc0_kwh)) - soc[1:], 0
        )
        penalties += float(np.sum(pen.mobility_reserve * scale * dt * short))
        slack[f"reserve:{s.name}"] = float(short.max(initial=0.0))
        for label, idx, weight in (
            ("unmet_driving", sc.drive_slack, m.unmet_driving_price(req, s, 1.0)),
            ("departure", sc.departure_slack, pen.departure),
            ("discharge_budget", sc.budget_slack, pen.discharge_budget),
        ):
            penalties += float(weight * scale * np.sum(x[idx]))
            slack[f"{label}:{s.name}"] = float(np.sum(x[idx]))
        driving = s.driving_kwh.copy()
        if sc.drive_slack.size:
            driving[sc.drive_steps] -= x[sc.drive_slack]
        storages.append(
            StoragePlan(
                name=s.name,
                kind=s.kind,
                power_kw=ch - dis,
                soc_kwh=soc,
                plugged_in=s.plugged_in,
                driving_kwh=driving,
                capacity_kwh=s.capacity_kwh,
                reserve_kwh=s.reserve_kwh,
            )
        )
    if g.backup_slack.size:
        b = x[g.backup_slack]
        penalties += float(np.sum(pen.backup_reserve * scale * dt[g.backup_edges - 1] * b))
        slack["backup_reserve"] = float(np.max(b, initial=0.0))
    demand = sum(dc.rate_per_kw * float(x[g.peaks[j]]) for j, dc in enumerate(req.demand_charges))
    import_cost = float(np.sum(req.price_import * imp * dt))
    export_revenue = float(np.sum(req.price_export * exp * dt))
    total = import_cost - export_revenue + degradation + demand + penalties
    cost = PlanCost(
        total=total,
        import_cost=import_cost,
        export_revenue=export_revenue,
        degradation=degradation,
        demand_charge=demand,
        penalties=penalties,
        terminal_value=terminal,
    )
    plan = Plan(
        grid=req.grid,
        price_import=req.price_import,
        price_export=req.price_export,
        load_kw=req.load_kw,
        pv_kw=req.pv_kw,
        pv_used_kw=x[g.pv],
        grid_kw=imp - exp,
        unserved_kw=x[g.unserved],
        storages=tuple(storages),
        cost=cost,
        solve_ms=solve_ms,
        slack=slack,
    )
    return replace(plan, warnings=tuple(plan_warnings(req, plan)))
