"""Random small sites for property tests, and an uncontrolled-charging baseline to compare with.

The baseline is a plain loop over steps: each car charges at full power whenever it is plugged
in until it is full, never discharges; the home battery idles; PV serves the load and the cars,
and its surplus is exported where the policy and the limit allow, else curtailed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from voltbridge.battery.cost import WearCost
from voltbridge.core.timegrid import TimeGrid
from voltbridge.planner.request import (
    BudgetWindow,
    DemandCharge,
    Departure,
    PlanRequest,
    StorageSpec,
)

from .builders import MONDAY, FloatArray, battery, car

BoolArray = npt.NDArray[np.bool_]
NEG_WINDOW = 4
"""Steps of negative import price forced into the scenarios that ask for them."""


@dataclass(frozen=True)
class Baseline:
    """What uncontrolled charging does and costs."""

    power_kw: tuple[FloatArray, ...]
    soc_kwh: tuple[FloatArray, ...]
    grid_kw: FloatArray
    cost: float
    """Import cost - export revenue + wear + demand charges [currency]; no penalties."""

    final_soc_kwh: float
    """Stored energy summed over storages at the horizon's end [kWh]."""


def uncontrolled(req: PlanRequest) -> Baseline:
    """Run the baseline on ``req`` (it does not check the request's soft limits)."""
    n, dt = req.grid.n, req.grid.dt_h
    k = len(req.storages)
    power = np.zeros((k, n))
    soc = np.zeros((k, n + 1))
    grid = np.zeros(n)
    for i, s in enumerate(req.storages):
        soc[i, 0] = s.soc0_kwh
    for t in range(n):
        for i, s in enumerate(req.storages):
            room = s.max_soc_kwh - soc[i, t]
            p = 0.0
            if s.kind == "vehicle" and room > 0:
                p = min(float(s.max_charge_kw[t]), room / (s.eta_charge * dt[t]))
            power[i, t] = p
            soc[i, t + 1] = soc[i, t] + s.eta_charge * p * dt[t] - s.driving_kwh[t]
        need = req.load_kw[t] + power[:, t].sum()
        pv_used = min(req.pv_kw[t], need)
        export = 0.0
        if req.pv_export:
            export = min(req.pv_kw[t] - pv_used, req.export_limit_kw)
        grid[t] = need - pv_used - export
    imp, exp = np.maximum(grid, 0.0), np.maximum(-grid, 0.0)
    cost = float((req.price_import * imp * dt).sum() - (req.price_export * exp * dt).sum())
    for i, s in enumerate(req.storages):
        above = np.maximum(soc[i, 1:] - s.wear.calendar_threshold_kwh, 0.0)
        cost += s.wear.calendar_per_kwh_h * float((above * dt).sum())
    for dc in req.demand_charges:
        if np.any(dc.mask):
            cost += dc.rate_per_kw * max(0.0, float(imp[dc.mask].max()) - dc.already_kw)
    return Baseline(
        power_kw=tuple(power),
        soc_kwh=tuple(soc),
        grid_kw=grid,
        cost=cost,
        final_soc_kwh=float(soc[:, -1].sum()),
    )


def plugged_mask(draw: st.DrawFn, n: int) -> BoolArray:
    """Plugged in except in up to two trips of random start and length."""
    mask = np.ones(n, dtype=bool)
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.integers(0, n - 1))
        length = draw(st.integers(1, max(1, n // 3)))
        mask[start : start + length] = False
    return mask


def leaving_edges(mask: BoolArray) -> list[int]:
    """Edges where a plugged-in car leaves (plugged in step k - 1, away in step k)."""
    return [k for k in range(1, mask.size) if mask[k - 1] and not mask[k]]


def trip_energy(draw: st.DrawFn, mask: BoolArray) -> FloatArray:
    """Driving energy spread over each away period [kWh]."""
    driving = np.zeros(mask.size)
    away = ~mask
    starts = [k for k in range(mask.size) if away[k] and (k == 0 or not away[k - 1])]
    for a in starts:
        b = a
        while b < mask.size and away[b]:
            b += 1
        driving[a:b] = draw(st.integers(0, 20)) / (b - a)
    return driving


@st.composite
def wear(draw: st.DrawFn, capacity_kwh: float) -> WearCost:
    if not draw(st.booleans()):
        return WearCost(0.0, 0.0, 0.0)
    return WearCost(
        throughput_per_kwh=draw(st.sampled_from([0.001, 0.03, 0.1])),
        calendar_per_kwh_h=draw(st.sampled_from([0.0, 0.0006, 0.01])),
        calendar_threshold_kwh=0.6 * capacity_kwh,
    )


@st.composite
def vehicle(draw: st.DrawFn, grid: TimeGrid, name: str) -> StorageSpec:
    """A car with a random plug-in pattern, trips, departure targets and reserve."""
    n = grid.n
    mask = plugged_mask(draw, n)
    cap = float(draw(st.sampled_from([40, 60, 77, 98])))
    charge = draw(st.sampled_from([3.7, 7.4, 11.0]))
    discharge = draw(st.sampled_from([0.0, charge, 6.0]))
    eta = draw(st.sampled_from([0.85, 0.9, 0.95]))
    deps = leaving_edges(mask)
    if mask[-1] and draw(st.booleans()):
        deps.append(n)
    spec = car(
        grid,
        name=name,
        capacity_kwh=cap,
        soc0_kwh=draw(st.integers(5, 90)) / 100 * cap,
        plugged=mask,
        charge_kw=charge,
        discharge_kw=discharge,
        eta=(eta, eta),
        reserve_kwh=draw(st.integers(0, 40)) / 100 * cap,
        max_soc_kwh=cap * draw(st.sampled_from([0.8, 1.0])),
        driving_kwh=trip_energy(draw, mask),
        departures=[(e, draw(st.integers(30, 100)) / 100 * cap) for e in deps],
        can_export=discharge > 0 and draw(st.booleans()),
        wear=draw(wear(cap)),
        discharge_budget_kwh=draw(st.sampled_from([None, 0.0, 5.0, 20.0])),
    )
    if n < 2 or not draw(st.booleans()):
        return spec
    cut = draw(st.integers(1, n - 1))  # two "days" of warranty allowance [kWh stored]
    allowance = st.sampled_from([0.0, 2.0, 10.0])
    windows = (
        BudgetWindow(0, cut, draw(allowance), grid.start),
        BudgetWindow(cut, n, draw(allowance), grid.starts()[cut]),
    )
    return replace(spec, budget_windows=windows)


def series(draw: st.DrawFn, n: int, lo: int, hi: int, scale: float) -> FloatArray:
    return np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))) * scale


def blocks(draw: st.DrawFn, n: int, lo: int, hi: int, scale: float) -> FloatArray:
    """A price series of up to six constant blocks, like time-of-use or day-ahead prices.

    Per-step random prices would put an import-export arbitrage at most steps, and a binary
    variable at each of them: seconds of branch and bound that say nothing more.
    """
    cuts = sorted(draw(st.lists(st.integers(1, n - 1), max_size=5, unique=True)))
    levels = draw(st.lists(st.integers(lo, hi), min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    out = np.empty(n)
    for level, a, b in zip(levels, [0, *cuts], [*cuts, n], strict=True):
        out[a:b] = level * scale
    return out


@st.composite
def raw_requests(
    draw: st.DrawFn, negative_window: bool = False, max_steps: int = 48, max_cars: int = 2
) -> PlanRequest:
    """A random site with no care for feasibility: targets, reserves and trips as drawn.

    Import prices are >= 0 unless ``negative_window`` puts a block of negative ones in; export
    prices stay below the import price, so only that window makes importing to export pay.
    """
    step = draw(st.sampled_from([15, 30, 60]))
    start = MONDAY + timedelta(minutes=draw(st.sampled_from([0, 0, 7])))
    steps = draw(st.integers(8, max_steps))
    grid = TimeGrid.regular(start, steps * step / 60, step)
    n = grid.n
    storages = [draw(vehicle(grid, f"ev{i}")) for i in range(draw(st.integers(1, max_cars)))]
    if draw(st.booleans()):
        cap = float(draw(st.sampled_from([5, 10, 13.5])))
        storages.append(
            battery(
                grid,
                capacity_kwh=cap,
                soc0_kwh=draw(st.integers(0, 100)) / 100 * cap,
                power_kw=draw(st.sampled_from([2.5, 5.0])),
                reserve_kwh=draw(st.sampled_from([0.0, 0.1])) * cap,
                can_export=draw(st.booleans()),
                wear=draw(wear(cap)),
            )
        )
    price_import = blocks(draw, n, 0, 60, 0.01)
    # Feed-in below the import price, except in the negative window where it stays as it was.
    price_export = np.minimum(blocks(draw, n, -5, 15, 0.01), price_import)
    if negative_window:
        at = draw(st.integers(0, max(0, n - NEG_WINDOW)))
        price_import[at : at + NEG_WINDOW] = -draw(st.integers(5, 30)) / 100
    load = series(draw, n, 0, 40, 0.1)
    charge_sum = sum(float(s.max_charge_kw.max()) for s in storages if s.kind == "vehicle")
    demand: tuple[DemandCharge, ...] = ()
    if draw(st.booleans()):
        mask = np.zeros(n, dtype=bool)
        a = draw(st.integers(0, n - 1))
        mask[a : a + draw(st.integers(1, n))] = True
        rate = draw(st.sampled_from([0.5, 2.0]))
        already = float(draw(st.sampled_from([0.0, 2.0])))
        demand = (DemandCharge(mask=mask, rate_per_kw=rate, already_kw=already),)
    return PlanRequest(
        grid=grid,
        load_kw=load,
        pv_kw=series(draw, n, 0, 60, 0.1) * draw(st.sampled_from([0.0, 1.0])),
        price_import=price_import,
        price_export=price_export,
        import_limit_kw=float(load.max() + charge_sum + draw(st.integers(0, 5))),
        export_limit_kw=float(draw(st.sampled_from([0.0, 5.0, 10.0]))),
        # As from_site: a storage may export only under the "any" policy, which exports PV too.
        pv_export=any(s.can_export for s in storages) or draw(st.booleans()),
        storages=tuple(storages),
        backup_kwh=np.full(n + 1, float(draw(st.integers(1, 20)))) if draw(st.booleans()) else None,
        demand_charges=demand,
    )


def fit_to_baseline(req: PlanRequest) -> PlanRequest:
    """The same site with every soft limit loosened until uncontrolled charging meets it.

    Trips are cut to the energy on board, targets to what the baseline has at each departure,
    reserves (and backup floors) to the least the baseline holds while the car is at home, the
    battery's reserve to its start, and the backup requirement to what the baseline keeps.
    """
    n, dt = req.grid.n, req.grid.dt_h
    fitted: list[StorageSpec] = []
    for s in req.storages:
        if s.kind != "vehicle":
            reserve = np.minimum(s.reserve_kwh, s.soc0_kwh)
            fitted.append(replace(s, reserve_kwh=reserve))
            continue
        soc = np.zeros(n + 1)
        soc[0] = s.soc0_kwh
        driving = s.driving_kwh.copy()
        for t in range(n):
            room = s.max_soc_kwh - soc[t]
            p = min(float(s.max_charge_kw[t]), room / (s.eta_charge * dt[t])) if room > 0 else 0.0
            driving[t] = min(driving[t], soc[t] + s.eta_charge * p * dt[t])
            soc[t + 1] = soc[t] + s.eta_charge * p * dt[t] - driving[t]
        at_home = s.reserve_kwh > 0
        held = float(soc[1:][at_home[1:]].min()) if at_home[1:].any() else 0.0
        reserve = np.where(at_home, min(float(s.reserve_kwh.max()), held), 0.0)
        deps = tuple(
            Departure(d.edge, min(d.target_kwh, float(soc[d.edge])), d.at) for d in s.departures
        )
        fitted.append(
            replace(
                s,
                driving_kwh=driving,
                reserve_kwh=reserve,
                departures=deps,
            )
        )
    out = replace(req, storages=tuple(fitted))
    if out.backup_kwh is not None:
        base = uncontrolled(out)
        held_backup = np.zeros(n)
        for s, soc_s in zip(out.storages, base.soc_kwh, strict=True):
            counts = np.ones(n + 1) if s.backup_counts is None else s.backup_counts
            held_backup += counts[1:] * np.maximum(soc_s[1:] - s.reserve_kwh[1:], 0.0)
        keep = min(float(out.backup_kwh.max()), float(held_backup.min()))
        out = replace(out, backup_kwh=np.full(n + 1, keep) if keep > 0 else None)
    return out


@st.composite
def feasible_requests(
    draw: st.DrawFn, negative_window: bool = False, max_steps: int = 48, max_cars: int = 2
) -> PlanRequest:
    """A random site whose every soft limit the uncontrolled baseline meets."""
    return fit_to_baseline(draw(raw_requests(negative_window, max_steps, max_cars)))
