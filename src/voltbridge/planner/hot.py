"""Re-plans that keep the last HiGHS model and basis (a hot start), each answer checked by duality.

A site's LP hardly changes from one 15-minute re-plan to the next: prices, forecasts and the
initial state of charge move a little, and the horizon rolls on by a step. A cold solve starts
from a hinted basis and takes a few hundred simplex iterations; from the last optimal basis a
re-plan takes a few dozen. Two ways in:

* same structure (same rows, columns and sparsity pattern): HiGHS keeps its model and basis, and
  only costs, bounds, row bounds, the few matrix values and the offset that changed are sent;
* anything else (the horizon rolled, a trip appeared): the new model is passed whole and the
  last basis is carried over entry by entry through the keys the model gives every column and
  row (:func:`lp.block_keys`: a block name and the time an entry stands for); new entries take
  the model's hinted start, and HiGHS completes the mix to a valid basis (an "alien" basis).

HiGHS has returned wrong objectives after hot starts (ERGO-Code/HiGHS issue #3294), so no hot
answer is trusted as given: :func:`certify` checks it against the model with its own arithmetic
(primal feasibility and a Lagrangian lower bound from HiGHS's row duals, which holds for any
duals). An answer that fails is thrown away with the kept model and solved cold; the count is
kept in :attr:`HotSolver.rejected`. Branch-and-bound models never come here.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from voltbridge.core.timegrid import FloatArray
from voltbridge.planner.lp import (
    INF,
    Assembled,
    IntArray,
    LinearProgram,
    LpSolution,
    assemble,
    basis_of,
    lp_solver,
    solve,
    start_status,
)

PRIMAL_TOL = 1e-7
"""A certified answer breaks no row or bound by more than this (HiGHS's feasibility tolerance)."""

DUAL_TOL = 1e-7
"""Reduced costs or row duals of the wrong sign up to this, where the bound they price is
infinite, are taken as 0 (HiGHS's dual feasibility tolerance); larger ones fail the check."""

GAP_RTOL = 1e-9
"""A certified answer costs at most this much (relative, at least 1e-9 absolute) above the
Lagrangian lower bound of the model, so it is optimal to that precision."""

Status = npt.NDArray[np.int8]


def row_ids(model: Assembled) -> IntArray:
    """The row of every matrix nonzero (the matrix is stored row-wise)."""
    counts = np.diff(np.append(model.starts, model.value.size))
    return np.repeat(np.arange(model.num_row, dtype=np.int64), counts)


@dataclass(frozen=True)
class Certificate:
    """How far an answer may be from optimal, with the row activities and reduced costs it
    was computed from (they also give the next hot start's basis)."""

    gap: float
    """[currency]; ``inf`` where the answer breaks a row or bound or its duals are wrong."""
    activity: FloatArray
    reduced_cost: FloatArray


def certify(model: Assembled, rows: IntArray, x: FloatArray, row_dual: FloatArray) -> Certificate:
    """How far ``x`` may be from optimal [currency], or ``inf`` if it breaks a row or bound.

    The Lagrangian ``L(y) = offset + sum_i min_{rl<=s<=ru} y_i s + sum_j min_{l<=x<=u} d_j x``
    with ``d = c - A^T y`` is a lower bound of the optimum for any ``y`` (weak duality), so
    ``c x + offset - L(y)`` bounds how much ``x`` costs above the optimum. Computed here from the
    model's arrays, not from HiGHS's own figures.
    """
    act: FloatArray = np.bincount(
        rows, weights=model.value * x[model.index], minlength=model.num_row
    ).astype(np.float64, copy=False)
    worst = max(
        float(np.max(model.row_lower - act, initial=0.0)),
        float(np.max(act - model.row_upper, initial=0.0)),
        float(np.max(model.col_lower - x, initial=0.0)),
        float(np.max(x - model.col_upper, initial=0.0)),
    )
    if worst > PRIMAL_TOL:
        return Certificate(INF, act, np.zeros(0))
    y = row_dual.copy()
    # A dual of the wrong sign for an infinite bound would give -inf: any y is allowed, so such
    # tiny ones are set to 0 (larger ones mean HiGHS's answer is not optimal).
    wrong = ((y > 0) & ~np.isfinite(model.row_lower)) | ((y < 0) & ~np.isfinite(model.row_upper))
    if np.any(np.abs(y[wrong]) > DUAL_TOL):
        return Certificate(INF, act, np.zeros(0))
    y[wrong] = 0.0
    d = model.cost - np.bincount(model.index, weights=model.value * y[rows], minlength=x.size)
    wrong_d = ((d > 0) & ~np.isfinite(model.col_lower)) | ((d < 0) & ~np.isfinite(model.col_upper))
    if np.any(np.abs(d[wrong_d]) > DUAL_TOL):
        return Certificate(INF, act, d)
    reduced_cost = d.copy()
    d[wrong_d] = 0.0
    row_bound = np.where(y > 0, model.row_lower, model.row_upper)
    col_bound = np.where(d > 0, model.col_lower, model.col_upper)
    lower_bound = (
        model.offset
        + float(np.dot(y[y != 0], row_bound[y != 0]))
        + float(np.dot(d[d != 0], col_bound[d != 0]))
    )
    gap = max(0.0, float(model.cost @ x) + model.offset - lower_bound)
    return Certificate(gap, act, reduced_cost)


def statuses(lower: FloatArray, upper: FloatArray, value: FloatArray) -> Status:
    """Basis statuses read from values: 0 at lower, 2 at upper, 1 (basic) between."""
    out = np.ones(value.size, dtype=np.int8)
    out[value >= upper - 1e-9] = 2
    out[value <= lower + 1e-9] = 0
    return out


def basis_from_answer(kept: Kept) -> tuple[Status, Status]:
    """Column and row statuses of the last answer's basis, read from its values and duals.

    HiGHS's own basis costs more to read through Python than a re-plan's solve (a list of
    enums). Entries strictly between their bounds are basic; a degenerate optimum has fewer
    of those than rows, and the missing ones are taken among the entries at a bound with the
    smallest reduced costs (a basic entry has none), so that the count is right.
    """
    m = kept.model
    col = statuses(m.col_lower, m.col_upper, kept.x)
    row = statuses(m.row_lower, m.row_upper, kept.activity)
    missing = m.num_row - int(np.count_nonzero(col == 1) + np.count_nonzero(row == 1))
    if missing > 0:
        dual = np.abs(np.concatenate((kept.col_dual, kept.row_dual)))
        both = np.concatenate((col, row))
        candidates = np.flatnonzero(both != 1)
        pick = candidates[np.argpartition(dual[candidates], missing - 1)[:missing]]
        both[pick] = 1
        col, row = both[: m.num_col], both[m.num_col :]
    return col, row


def carry(old_keys: IntArray, old_status: Status, new_keys: IntArray, new_status: Status) -> None:
    """Overwrite ``new_status`` with ``old_status`` wherever a new key was there last time."""
    if old_keys.size == 0 or new_keys.size == 0:
        return
    order = np.argsort(old_keys, kind="stable")
    sorted_keys = old_keys[order]
    at = np.minimum(np.searchsorted(sorted_keys, new_keys), sorted_keys.size - 1)
    found = sorted_keys[at] == new_keys
    new_status[found] = old_status[order[at[found]]]


@dataclass(frozen=True)
class Kept:
    """The model HiGHS holds, and the last answer's statuses by key."""

    model: Assembled
    rows: IntArray
    col_keys: IntArray
    row_keys: IntArray
    x: FloatArray
    activity: FloatArray
    col_dual: FloatArray
    row_dual: FloatArray


def same_structure(a: Assembled, b: Assembled) -> bool:
    """Whether ``b`` has ``a``'s rows, columns and sparsity pattern (values may differ)."""
    return (
        a.num_col == b.num_col
        and a.num_row == b.num_row
        and np.array_equal(a.starts, b.starts)
        and np.array_equal(a.index, b.index)
    )


def send_changes(h: highspy._core._Highs, old: Assembled, new: Assembled, rows: IntArray) -> None:
    """Update HiGHS's model from ``old`` to ``new`` (same structure); HiGHS keeps its basis."""
    i32 = np.int32
    cost = np.flatnonzero(old.cost != new.cost)
    if cost.size:
        h.changeColsCost(cost.size, cost.astype(i32), new.cost[cost])
    col = np.flatnonzero((old.col_lower != new.col_lower) | (old.col_upper != new.col_upper))
    if col.size:
        h.changeColsBounds(col.size, col.astype(i32), new.col_lower[col], new.col_upper[col])
    row = np.flatnonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper))
    if row.size:
        h.changeRowsBounds(row.size, row.astype(i32), new.row_lower[row], new.row_upper[row])  # type: ignore[attr-defined]  # bound, not in the stubs
    for k in np.flatnonzero(old.value != new.value).tolist():
        h.changeCoeff(int(rows[k]), int(new.index[k]), float(new.value[k]))
    if old.offset != new.offset:
        h.changeObjectiveOffset(new.offset)


class HotSolver:
    """Solves a sequence of related LPs of one site, each from the last one's basis.

    Holds one HiGHS instance and one model: never share it between sites (each ``Planner``
    owns one). Answers are certified (:func:`certify`); a failed one is re-solved cold.
    """

    def __init__(self) -> None:
        self._h: highspy._core._Highs | None = None
        self._kept: Kept | None = None
        self.rejected = 0
        """Hot answers that failed the check (or HiGHS's status) and were solved cold."""
        self.last_mode = "cold"
        """How the last LP started: "cold", "updated" (same structure) or "carried" (keys)."""

    def forget(self) -> None:
        """Drop the kept model: the next LP is solved cold."""
        self._h, self._kept = None, None

    def solve(self, lp: LinearProgram) -> LpSolution:
        """Solve ``lp`` (no integer columns) from the last basis; certified or solved cold."""
        if lp.integer_cols:
            raise ValueError("a hot start is for LPs; branch and bound is solved cold")
        model = assemble(lp)
        col_keys = np.concatenate(lp.col_keys)
        row_keys = np.concatenate(lp.row_keys) if lp.row_keys else np.zeros(0, np.int64)
        kept, h = self._kept, self._h
        if kept is not None and h is not None and same_structure(kept.model, model):
            rows = kept.rows
            send_changes(h, kept.model, model, rows)
            self.last_mode = "updated"
        else:
            h = h if h is not None else lp_solver()
            rows = row_ids(model)
            model.pass_to(h, np.zeros(model.num_col, dtype=np.int32))
            col_status, row_status = start_status(lp)
            if kept is not None:
                old_col, old_row = basis_from_answer(kept)
                carry(kept.col_keys, old_col, col_keys, col_status)
                carry(kept.row_keys, old_row, row_keys, row_status)
            h.setBasis(basis_of(col_status, row_status, alien=kept is not None))
            self.last_mode = "cold" if kept is None else "carried"
        self._kept = None  # until this answer is certified
        h.run()
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        row_dual = np.asarray(sol.row_dual, dtype=np.float64)
        cert = certify(model, rows, x, row_dual)
        objective = float(model.cost @ x) + model.offset
        if not optimal or cert.gap > GAP_RTOL * max(1.0, abs(objective)):
            self.rejected += 1
            self.forget()
            self.last_mode = "cold"
            return solve(lp)
        self._h = h
        self._kept = Kept(
            model,
            rows,
            col_keys,
            row_keys,
            x,
            cert.activity,
            cert.reduced_cost,
            row_dual,
        )
        return LpSolution(x=x, objective=objective, status="Optimal", is_mip=False)
