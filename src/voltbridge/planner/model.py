"""The planner's LP, one ``define_*`` function per family of variables or constraints.

Notation: steps t = 0..n-1 of length dt[t] [h], edges k = 0..n. For each storage s: charge
c[s,t] >= 0 and discharge d[s,t] >= 0 (AC side, kW), stored energy e[s,k] (kWh, as three
segments, see :func:`soc_segments`). Grid import g+[t] >= 0 and export g-[t] >= 0 (kW), PV used
u[t] in [0, pv[t]] (kW), unserved load q[t] (kW). Penalties P are multiples of the largest price.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from voltbridge.core.timegrid import FloatArray
from voltbridge.planner.lp import INF, IntArray, LinearProgram
from voltbridge.planner.request import PlanRequest, StorageSpec

EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class StorageCols:
    """Column indices of one storage's variables; slack blocks may be empty.

    ``segments[j, k-1]`` is segment j of the stored energy at edge k (k = 1..n); the energy at
    edge 0 is the known ``soc0`` and has no column.
    """

    charge: IntArray
    discharge: IntArray
    segments: IntArray
    segment_widths: FloatArray
    drive_slack: IntArray = field(default_factory=lambda: EMPTY)
    drive_steps: IntArray = field(default_factory=lambda: EMPTY)
    departure_slack: IntArray = field(default_factory=lambda: EMPTY)
    budget_slack: IntArray = field(default_factory=lambda: EMPTY)

    def soc_terms(self, edges: IntArray) -> tuple[IntArray, IntArray]:
        """(position in ``edges``, column) pairs summing to the stored energy at each edge (>= 1)."""
        cols = self.segments[:, edges - 1]
        pos = np.broadcast_to(np.arange(edges.size), cols.shape)
        return pos.ravel(), cols.ravel()


@dataclass
class GridCols:
    """Column indices of the site-level variables."""

    imp: IntArray
    exp: IntArray
    pv: IntArray
    unserved: IntArray
    peaks: IntArray = field(default_factory=lambda: EMPTY)
    backup_slack: IntArray = field(default_factory=lambda: EMPTY)
    backup_edges: IntArray = field(default_factory=lambda: EMPTY)


def penalty_scale(req: PlanRequest) -> float:
    """The most a kWh can cost in the horizon, at least 1 [currency/kWh]; penalties are multiples.

    The largest absolute price, or a demand charge spread over the shortest step it covers
    (``rate / dt``: a kWh drawn in one 15-minute step at a 15/kW charge can cost 60), so that a
    reachable target is always worth more than the demand charge of reaching it.
    """
    prices = [1.0, float(np.abs(req.price_import).max()), float(np.abs(req.price_export).max())]
    for dc in req.demand_charges:
        if np.any(dc.mask):
            prices.append(dc.rate_per_kw / float(req.grid.dt_h[dc.mask].min()))
    return max(prices)


PV_REFILL_SHARE = 0.5
"""How much of a stored kWh's end value the sun can replace: on a last day whose PV surplus
covers the house's deficit, a kWh left stored is worth half the cheapest import price."""


def terminal_value(req: PlanRequest) -> float:
    """Value of a kWh left stored at the horizon's end [currency/kWh].

    ``v = max(0, min(price_import over the last 24 h)) * (1 - PV_REFILL_SHARE * f)``: a kWh kept
    saves buying one later at no less than the cheapest price of a day, unless the sun refills
    the storages for nothing. ``f = min(1, S / D)`` is the share of the last day's deficit
    ``D`` (load above PV) that its PV surplus ``S`` (PV above load) could cover: 0 in winter,
    1 on a sunny day. Without it, a plan in summer kept 15-20 kWh in the car for a night it
    valued at the import price while the next day's surplus would refill it; measured on the
    dynamic-tariff example (4 x 28 days of 2025, ``optimal``'s share of ``oracle``'s saving):
    76.0 % with ``f`` left out, 80.1 % with a share of 0.4, 80.3 % with 0.6, 77.2 % with the
    whole value scaled by 0.8 in every season (the winter lost what the summer won). Charging
    costs at least ``v / eta_c``, more than ``v``, so no plan buys energy only to hold it at the
    end; discharging pays only above it, so plans do not empty the batteries at the end either.
    """
    if req.terminal_value_per_kwh is not None:
        return req.terminal_value_per_kwh
    ends = req.grid.edges_s[1:]
    last_day = ends > ends[-1] - 24 * 3600
    cheapest = max(0.0, float(np.min(req.price_import[last_day])))
    net = (req.load_kw - req.pv_kw)[last_day] * req.grid.dt_h[last_day]
    surplus, deficit = float(np.sum(np.maximum(-net, 0.0))), float(np.sum(np.maximum(net, 0.0)))
    covered = 1.0 if deficit <= 1e-9 else min(1.0, surplus / deficit)
    return cheapest * (1.0 - PV_REFILL_SHARE * covered)


def pv_surplus(req: PlanRequest) -> np.ndarray:
    """Steps where PV may be exported: the policy allows it and PV exceeds the load."""
    if not req.pv_export:
        return np.zeros(req.grid.n, dtype=bool)
    return np.asarray(req.pv_kw > req.load_kw)


def define_grid(lp: LinearProgram, req: PlanRequest, scale: float) -> GridCols:
    """Grid import and export, PV used and unserved load.

    ``0 <= g+[t] <= import_limit``, ``0 <= g-[t] <= export_limit`` (0 where nothing may be
    exported), ``0 <= u[t] <= pv[t]``, ``0 <= q[t] <= load[t]``; cost
    ``(p_imp g+ - p_exp g-) dt + P_unserved q dt``.
    """
    n, dt = req.grid.n, req.grid.dt_h
    exp_max = np.full(n, req.export_limit_kw)
    if not any(s.can_export for s in req.storages):
        exp_max[~pv_surplus(req)] = 0.0
    at = req.grid.starts_s
    imp = lp.add_cols("grid_import", n, req.price_import * dt, 0.0, req.import_limit_kw, label=at)
    exp = lp.add_cols("grid_export", n, -req.price_export * dt, 0.0, exp_max, label=at)
    pv = lp.add_cols("pv_used", n, 0.0, 0.0, req.pv_kw, label=at)
    unserved_cost = req.penalties.unserved_load * scale * dt
    q = lp.add_cols("unserved", n, unserved_cost, 0.0, req.load_kw, label=at)
    return GridCols(imp=imp, exp=exp, pv=pv, unserved=q)


def soc_segments(
    s: StorageSpec, dt: FloatArray, reward_reserve: float, value_end: float
) -> tuple[FloatArray, FloatArray]:
    """Widths [kWh] and costs [currency/kWh] of the three segments of stored energy at edges 1..n.

    ``e[k] = e0[k] + e1[k] + e2[k]`` with breakpoints ``b1 = min(R, T)`` and ``b2 = max(R, T)``
    (R the soft reserve, T the calendar-wear threshold, both clipped to ``emax``). A segment
    below R earns ``P_reserve dt`` per kWh (the same optimum as paying ``P_reserve dt`` per kWh
    short of R), a segment above T pays ``w_cal dt``. Costs rise from segment to segment, so the
    LP fills them in order and only ``e`` matters; this saves a row and a slack column per edge
    for the reserve and another pair for calendar wear. The last edge carries the terminal
    value ``-v``.
    """
    e_max = max(s.max_soc_kwh, s.soc0_kwh)
    has_calendar = s.wear.calendar_per_kwh_h > 0 and s.wear.calendar_threshold_kwh < e_max
    threshold = min(s.wear.calendar_threshold_kwh, e_max) if has_calendar else e_max
    reserve = np.minimum(s.reserve_kwh[1:], e_max)
    b1 = np.minimum(reserve, threshold)
    b2 = np.maximum(reserve, threshold)
    widths = np.stack((b1, b2 - b1, e_max - b2))
    cal = s.wear.calendar_per_kwh_h if has_calendar else 0.0
    reward = -reward_reserve * dt
    middle = np.where(reserve > threshold, reward + cal * dt, 0.0)
    costs = np.stack((reward, middle, cal * dt))
    costs[:, -1] -= value_end
    return widths, costs


def define_storage(
    lp: LinearProgram, req: PlanRequest, s: StorageSpec, i: int, value_end: float, scale: float
) -> StorageCols:
    """Charge, discharge and stored energy of storage ``s``.

    ``0 <= c[t] <= cmax[t]``, ``0 <= d[t] <= dmax[t]``, ``0 <= e[k] <= emax`` (as segments, see
    :func:`soc_segments`); cost ``w_thr * d[t] * dt / eta_d`` (wear per kWh leaving the cells).
    """
    n, dt = req.grid.n, req.grid.dt_h
    at = req.grid.starts_s
    c = lp.add_cols(f"s{i}_charge", n, 0.0, 0.0, s.max_charge_kw, label=at)
    d = lp.add_cols(
        f"s{i}_discharge",
        n,
        s.wear.throughput_per_kwh * dt / s.eta_discharge,
        0.0,
        s.max_discharge_kw,
        label=at,
    )
    reward = req.penalties.mobility_reserve * scale
    widths, costs = soc_segments(s, dt, reward, value_end)
    # The reserve's reward is a constant when the reserve is met: added back, the objective is
    # the plan's cost (terminal value aside), which HiGHS's relative MIP gap is then taken of.
    lp.offset += reward * float(np.sum(np.minimum(s.reserve_kwh[1:], widths.sum(axis=0)) * dt))
    # Segment j of the energy at edge k: labelled by the edge's time and j.
    seg_label = (4 * req.grid.edges_s[1:])[None, :] + np.arange(3)[:, None]
    seg = lp.add_cols(
        f"s{i}_soc", 3 * n, costs.ravel(), 0.0, widths.ravel(), label=seg_label.ravel()
    ).reshape(3, n)
    return StorageCols(charge=c, discharge=d, segments=seg, segment_widths=widths)


def define_balance(lp: LinearProgram, req: PlanRequest, g: GridCols, st: list[StorageCols]) -> None:
    """Power balance at every step: ``g+ - g- + u + q - sum_s c[s] + sum_s d[s] = load``."""
    n = req.grid.n
    parts_col = [g.imp, g.exp, g.pv, g.unserved]
    parts_val = [1.0, -1.0, 1.0, 1.0]
    for sc in st:
        parts_col += [sc.charge, sc.discharge]
        parts_val += [-1.0, 1.0]
    rows = np.tile(np.arange(n), len(parts_col))
    lp.add_rows(
        "balance",
        n,
        rows,
        np.concatenate(parts_col),
        np.repeat(parts_val, n),
        req.load_kw,
        req.load_kw,
        label=req.grid.starts_s,
    )


def unmet_driving_price(req: PlanRequest, s: StorageSpec, scale: float) -> float:
    """Price of a kWh of unmet driving [currency/kWh]: above everything that kWh could save.

    Unmet driving adds energy to the car; priced at only ``P_drive`` it could be "bought" to
    avoid reserve, backup or departure penalties later on. So its price also covers the most
    those could cost per kWh over the horizon (``(P_reserve + P_backup) * H`` and ``P_departure``
    per departure) and the terminal value: the LP uses it only when the car cannot hold the trip.
    """
    p = req.penalties
    hours = float(req.grid.dt_h.sum())
    return scale * (
        p.unmet_driving
        + (p.mobility_reserve + p.backup_reserve) * hours
        + p.departure * len(s.departures)
        + 1.0
    )


def define_soc_dynamics(
    lp: LinearProgram, req: PlanRequest, s: StorageSpec, sc: StorageCols, i: int, scale: float
) -> None:
    """State-of-charge update, with a slack for driving energy the car cannot hold.

    ``e[t+1] - e[t] - eta_c c[t] dt + d[t] dt / eta_d - m[t] = -drive[t]`` (``e[0]`` is the
    known ``soc0``, moved to the right-hand side); ``0 <= m[t] <= drive[t]`` costs ``P_drive``
    per kWh (energy that would have to be charged away from home; never more than the trip uses).
    """
    n, dt = req.grid.n, req.grid.dt_h
    t = np.arange(n)
    drive_steps = np.flatnonzero(s.driving_kwh > 0)
    m = lp.add_cols(
        f"s{i}_unmet_driving",
        drive_steps.size,
        unmet_driving_price(req, s, scale),
        0.0,
        s.driving_kwh[drive_steps],
        label=req.grid.starts_s[drive_steps],
    )
    now_pos, now_cols = sc.soc_terms(np.arange(1, n + 1))
    prev_pos, prev_cols = sc.soc_terms(np.arange(1, n))
    rows = np.concatenate((now_pos, prev_pos + 1, t, t, drive_steps))
    cols = np.concatenate((now_cols, prev_cols, sc.charge, sc.discharge, m))
    vals = np.concatenate(
        (
            np.ones(now_cols.size),
            -np.ones(prev_cols.size),
            -s.eta_charge * dt,
            dt / s.eta_discharge,
            -np.ones(drive_steps.size),
        )
    )
    rhs = -s.driving_kwh.astype(np.float64)
    rhs[0] += s.soc0_kwh
    idx = lp.add_rows(f"s{i}_soc", n, rows, cols, vals, rhs, rhs, label=req.grid.starts_s)
    sc.drive_slack, sc.drive_steps = m, drive_steps
    # Start from the do-nothing trajectory: the segment holding it is basic, those below full.
    idle = np.maximum(s.soc0_kwh - np.cumsum(s.driving_kwh), 0.0)
    tops = np.cumsum(sc.segment_widths, axis=0)
    j = np.minimum((idle[None, :] > tops).sum(axis=0), 2)
    steps = np.arange(n)
    below = sc.segments[:, steps][np.arange(3)[:, None] < j[None, :]]
    lp.hint_start(sc.segments[j, steps], idx, below)


def define_departures(
    lp: LinearProgram, req: PlanRequest, s: StorageSpec, sc: StorageCols, i: int, scale: float
) -> None:
    """Departure targets: ``e[k_dep] + y >= target``, ``y >= 0`` costs ``P_departure`` per kWh."""
    if not s.departures:
        return
    count = len(s.departures)
    edges = np.array([d.edge for d in s.departures], dtype=np.int64)
    e_max = max(s.max_soc_kwh, s.soc0_kwh)
    targets = np.array([min(d.target_kwh, e_max) for d in s.departures])
    # A departure at edge 0 has nothing left to decide: its slack is fixed by soc0.
    lower = np.where(edges == 0, np.maximum(targets - s.soc0_kwh, 0.0), 0.0)
    edge_s = req.grid.edges_s[edges]
    y = lp.add_cols(
        f"s{i}_departure_slack", count, req.penalties.departure * scale, lower, label=edge_s
    )
    later = np.flatnonzero(edges > 0)
    pos, cols = sc.soc_terms(edges[later])
    lp.add_rows(
        f"s{i}_departure",
        later.size,
        np.concatenate((pos, np.arange(later.size))),
        np.concatenate((cols, y[later])),
        np.ones(pos.size + later.size),
        targets[later],
        INF,
        label=edge_s[later],
    )
    sc.departure_slack = y


def define_discharge_budget(
    lp: LinearProgram, req: PlanRequest, s: StorageSpec, sc: StorageCols, i: int, scale: float
) -> None:
    """Discharged-energy budgets, each with a slack ``b >= 0`` that costs ``P_budget``.

    Over the horizon: ``sum_t d[t] dt - b <= budget`` (AC energy). Per window w (a local day):
    ``sum_{t in w} d[t] dt / eta_d - b_w <= stored_kwh[w]`` (stored energy, as the controller
    counts it).
    """
    slack: list[IntArray] = []
    n, dt = req.grid.n, req.grid.dt_h
    if s.discharge_budget_kwh is not None:
        b = lp.add_cols(f"s{i}_budget_slack", 1, req.penalties.discharge_budget * scale)
        lp.add_rows(
            f"s{i}_budget",
            1,
            np.zeros(n + 1, dtype=np.int64),
            np.concatenate((sc.discharge, b)),
            np.concatenate((dt, [-1.0])),
            -INF,
            s.discharge_budget_kwh,
        )
        slack.append(b)
    wins = s.budget_windows
    if wins:
        at = np.array([int(w.at.timestamp()) for w in wins], dtype=np.int64)
        bw = lp.add_cols(
            f"s{i}_day_budget_slack", len(wins), req.penalties.discharge_budget * scale, label=at
        )
        rows = np.concatenate(
            [np.full(w.stop - w.first + 1, k, dtype=np.int64) for k, w in enumerate(wins)]
        )
        cols = np.concatenate(
            [np.append(sc.discharge[w.first : w.stop], bw[k]) for k, w in enumerate(wins)]
        )
        vals = np.concatenate(
            [np.append(dt[w.first : w.stop] / s.eta_discharge, -1.0) for w in wins]
        )
        upper = np.array([w.stored_kwh for w in wins])
        lp.add_rows(f"s{i}_day_budget", len(wins), rows, cols, vals, -INF, upper, label=at)
        slack.append(bw)
    if slack:
        sc.budget_slack = np.concatenate(slack)


def define_export_rule(
    lp: LinearProgram,
    req: PlanRequest,
    g: GridCols,
    specs: tuple[StorageSpec, ...],
    st: list[StorageCols],
) -> None:
    """Only PV surplus (if the policy allows) and storages allowed to export reach the grid.

    Where PV exceeds the load: ``g- - u - sum_{s exporting} d[s] <= -load``; elsewhere
    ``g- - sum_{s exporting} d[s] <= 0``. A storage that may not export can still cover the
    house, but never more than the house takes.
    """
    n = req.grid.n
    surplus = pv_surplus(req)
    exporting = [sc for s, sc in zip(specs, st, strict=True) if s.can_export]
    # Without exporting storages define_grid already bounds export to 0 outside PV surplus.
    steps = np.arange(n) if exporting else np.flatnonzero(surplus)
    k = np.arange(steps.size)
    on_surplus = np.flatnonzero(surplus[steps])
    rows = [k, on_surplus] + [k] * len(exporting)
    cols = [g.exp[steps], g.pv[steps[on_surplus]]] + [sc.discharge[steps] for sc in exporting]
    vals = [np.ones(steps.size), -np.ones(on_surplus.size)]
    vals += [-np.ones(steps.size)] * len(exporting)
    upper = np.where(surplus[steps], -req.load_kw[steps], 0.0)
    lp.add_rows(
        "export_rule",
        steps.size,
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        -INF,
        upper,
        label=req.grid.starts_s[steps],
    )


def above_reserve_segments(s: StorageSpec, sc: StorageCols) -> np.ndarray:
    """Which segments lie above the reserve at each edge 1..n (bool, shape 3 x n).

    The reserve is a segment boundary (``b1`` or ``b2``), so the energy above it is exactly the
    sum of those segments, ``max(0, e - reserve)``, because the LP fills segments in order.
    """
    e_max = max(s.max_soc_kwh, s.soc0_kwh)
    reserve = np.minimum(s.reserve_kwh[1:], e_max)
    tops = np.cumsum(sc.segment_widths, axis=0)
    return np.asarray(tops - sc.segment_widths >= reserve[None, :] - 1e-12)


def define_backup(
    lp: LinearProgram,
    req: PlanRequest,
    g: GridCols,
    specs: tuple[StorageSpec, ...],
    st: list[StorageCols],
    scale: float,
) -> None:
    """Backup reserve: energy above each storage's reserve, summed over storages that count.

    ``sum_s n[s,k] max(0, e[s,k] - R[s,k]) + b[k] >= backup[k]`` for k >= 1 (the max is the sum
    of the segments above R), ``b >= 0`` costs ``P_backup * dt[k-1]``; ``n[s,k]`` is 1 while a
    car is plugged in (always for a battery).
    """
    if req.backup_kwh is None:
        return
    edges = np.flatnonzero(req.backup_kwh[1:] > 1e-9) + 1
    if edges.size == 0:
        return
    dt = req.grid.dt_h
    b = lp.add_cols(
        "backup_slack",
        edges.size,
        req.penalties.backup_reserve * scale * dt[edges - 1],
        label=req.grid.edges_s[edges],
    )
    k = np.arange(edges.size)
    rows, cols, vals = [k], [b], [np.ones(edges.size)]
    for s, sc in zip(specs, st, strict=True):
        counts = np.ones(req.grid.n + 1) if s.backup_counts is None else s.backup_counts
        above = above_reserve_segments(s, sc)[:, edges - 1]
        use = above & (counts[edges] > 0)[None, :]
        seg_idx, pos = np.nonzero(use)
        rows.append(k[pos])
        cols.append(sc.segments[seg_idx, edges[pos] - 1])
        vals.append(counts[edges[pos]])
    lp.add_rows(
        "backup",
        edges.size,
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        req.backup_kwh[edges],
        INF,
        label=req.grid.edges_s[edges],
    )
    g.backup_slack, g.backup_edges = b, edges


def define_demand_charges(lp: LinearProgram, req: PlanRequest, g: GridCols) -> None:
    """Demand charges: ``g+[t] - P_j <= already_j`` for t in window j; cost ``rate_j * P_j``."""
    if not req.demand_charges:
        return
    peaks = lp.add_cols(
        "peak", len(req.demand_charges), np.array([dc.rate_per_kw for dc in req.demand_charges])
    )
    for j, dc in enumerate(req.demand_charges):
        steps = np.flatnonzero(dc.mask)
        k = np.arange(steps.size)
        lp.add_rows(
            f"demand_{j}",
            steps.size,
            np.concatenate((k, k)),
            np.concatenate((g.imp[steps], np.full(steps.size, peaks[j]))),
            np.concatenate((np.ones(steps.size), -np.ones(steps.size))),
            -INF,
            dc.already_kw,
            label=req.grid.starts_s[steps],
        )
    g.peaks = peaks


def define_exclusive_hull(
    lp: LinearProgram,
    name: str,
    on: IntArray,
    off: IntArray,
    on_max: FloatArray,
    off_max: FloatArray,
) -> None:
    """The convex hull of "one direction at a time": ``x_on / M_on + x_off / M_off <= 1``.

    Added on every step of a storage (or the grid) that needed binaries: it is exactly the LP
    relaxation of one step's on/off choice, so branch and bound closes in few nodes.
    """
    both = np.flatnonzero((on_max > 0) & (off_max > 0))
    k = np.arange(both.size)
    lp.add_rows(
        f"{name}_hull",
        both.size,
        np.concatenate((k, k)),
        np.concatenate((on[both], off[both])),
        np.concatenate((1.0 / on_max[both], 1.0 / off_max[both])),
        -INF,
        1.0,
    )


def define_exclusive(
    lp: LinearProgram,
    name: str,
    on: IntArray,
    off: IntArray,
    on_max: FloatArray,
    off_max: FloatArray,
) -> None:
    """Never both at once: binary z with ``x_on <= M_on z`` and ``x_off <= M_off (1 - z)``.

    Added only at steps where the LP relaxation used both (negative prices make that pay).
    """
    count = on.size
    if count == 0:
        return
    z = lp.add_cols(f"{name}_mode", count, 0.0, 0.0, 1.0, integer=True)
    k = np.arange(count)
    lp.add_rows(
        f"{name}_on",
        count,
        np.concatenate((k, k)),
        np.concatenate((on, z)),
        np.concatenate((np.ones(count), -on_max)),
        -INF,
        0.0,
    )
    lp.add_rows(
        f"{name}_off",
        count,
        np.concatenate((k, k)),
        np.concatenate((off, z)),
        np.concatenate((np.ones(count), off_max)),
        -INF,
        off_max,
    )
