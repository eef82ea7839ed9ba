"""A linear program assembled from numpy arrays, and its solution with highspy's direct API."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt

from voltbridge.core.timegrid import FloatArray

IntArray = npt.NDArray[np.int64]
INF = highspy.kHighsInf

# The Python wrapper ``highspy.Highs`` prints HiGHS's banner to stdout on first use, which would
# corrupt `voltbridge plan --json`; the bound C++ class is the same solver without the banner.
_Solver = highspy._core._Highs


def block_keys(name: str, label: IntArray | None, count: int) -> IntArray:
    """Keys naming ``count`` columns or rows across re-plans: the block's name and a label.

    A label is what an entry stands for (a step's start time [s], say), so that the same entry
    of a re-plan whose horizon rolled on gets the same key at another index. Without a label
    the position in the block stands in. Two keys that collide only cost a hot start's quality.
    """
    own = np.arange(count, dtype=np.int64) if label is None else np.asarray(label, np.int64)
    return (np.int64(zlib.crc32(name.encode()) & 0xFFFFF) << np.int64(40)) | own


def _full(value: FloatArray | float, count: int) -> FloatArray:
    """``value`` as a float array of ``count`` entries (a scalar is repeated)."""
    if isinstance(value, float | int):
        return np.full(count, float(value))
    arr = np.asarray(value, dtype=np.float64)
    return arr if arr.shape == (count,) else np.broadcast_to(arr, (count,))


@dataclass
class LinearProgram:
    """min cost·x  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper.

    Columns and rows are added in blocks (one block per variable or constraint family) so the
    model can be read back by name with :meth:`describe`.
    """

    cost: list[FloatArray] = field(default_factory=list)
    col_lower: list[FloatArray] = field(default_factory=list)
    col_upper: list[FloatArray] = field(default_factory=list)
    row_lower: list[FloatArray] = field(default_factory=list)
    row_upper: list[FloatArray] = field(default_factory=list)
    a_row: list[IntArray] = field(default_factory=list)
    a_col: list[IntArray] = field(default_factory=list)
    a_val: list[FloatArray] = field(default_factory=list)
    col_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    row_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    num_col: int = 0
    num_row: int = 0
    integer_cols: list[IntArray] = field(default_factory=list)
    start_basic_cols: list[IntArray] = field(default_factory=list)
    start_basic_rows: list[IntArray] = field(default_factory=list)
    start_upper_cols: list[IntArray] = field(default_factory=list)
    zero_upper_cols: list[IntArray] = field(default_factory=list)
    col_keys: list[IntArray] = field(default_factory=list)
    row_keys: list[IntArray] = field(default_factory=list)
    """Per block, keys of its entries (see :func:`block_keys`), for a hot start's basis."""
    offset: float = 0.0
    """A constant added to the objective, so that HiGHS's relative MIP gap is taken of the
    plan's cost and not of a sum dominated by constant rewards (see ``define_storage``)."""

    def add_cols(
        self,
        name: str,
        count: int,
        cost: FloatArray | float = 0.0,
        lower: FloatArray | float = 0.0,
        upper: FloatArray | float = INF,
        integer: bool = False,
        label: IntArray | None = None,
    ) -> IntArray:
        """Add ``count`` columns; return their indices. ``label``: see :func:`block_keys`."""
        if name in self.col_blocks:
            raise ValueError(f"column block {name!r} added twice")
        idx = np.arange(self.num_col, self.num_col + count, dtype=np.int64)
        self.cost.append(_full(cost, count))
        self.col_lower.append(_full(lower, count))
        self.col_upper.append(_full(upper, count))
        self.col_blocks[name] = (self.num_col, self.num_col + count)
        self.col_keys.append(block_keys(name, label, count))
        self.num_col += count
        if integer:
            self.integer_cols.append(idx)
        return idx

    def add_rows(
        self,
        name: str,
        count: int,
        local_row: IntArray,
        col: IntArray,
        val: FloatArray,
        lower: FloatArray | float,
        upper: FloatArray | float,
        label: IntArray | None = None,
    ) -> IntArray:
        """Add ``count`` rows whose nonzeros are ``(local_row, col, val)``; ``local_row`` in [0, count).

        ``label``: see :func:`block_keys`.
        """
        if name in self.row_blocks:
            raise ValueError(f"row block {name!r} added twice")
        idx = np.arange(self.num_row, self.num_row + count, dtype=np.int64)
        self.a_row.append(np.asarray(local_row, dtype=np.int64) + self.num_row)
        self.a_col.append(np.asarray(col, dtype=np.int64))
        self.a_val.append(np.asarray(val, dtype=np.float64))
        self.row_lower.append(_full(lower, count))
        self.row_upper.append(_full(upper, count))
        self.row_blocks[name] = (self.num_row, self.num_row + count)
        self.row_keys.append(block_keys(name, label, count))
        self.num_row += count
        return idx

    def hint_start(
        self, basic_cols: IntArray, for_rows: IntArray, at_upper: IntArray | None = None
    ) -> None:
        """Suggest a starting basis: ``basic_cols[i]`` is basic in place of row ``for_rows[i]``'s
        slack, and ``at_upper`` columns start at their upper bound.

        A family of equality rows names the variable that naturally carries it (grid import for
        the balance, stored energy for the SoC update). With every family's suggestion the
        start is a triangular basis near "do nothing, import everything", which needs about a
        third of the simplex iterations of HiGHS's all-slack start on these models.
        """
        self.start_basic_cols.append(np.asarray(basic_cols, dtype=np.int64))
        self.start_basic_rows.append(np.asarray(for_rows, dtype=np.int64))
        if at_upper is not None:
            self.start_upper_cols.append(np.asarray(at_upper, dtype=np.int64))

    def fix_to_zero(self, cols: IntArray) -> None:
        """Force columns to zero (their upper bound becomes 0), e.g. one side of a storage."""
        self.zero_upper_cols.append(np.asarray(cols, dtype=np.int64))

    def block(self, name: str) -> slice:
        """The column slice of a named variable block."""
        lo, hi = self.col_blocks[name]
        return slice(lo, hi)

    def describe(self) -> str:
        """A short listing of the variable and constraint blocks with their sizes."""
        cols = ", ".join(f"{k}[{b - a}]" for k, (a, b) in self.col_blocks.items())
        rows = ", ".join(f"{k}[{b - a}]" for k, (a, b) in self.row_blocks.items())
        return f"variables: {cols}\nconstraints: {rows}"


@dataclass(frozen=True)
class LpSolution:
    """Primal values, objective and HiGHS's model status text.

    ``optimal`` is False only for a branch-and-bound search stopped at its node limit with a
    feasible (not proven optimal) solution.
    """

    x: FloatArray
    objective: float
    status: str
    is_mip: bool
    optimal: bool = True
    nodes: int = 0
    """Branch-and-bound nodes used (0 for an LP)."""


class SolverError(RuntimeError):
    """HiGHS did not return an optimal solution (a bug: every planner model is feasible)."""


_LOWER = highspy.HighsBasisStatus.kLower
_UPPER = highspy.HighsBasisStatus.kUpper
_BASIC = highspy.HighsBasisStatus.kBasic


_STATUSES = (_LOWER, _BASIC, _UPPER)


def start_status(lp: LinearProgram) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Column and row statuses (0 lower, 1 basic, 2 upper) of the model's hinted start (see
    :meth:`LinearProgram.hint_start`)."""
    col_status = np.zeros(lp.num_col, dtype=np.int8)
    row_status = np.ones(lp.num_row, dtype=np.int8)
    if lp.start_upper_cols:
        col_status[np.concatenate(lp.start_upper_cols)] = 2
    if lp.start_basic_cols:
        col_status[np.concatenate(lp.start_basic_cols)] = 1
        row_status[np.concatenate(lp.start_basic_rows)] = 0
    return col_status, row_status


def basis_of(
    col_status: npt.NDArray[np.int8], row_status: npt.NDArray[np.int8], alien: bool = False
) -> highspy.HighsBasis:
    """A HiGHS basis from status arrays (0 lower, 1 basic, 2 upper). An ``alien`` basis may
    have the wrong number of basic entries; HiGHS completes it to a valid one."""
    basis = highspy.HighsBasis()
    basis.col_status = [_STATUSES[k] for k in col_status.tolist()]
    basis.row_status = [_STATUSES[k] for k in row_status.tolist()]
    basis.valid = True
    basis.alien = alien
    return basis


def start_basis(lp: LinearProgram) -> highspy.HighsBasis:
    """The starting basis from the model's hints (see :meth:`LinearProgram.hint_start`)."""
    return basis_of(*start_status(lp))


MIP_MAX_NODES = 500
"""Branch-and-bound node limit of one solve: a work limit, not a time limit, so that plans stay
reproducible. On the random cases of bench/planner.py a node costs 1-17 ms (2-core machine);
the planner also shares ``MIP_NODE_BUDGET`` nodes among all its rounds. A search stopped there
keeps its best feasible plan. Measured on 200 random cases: a budget of 300 nodes kept the
slowest plan to 7 s but left one 18 % above the optimum; 1,000 nodes, 16 s and 0.13 %."""


class NoSolution(SolverError):
    """Branch and bound stopped at its node limit before finding any feasible solution."""


@dataclass(frozen=True)
class Assembled:
    """The LP as HiGHS takes it: column and row arrays and a row-wise matrix."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    starts: npt.NDArray[np.int32]
    index: npt.NDArray[np.int32]
    value: FloatArray
    offset: float

    @property
    def num_col(self) -> int:
        return int(self.cost.size)

    @property
    def num_row(self) -> int:
        return int(self.row_lower.size)

    def pass_to(self, h: highspy._core._Highs, integrality: npt.NDArray[np.int32]) -> None:
        """Give HiGHS this model (replacing any it held)."""
        status = h.passModel(
            self.num_col,
            self.num_row,
            int(self.value.size),
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMinimize),
            self.offset,
            self.cost,
            self.col_lower,
            self.col_upper,
            self.row_lower,
            self.row_upper,
            self.starts,
            self.index,
            self.value,
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS refused the model (inconsistent arrays)")


def assemble(lp: LinearProgram) -> Assembled:
    """``lp``'s blocks as flat arrays, the matrix sorted by row (no order within a row)."""
    upper = np.concatenate(lp.col_upper)
    if lp.zero_upper_cols:
        upper[np.concatenate(lp.zero_upper_cols)] = 0.0
    rows = np.concatenate(lp.a_row) if lp.a_row else np.zeros(0, np.int64)
    cols = np.concatenate(lp.a_col) if lp.a_col else np.zeros(0, np.int64)
    vals = np.concatenate(lp.a_val) if lp.a_val else np.zeros(0)
    order = np.argsort(rows, kind="stable")
    starts = np.zeros(lp.num_row, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=lp.num_row)[:-1], out=starts[1:])
    return Assembled(
        cost=np.concatenate(lp.cost),
        col_lower=np.concatenate(lp.col_lower),
        col_upper=upper,
        row_lower=np.concatenate(lp.row_lower),
        row_upper=np.concatenate(lp.row_upper),
        starts=starts,
        index=cols[order].astype(np.int32),
        value=vals[order],
        offset=lp.offset,
    )


def lp_solver() -> highspy._core._Highs:
    """A quiet single-thread HiGHS set up for the planner's LPs.

    Measured on the planner benchmark: presolve costs more than it saves on these banded LPs,
    and Devex pricing needs fewer, cheaper dual iterations than steepest edge.
    """
    h = _Solver()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    return h


def solve(
    lp: LinearProgram, extra_integer: IntArray | None = None, max_nodes: int = MIP_MAX_NODES
) -> LpSolution:
    """Solve ``lp`` with HiGHS (simplex; branch and bound of at most ``max_nodes`` nodes when
    integer columns exist)."""
    ints = list(lp.integer_cols)
    if extra_integer is not None and extra_integer.size:
        ints.append(extra_integer)
    model = assemble(lp)
    integrality = np.zeros(lp.num_col, dtype=np.int32)
    if not ints:
        h = lp_solver()
    else:
        h = _Solver()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        integrality[np.concatenate(ints)] = int(highspy.HighsVarType.kInteger)
        h.setOptionValue("mip_rel_gap", 1e-6)
        h.setOptionValue("mip_max_nodes", max(1, min(max_nodes, MIP_MAX_NODES)))
        # Measured on bench/planner.py's random cases: the sub-MIP heuristics (RINS, RENS) and
        # restarts took most of the time of the slowest plans (9 s of one 9 s solve) and found
        # nothing branching did not find; without them the worst case is several times faster.
        h.setOptionValue("mip_heuristic_run_rins", False)
        h.setOptionValue("mip_heuristic_run_rens", False)
        h.setOptionValue("mip_allow_restart", False)
    model.pass_to(h, integrality)
    if not ints and lp.start_basic_cols:
        h.setBasis(start_basis(lp))
    h.run()
    model_status = h.getModelStatus()
    text = h.modelStatusToString(model_status)
    optimal = model_status == highspy.HighsModelStatus.kOptimal
    stopped = (highspy.HighsModelStatus.kSolutionLimit, highspy.HighsModelStatus.kIterationLimit)
    if not optimal and ints and model_status in stopped:
        if h.getInfo().primal_solution_status != 2:  # 2: feasible
            raise NoSolution(f"branch and bound found no solution within {max_nodes} nodes")
    elif not optimal:
        raise SolverError(f"HiGHS ended with status {text!r}")
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return LpSolution(
        x=x,
        objective=float(h.getInfo().objective_function_value),
        status=text,
        is_mip=bool(ints),
        optimal=optimal,
        nodes=max(0, int(h.getInfo().mip_node_count)) if ints else 0,
    )
