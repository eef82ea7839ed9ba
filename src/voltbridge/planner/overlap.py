"""Removing charge/discharge (and import/export) overlap that costs nothing, without binaries.

An LP optimum may charge and discharge one storage in the same step, or import and export at
once, although an equally cheap plan does neither: the overlap only burns a surplus that PV
curtailment, free import or export slack could take as well. Such overlap is removed here by
moving the solution along a direction that keeps every constraint and the objective; binaries
are left for the steps where the overlap really pays (negative prices).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voltbridge.core.timegrid import FloatArray
from voltbridge.planner import model as m
from voltbridge.planner.lp import INF, LinearProgram, solve
from voltbridge.planner.request import PlanRequest

OVERLAP_TOL_KW = 1e-6
"""Both directions above this at one step count as overlap (the planner's SIMULTANEOUS_TOL_KW)."""

OBJECTIVE_RTOL = 1e-9
"""A transformed solution may cost at most this much more (relative, at least 1e-9 absolute)."""

ROW_RTOL = 1e-11
"""Slack of the least-throughput LP's ``cost x <= objective`` row, relative to the objective.
Some is needed (at exactly the optimum HiGHS found the row infeasible on a recorded plan), but
the objective carries the reserve reward's constant (about 1,000 on a small home), so the check's
1e-9 would let the plan itself cost 1e-6 more than the optimum, beyond the tests' agreement."""
FEASIBILITY_TOL = 1e-9
"""A transformed solution may break no row or bound by more than the original did plus this."""


@dataclass(frozen=True)
class Arrays:
    """The LP as flat arrays, to check a transformed solution against every row and bound."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    rows: np.ndarray
    cols: np.ndarray
    vals: FloatArray

    @classmethod
    def of(cls, lp: LinearProgram) -> Arrays:
        upper = np.concatenate(lp.col_upper).copy()
        if lp.zero_upper_cols:
            upper[np.concatenate(lp.zero_upper_cols)] = 0.0
        return cls(
            cost=np.concatenate(lp.cost),
            col_lower=np.concatenate(lp.col_lower),
            col_upper=upper,
            row_lower=np.concatenate(lp.row_lower),
            row_upper=np.concatenate(lp.row_upper),
            rows=np.concatenate(lp.a_row),
            cols=np.concatenate(lp.a_col),
            vals=np.concatenate(lp.a_val),
        )

    def violation(self, x: FloatArray) -> float:
        """The largest amount by which ``x`` breaks a row or column bound (0 if none)."""
        act = np.bincount(
            self.rows, weights=self.vals * x[self.cols], minlength=self.row_lower.size
        )
        worst = [
            np.max(self.row_lower - act, initial=0.0),
            np.max(act - self.row_upper, initial=0.0),
            np.max(self.col_lower - x, initial=0.0),
            np.max(x - self.col_upper, initial=0.0),
        ]
        return float(max(worst))

    def objective(self, x: FloatArray) -> float:
        return float(self.cost @ x)


def objective_slack(objective: float) -> float:
    """How much more than ``objective`` still counts as the same objective [currency]."""
    return OBJECTIVE_RTOL * max(1.0, abs(objective))


def export_room_kw(
    req: PlanRequest, g: m.GridCols, cols: list[m.StorageCols], x: FloatArray
) -> FloatArray:
    """Room left in each step's export rule (see :func:`model.define_export_rule`) [kW]; inf
    where the step has no such row."""
    surplus = m.pv_surplus(req)
    exporting = [sc for s, sc in zip(req.storages, cols, strict=True) if s.can_export]
    lhs = x[g.exp] - sum((x[sc.discharge] for sc in exporting), np.zeros(req.grid.n))
    room = np.where(surplus, -req.load_kw - (lhs - x[g.pv]), -lhs)
    if not exporting:
        room[~surplus] = INF
    return np.asarray(room, dtype=np.float64)


def shift_storage_overlap(
    req: PlanRequest, g: m.GridCols, cols: list[m.StorageCols], x: FloatArray
) -> FloatArray:
    """Cut charge by ``a`` and discharge by ``eta_c eta_d a`` where a storage does both.

    The stored energy stays the same at every edge; the step's bus gains the lost energy
    ``a (1 - eta_c eta_d)``, which goes, in this order, to curtailed PV (free), less import (at
    a price >= 0) or more export (at a price >= 0) within their limits and the export rule. Where
    not all of it can go, ``a`` shrinks in proportion. Returns the new solution (``x`` is kept).
    """
    x = x.copy()  # the step length cancels: every change keeps each step's balance in kW
    exp_max = np.full(req.grid.n, req.export_limit_kw)
    surplus = m.pv_surplus(req)
    for s, sc in zip(req.storages, cols, strict=True):
        c, d = x[sc.charge], x[sc.discharge]
        steps = np.flatnonzero((c > OVERLAP_TOL_KW) & (d > OVERLAP_TOL_KW))
        if steps.size == 0:
            continue
        loop = s.eta_charge * s.eta_discharge
        a = np.minimum(c[steps], d[steps] / loop)
        room = export_room_kw(req, g, cols, x)[steps]
        if s.can_export:  # less discharge tightens the export rule by as much
            a = np.minimum(a, np.maximum(room, 0.0) / loop)
            room = room - loop * a
        lost = a * (1.0 - loop)
        u, imp, exp = x[g.pv[steps]], x[g.imp[steps]], x[g.exp[steps]]
        curtail = np.minimum(lost, u)
        # On PV surplus steps less PV used also tightens the export rule.
        curtail = np.where(surplus[steps], np.minimum(curtail, np.maximum(room, 0.0)), curtail)
        room = np.where(surplus[steps], room - curtail, room)
        left = lost - curtail
        less_import = np.where(req.price_import[steps] >= 0, np.minimum(left, imp), 0.0)
        left = left - less_import
        headroom = np.minimum(exp_max[steps] - exp, np.maximum(room, 0.0))
        more_export = np.where(
            (req.price_export[steps] >= 0) & (imp - less_import <= 0),
            np.clip(np.minimum(left, headroom), 0.0, None),
            0.0,
        )
        placed = curtail + less_import + more_export
        share = np.divide(placed, lost, out=np.ones_like(lost), where=lost > 0)
        a *= share
        x[sc.charge[steps]] -= a
        x[sc.discharge[steps]] -= loop * a
        x[g.pv[steps]] -= curtail
        x[g.imp[steps]] -= less_import
        x[g.exp[steps]] += more_export
    return x


def net_grid_overlap(req: PlanRequest, g: m.GridCols, x: FloatArray) -> FloatArray:
    """Cut import and export by the smaller of the two where both flow and import costs at
    least what export earns (elsewhere the overlap earns money and needs a binary)."""
    x = x.copy()
    both = np.minimum(x[g.imp], x[g.exp])
    cut = np.where((both > OVERLAP_TOL_KW) & (req.price_import >= req.price_export), both, 0.0)
    x[g.imp] -= cut
    x[g.exp] -= cut
    return x


def remove_free_overlap(
    req: PlanRequest,
    arrays: Arrays,
    g: m.GridCols,
    cols: list[m.StorageCols],
    x: FloatArray,
) -> FloatArray:
    """``x`` with the overlap that costs nothing removed, or ``x`` itself if the change would
    break a constraint or raise the objective (checked on the whole model)."""
    new = net_grid_overlap(req, g, shift_storage_overlap(req, g, cols, x))
    if new is x or np.array_equal(new, x):
        return x
    before = arrays.objective(x)
    if arrays.objective(new) > before + objective_slack(before):
        return x
    if arrays.violation(new) > arrays.violation(x) + FEASIBILITY_TOL:
        return x
    return new


def least_throughput(
    lp: LinearProgram,
    arrays: Arrays,
    g: m.GridCols,
    cols: list[m.StorageCols],
    objective: float,
) -> FloatArray | None:
    """An optimum of ``lp`` with the least charge, discharge, import and export, or None.

    ``lp`` (a fresh copy of the model that found ``objective``) gets the row ``cost x <=
    objective`` and, as its objective, the sum of those flows: overlap adds to every one of
    them, so where an equally cheap plan without it exists this finds one. None if HiGHS's
    answer costs more than ``objective`` allows (its feasibility tolerance applies to the row).
    """
    flows = np.concatenate(
        [g.imp, g.exp] + [np.concatenate((sc.charge, sc.discharge)) for sc in cols]
    )
    nz = np.flatnonzero(arrays.cost)
    # The row gets the same slack as the check below: at exactly ``objective`` HiGHS found the
    # row infeasible on a 29 June plan of the Munich example (prices down to -0.30 EUR/kWh and a
    # terminal value of 0.28), and the controller lost that plan.
    bound = objective + ROW_RTOL * max(1.0, abs(objective))
    lp.add_rows("objective_kept", 1, np.zeros(nz.size, np.int64), nz, arrays.cost[nz], -INF, bound)
    weights = np.zeros(lp.num_col)
    weights[flows] = 1.0
    lp.cost = [weights]
    sol = solve(lp)
    if arrays.objective(sol.x) > objective + objective_slack(objective):
        return None
    return sol.x
