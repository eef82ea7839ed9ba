"""An independent LP of the planning problem, written again with scipy's ``linprog``.

It is built from the problem's definition (ARCHITECTURE.md, the docstrings of
:mod:`voltbridge.planner.request` and the equations in :mod:`voltbridge.planner.model`'s
docstrings), not from the planner's model code: plain variables for every quantity (stored
energy per edge, reserve shortfall, energy above the calendar threshold, energy above the
reserve that counts as backup) where the planner uses segments, its own row layout, and scipy's
interface to HiGHS instead of highspy. Only the two prices the planner chooses rather than
rules (terminal value and the price of unmet driving) are imported, as in :mod:`.checks`.
Its optimum is the planner's ``cost.total - cost.terminal_value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from voltbridge.planner.model import terminal_value, unmet_driving_price
from voltbridge.planner.request import PlanRequest

from .checks import price_scale

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class Problem:
    """Columns (cost, bounds) and rows (triplets with bounds) of ``min c x, lo <= A x <= hi``."""

    cost: list[float] = field(default_factory=list)
    bounds: list[tuple[float, float | None]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    constant: float = 0.0
    integer: list[int] = field(default_factory=list)

    def var(
        self, count: int, cost: FloatArray | float, lo: FloatArray | float, hi: object
    ) -> IntArray:
        """Add ``count`` variables; ``hi`` None means unbounded above."""
        start = len(self.cost)
        c = np.broadcast_to(np.asarray(cost, dtype=np.float64), (count,))
        low = np.broadcast_to(np.asarray(lo, dtype=np.float64), (count,))
        high = [None] * count if hi is None else np.broadcast_to(np.asarray(hi), (count,)).tolist()
        self.cost += c.tolist()
        self.bounds += list(zip(low.tolist(), high, strict=True))
        return np.arange(start, start + count, dtype=np.int64)

    def row(self, terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        """Add ``lo <= sum coef * x[col] <= hi``."""
        r = len(self.row_lo)
        for col, coef in terms:
            self.rows.append(r)
            self.cols.append(int(col))
            self.vals.append(float(coef))
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def either_or(self, on: int, off: int, on_max: float, off_max: float) -> None:
        """At most one of ``x[on]``, ``x[off]`` positive: a binary z, ``on <= on_max z``,
        ``off <= off_max (1 - z)``."""
        if on_max <= 0 or off_max <= 0:
            return
        z = self.var(1, 0.0, 0.0, 1.0)
        self.integer.append(int(z[0]))
        self.row([(on, 1.0), (int(z[0]), -on_max)], -np.inf, 0.0)
        self.row([(off, 1.0), (int(z[0]), off_max)], -np.inf, off_max)

    def solve(self) -> float:
        """The optimal objective (plus the constant) [currency]."""
        a = coo_matrix(
            (self.vals, (self.rows, self.cols)), shape=(len(self.row_lo), len(self.cost))
        )
        lo, hi = np.array(self.row_lo), np.array(self.row_hi)
        eq = lo == hi
        ub_rows = np.flatnonzero(~eq)
        a_csr = a.tocsr()
        # linprog takes A_ub x <= b_ub and A_eq x = b_eq: two-sided rows become two one-sided ones.
        upper = ub_rows[np.isfinite(hi[ub_rows])]
        lower = ub_rows[np.isfinite(lo[ub_rows])]
        from scipy.sparse import vstack

        a_ub = vstack([a_csr[upper], -a_csr[lower]])
        b_ub = np.concatenate((hi[upper], -lo[lower]))
        integrality = np.zeros(len(self.cost), dtype=np.int64)
        integrality[self.integer] = 1
        options: dict[str, float] = {
            "primal_feasibility_tolerance": 1e-9,
            "dual_feasibility_tolerance": 1e-9,
        }
        if self.integer:
            options["mip_rel_gap"] = 1e-9
        res = linprog(
            np.array(self.cost),
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_csr[np.flatnonzero(eq)],
            b_eq=lo[eq],
            bounds=self.bounds,
            method="highs",
            integrality=integrality,
            options=options,
        )
        assert res.status == 0, res.message
        return float(res.fun) + self.constant


def reference_objective(req: PlanRequest, exclusive: bool = False) -> float:
    """The least total cost of ``req`` less the terminal value of the energy left [currency].

    With ``exclusive`` no storage charges and discharges in one step and the grid never imports
    and exports at once (a binary per step and pair: a MILP); without, the LP relaxation.
    """
    inf = np.inf
    n, dt = req.grid.n, req.grid.dt_h
    unit, pen = price_scale(req), req.penalties
    p = Problem()
    # Site: import, export (only PV surplus and exporting storages), PV used, unserved load.
    imp = p.var(n, req.price_import * dt, 0.0, req.import_limit_kw)
    exp = p.var(n, -req.price_export * dt, 0.0, req.export_limit_kw)
    pv = p.var(n, 0.0, 0.0, req.pv_kw)
    unserved = p.var(n, pen.unserved_load * unit * dt, 0.0, req.load_kw)
    v = terminal_value(req)
    balance: list[list[tuple[int, float]]] = [
        [(imp[t], 1.0), (exp[t], -1.0), (pv[t], 1.0), (unserved[t], 1.0)] for t in range(n)
    ]
    surplus = req.pv_export & (req.pv_kw > req.load_kw)
    export_rule = [[(exp[t], 1.0)] + ([(pv[t], -1.0)] if surplus[t] else []) for t in range(n)]
    backup_terms: list[list[tuple[int, float]]] = [[] for _ in range(n + 1)]
    for s in req.storages:
        e_max = max(s.max_soc_kwh, s.soc0_kwh)
        c = p.var(n, 0.0, 0.0, s.max_charge_kw)
        d = p.var(n, s.wear.throughput_per_kwh * dt / s.eta_discharge, 0.0, s.max_discharge_kw)
        e = p.var(n, 0.0, 0.0, e_max)  # e[k - 1] is the stored energy at edge k = 1..n
        p.cost[e[-1]] -= v
        unmet = p.var(n, unmet_driving_price(req, s, unit), 0.0, s.driving_kwh)
        reserve = np.minimum(s.reserve_kwh[1:], e_max)
        short = p.var(n, pen.mobility_reserve * unit * dt, 0.0, None)
        for t in range(n):
            if exclusive:
                p.either_or(c[t], d[t], float(s.max_charge_kw[t]), float(s.max_discharge_kw[t]))
            balance[t] += [(c[t], -1.0), (d[t], 1.0)]
            if s.can_export:
                export_rule[t].append((d[t], -1.0))
            # e[t+1] = e[t] + eta_c c dt - d dt / eta_d - driving + unmet
            terms = [(e[t], 1.0), (c[t], -s.eta_charge * dt[t]), (d[t], dt[t] / s.eta_discharge)]
            terms.append((unmet[t], -1.0))
            if t > 0:
                terms.append((e[t - 1], -1.0))
            rhs = -float(s.driving_kwh[t]) + (s.soc0_kwh if t == 0 else 0.0)
            p.row(terms, rhs, rhs)
            p.row([(e[t], 1.0), (short[t], 1.0)], float(reserve[t]), inf)  # short >= R - e
        w = s.wear
        if w.calendar_per_kwh_h > 0:
            above_t = p.var(n, w.calendar_per_kwh_h * dt, 0.0, None)
            for t in range(n):
                p.row([(above_t[t], 1.0), (e[t], -1.0)], -w.calendar_threshold_kwh, inf)
        for dep in s.departures:
            target = min(dep.target_kwh, e_max)
            if dep.edge == 0:
                p.constant += pen.departure * unit * max(0.0, target - s.soc0_kwh)
                continue
            y = p.var(1, pen.departure * unit, 0.0, None)
            p.row([(e[dep.edge - 1], 1.0), (y[0], 1.0)], target, inf)
        if s.discharge_budget_kwh is not None:
            b = p.var(1, pen.discharge_budget * unit, 0.0, None)
            terms = [(d[t], float(dt[t])) for t in range(n)] + [(b[0], -1.0)]
            p.row(terms, -inf, s.discharge_budget_kwh)
        for w in s.budget_windows:  # per local day, in stored energy
            b = p.var(1, pen.discharge_budget * unit, 0.0, None)
            terms = [(d[t], float(dt[t]) / s.eta_discharge) for t in range(w.first, w.stop)]
            p.row([*terms, (b[0], -1.0)], -inf, w.stored_kwh)
        if req.backup_kwh is not None:
            counts = np.ones(n + 1) if s.backup_counts is None else s.backup_counts
            # Energy above the reserve: 0 <= a <= e - R + short, i.e. max(0, e - R) at the optimum
            # (raising ``short`` to count more costs the reserve penalty, above the backup's).
            above_r = p.var(n, 0.0, 0.0, None)
            for t in range(n):
                p.row([(above_r[t], 1.0), (e[t], -1.0), (short[t], -1.0)], -inf, -float(reserve[t]))
                if counts[t + 1] > 0:
                    backup_terms[t + 1].append((above_r[t], float(counts[t + 1])))
    for t in range(n):
        if exclusive:
            p.either_or(imp[t], exp[t], req.import_limit_kw, req.export_limit_kw)
        p.row(balance[t], float(req.load_kw[t]), float(req.load_kw[t]))
        hi = -float(req.load_kw[t]) if surplus[t] else 0.0
        p.row(export_rule[t], -inf, hi)
    if req.backup_kwh is not None:
        for k in range(1, n + 1):
            if req.backup_kwh[k] > 1e-9:
                slack = p.var(1, pen.backup_reserve * unit * dt[k - 1], 0.0, None)
                p.row(backup_terms[k] + [(slack[0], 1.0)], float(req.backup_kwh[k]), inf)
    for dc in req.demand_charges:
        peak = p.var(1, dc.rate_per_kw, 0.0, None)
        for t in np.flatnonzero(dc.mask):
            p.row([(imp[t], 1.0), (peak[0], -1.0)], -inf, dc.already_kw)
    return p.solve()
