"""evcc optimizer test cases (bench/evcc_cases/, see its README) as voltbridge ``PlanRequest``s.

evcc's optimizer (github.com/evcc-io/optimizer) takes energies per step and prices per Wh and
solves a MILP with PuLP/CBC; its repository's ``test_cases/*.json`` hold a request and the
response it expects. This module reads them into voltbridge's convention (ARCHITECTURE.md:
kW, kWh, hours, currency per kWh, storage power positive into the storage). Each mapping:

- Time: ``dt`` [s] per step becomes the grid's edges (irregular steps kept, e.g. a first step of
  81 s), starting at a fixed date: evcc's cases carry no timestamps.
- ``gt`` (load) and ``ft`` (PV) are energies per step [Wh]: divided by ``dt`` they become the mean
  power [kW]. ``p_N``/``p_E`` [currency/Wh] times 1000 become import/export prices per kWh.
- ``grid.p_max_imp``/``p_max_exp`` [W] become the import/export limits [kW]. evcc keeps them soft
  (a penalty per Wh beyond, reported as a limit violation); voltbridge's are hard, so load beyond
  the import limit becomes unserved load (priced) and PV beyond the export limit is curtailed. A
  missing limit becomes one no plan can reach (all load and charging, all PV and discharging).
  ``prc_p_exc_imp`` (a demand rate above the import limit) is not in these cases and is refused.
- ``pv_export`` is True: evcc lets any PV surplus go to the grid.
- Each battery: ``s_capacity`` (default ``s_max``, as evcc's app does) is the hard capacity;
  ``s_max`` the hard upper limit (evcc: soft, a large penalty per Wh and step; voltbridge lets a
  storage that starts above it stay there, as evcc's penalty also cannot undo without discharge
  power); ``s_min`` the soft reserve at every edge (both price a shortfall and charge back first);
  ``s_initial`` the state of charge at edge 0; ``c_max``/``d_max`` [W] the charge/discharge limits
  at every step; ``eta_c``/``eta_d`` the efficiencies (same stored-energy equation in both:
  ``s += eta_c c - d / eta_d``). ``discharge_to_grid`` (default False) becomes ``can_export``.
  ``p_a`` [currency/Wh], the value evcc gives the final state of charge, becomes the terminal
  value per kWh. voltbridge has one terminal value for all storages: where evcc's batteries differ
  (023: 0 and 8e-5) the largest is used and the money is not compared. No wear cost.
- ``s_goal[t] > 0`` (t >= 1; evcc ignores t = 0): a soft goal for the state of charge at the end
  of step t, i.e. edge t + 1, becomes a departure target there (both price a shortfall per kWh).
- A battery with ``s_max`` 0 (010's second one) can store nothing and is left out.
- Kind: a storage that may not discharge and has a minimum charge power is a car ("vehicle"),
  else a "battery"; only messages depend on it.

Not mapped (voltbridge's LP has no such constraint, so its problem is a relaxation of evcc's):
``c_min`` (charge at least this power or not at all: binaries), ``charge_from_grid`` False (no
charging while importing: binaries), ``p_demand`` (a soft minimum charge per step, with binaries
for "battery full"), ``c_priority`` and ``strategy`` (evcc's tie-breaking preferences, which its
second stage may not pay money for: ``preference_budget`` 0), evcc's penalty prices and its
ban on importing and exporting in one step (voltbridge's planner removes such overlap itself).

Comparing money. evcc's optimisation objective for money is ``export revenue - import cost +
p_a * final SoC``; :func:`evcc_money_cost` recomputes its negative from the expected response's
schedules. Where evcc's schedule is feasible for voltbridge and breaks none of voltbridge's soft
limits (:attr:`EvccCase.schedule_within_our_limits`), voltbridge's optimum can only cost the
same or less (its problem is a relaxation); where it is strictly less, a constraint evcc has and
voltbridge lacks (``c_min``, ``charge_from_grid``) was binding, or evcc stopped within its
absolute MIP gap of one cent.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Plan
from voltbridge.planner import Departure, Planner, PlanRequest, StorageSpec

FloatArray = npt.NDArray[np.float64]
CASES_DIR = Path(__file__).parent / "evcc_cases"
START_S = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
WH_PER_KWH = 1000.0
TOL_KWH = 1e-6


@dataclass(frozen=True)
class EvccCase:
    """One converted case.

    Attributes:
        name: the file's stem, e.g. ``"013-grid-export-limit-hit"``.
        request: the voltbridge request.
        kept: index into evcc's battery list of each storage in ``request.storages``.
        expected_objective: evcc's reported ``objective_value`` [currency] (money without
            penalties; its final-SoC term counts from the end of the first step), or None.
        values_per_kwh: evcc's ``p_a`` of each kept storage [currency/kWh].
        expected_money_cost: import cost - export revenue - terminal value of evcc's expected
            schedule [currency] (:func:`evcc_money_cost`), or None without a schedule.
        schedule_within_our_limits: evcc's expected schedule keeps voltbridge's hard limits
            (import and export limits, SoC in [0, e_max]) and soft ones (reserve, goals), so
            voltbridge's optimum may cost no more than it.
        unmapped: what of the case voltbridge does not model (sentences, for the report).
    """

    name: str
    request: PlanRequest
    kept: tuple[int, ...]
    expected_objective: float | None
    values_per_kwh: tuple[float, ...]
    expected_money_cost: float | None
    schedule_within_our_limits: bool
    unmapped: tuple[str, ...]


def _kw(energy_wh: list[float], dt_h: FloatArray) -> FloatArray:
    """Energy per step [Wh] as mean power [kW]."""
    return np.asarray(energy_wh, dtype=np.float64) / WH_PER_KWH / dt_h


def _storage(bat: dict[str, Any], name: str, n: int, eta_c: float, eta_d: float) -> StorageSpec:
    """One evcc battery as a StorageSpec (mapping in the module docstring)."""
    s_max_kwh = float(bat["s_max"]) / WH_PER_KWH
    cap_kwh = float(bat.get("s_capacity", bat["s_max"])) / WH_PER_KWH
    soc0_kwh = float(bat["s_initial"]) / WH_PER_KWH
    c_max_kw, d_max_kw = float(bat["c_max"]) / 1e3, float(bat["d_max"]) / 1e3
    goals = bat.get("s_goal") or [0.0] * n
    departures = tuple(
        Departure(t + 1, float(g) / WH_PER_KWH, datetime.fromtimestamp(START_S, UTC))
        for t, g in enumerate(goals)
        if t >= 1 and g > 0
    )
    car = d_max_kw == 0 and float(bat.get("c_min", 0.0)) > 0
    return StorageSpec(
        name=name,
        kind="vehicle" if car else "battery",
        capacity_kwh=max(cap_kwh, s_max_kwh, soc0_kwh),
        soc0_kwh=soc0_kwh,
        eta_charge=eta_c,
        eta_discharge=eta_d,
        max_charge_kw=np.full(n, c_max_kw),
        max_discharge_kw=np.full(n, d_max_kw),
        reserve_kwh=np.full(n + 1, float(bat.get("s_min", 0.0)) / WH_PER_KWH),
        max_soc_kwh=min(s_max_kwh, cap_kwh),
        driving_kwh=np.zeros(n),
        departures=departures,
        can_export=bool(bat.get("discharge_to_grid", False)),
    )


def _unmapped(req: dict[str, Any]) -> tuple[str, ...]:
    """What of the request voltbridge's LP leaves out (sentences)."""
    notes = []
    for i, bat in enumerate(req["batteries"]):
        if float(bat.get("c_min", 0.0)) > 0:
            notes.append(f"battery {i}: minimum charge power {bat['c_min']} W")
        if not bat.get("charge_from_grid", False) and float(bat["c_max"]) > 0:
            notes.append(f"battery {i}: no charging from the grid")
        if bat.get("p_demand") is not None and any(x > 0 for x in bat["p_demand"]):
            notes.append(f"battery {i}: minimum charge demand per step (p_demand)")
        if float(bat["s_max"]) <= 0:
            notes.append(f"battery {i}: s_max 0, left out")
    strategy = req.get("strategy") or {}
    for key in ("charging_strategy", "discharging_strategy"):
        if strategy.get(key, "none") != "none":
            notes.append(f"{key} {strategy[key]} (a tie-break)")
    return tuple(notes)


def convert(data: dict[str, Any], name: str) -> EvccCase:
    """A test case (``request`` and ``expected_response``) as an :class:`EvccCase`."""
    req = data["request"]
    ts = req["time_series"]
    dt_s = np.asarray(ts["dt"], dtype=np.int64)
    grid = TimeGrid(np.concatenate(([START_S], START_S + np.cumsum(dt_s))))
    n, dt_h = grid.n, grid.dt_h
    eta_c, eta_d = float(req.get("eta_c", 0.95)), float(req.get("eta_d", 0.95))
    bats = req["batteries"]
    kept = tuple(i for i, b in enumerate(bats) if float(b["s_max"]) > 0)
    storages = tuple(_storage(bats[i], f"b{i}", n, eta_c, eta_d) for i in kept)
    values_per_kwh = tuple(float(bats[i]["p_a"]) * WH_PER_KWH for i in kept)
    grid_cfg = req.get("grid") or {}
    if grid_cfg.get("prc_p_exc_imp") is not None:
        raise ValueError(f"{name}: a demand rate above the import limit is not mapped")
    load_kw, pv_kw = _kw(ts["gt"], dt_h), _kw(ts["ft"], dt_h)
    reach_imp = float(load_kw.max() + sum(s.max_charge_kw.max() for s in storages)) + 1.0
    reach_exp = float(pv_kw.max() + sum(s.max_discharge_kw.max() for s in storages)) + 1.0
    imp = grid_cfg.get("p_max_imp")
    exp = grid_cfg.get("p_max_exp")
    request = PlanRequest(
        grid=grid,
        load_kw=load_kw,
        pv_kw=pv_kw,
        price_import=np.asarray(ts["p_N"], dtype=np.float64) * WH_PER_KWH,
        price_export=np.asarray(ts["p_E"], dtype=np.float64) * WH_PER_KWH,
        import_limit_kw=reach_imp if imp is None else float(imp) / 1e3,
        export_limit_kw=reach_exp if exp is None else float(exp) / 1e3,
        pv_export=True,
        storages=storages,
        terminal_value_per_kwh=max(values_per_kwh, default=0.0),
    )
    request.validate()
    resp = data.get("expected_response") or {}
    money = evcc_money_cost(request, resp, kept, values_per_kwh)
    same_value = len(set(values_per_kwh)) <= 1
    return EvccCase(
        name=name,
        request=request,
        kept=kept,
        expected_objective=resp.get("objective_value"),
        expected_money_cost=money,
        values_per_kwh=values_per_kwh,
        schedule_within_our_limits=(
            money is not None and same_value and _within_limits(request, resp, kept)
        ),
        unmapped=_unmapped(req),
    )


def money_cost(
    req: PlanRequest,
    import_kwh: FloatArray,
    export_kwh: FloatArray,
    final_kwh: list[float],
    values_per_kwh: tuple[float, ...],
) -> float:
    """evcc's money objective, negated: import cost - export revenue - each storage's final
    energy [kWh] at its own ``p_a`` [currency]."""
    terminal = sum(v * e for v, e in zip(values_per_kwh, final_kwh, strict=True))
    return float(
        (req.price_import * import_kwh).sum() - (req.price_export * export_kwh).sum() - terminal
    )


def plan_money_cost(case: EvccCase, plan: Plan) -> float:
    """:func:`money_cost` of a voltbridge plan of ``case.request`` [currency]."""
    dt_h = case.request.grid.dt_h
    finals = [float(sp.soc_kwh[-1]) for sp in plan.storages]
    return money_cost(
        case.request,
        np.maximum(plan.grid_kw, 0.0) * dt_h,
        np.maximum(-plan.grid_kw, 0.0) * dt_h,
        finals,
        case.values_per_kwh,
    )


def evcc_money_cost(
    req: PlanRequest, resp: dict[str, Any], kept: tuple[int, ...], values: tuple[float, ...]
) -> float | None:
    """Import cost - export revenue - terminal value of evcc's expected schedule [currency].

    From the response's ``grid_import``/``grid_export`` [Wh per step] (the part beyond a limit
    included: evcc pays for all import; export beyond the limit earns nothing, voltbridge
    curtails it) and the final ``state_of_charge`` [Wh]. None where the response has no schedule.
    """
    if not resp.get("grid_import") or not resp.get("batteries"):
        return None
    imp_kwh = np.asarray(resp["grid_import"], dtype=np.float64) / WH_PER_KWH
    over = resp.get("grid_import_overshoot") or 0.0
    imp_kwh = imp_kwh + np.asarray(over, dtype=np.float64) / WH_PER_KWH
    exp_kwh = np.asarray(resp["grid_export"], dtype=np.float64) / WH_PER_KWH
    finals = [float(resp["batteries"][i]["state_of_charge"][-1]) / WH_PER_KWH for i in kept]
    return money_cost(req, imp_kwh, exp_kwh, finals, values)


def _within_limits(req: PlanRequest, resp: dict[str, Any], kept: tuple[int, ...]) -> bool:
    """Whether evcc's expected schedule keeps voltbridge's limits, soft ones included."""
    dt_h = req.grid.dt_h
    imp_kw = np.asarray(resp["grid_import"], dtype=np.float64) / WH_PER_KWH / dt_h
    over = np.asarray(resp.get("grid_import_overshoot") or 0.0, dtype=np.float64)
    if np.any(over > 0) or np.any(imp_kw > req.import_limit_kw + TOL_KWH):
        return False
    for spec, i in zip(req.storages, kept, strict=True):
        soc = np.asarray(resp["batteries"][i]["state_of_charge"], dtype=np.float64) / WH_PER_KWH
        e_max = max(spec.max_soc_kwh, spec.soc0_kwh)
        if np.any(soc > e_max + TOL_KWH) or np.any(soc < spec.reserve_kwh[1:] - TOL_KWH):
            return False
        if any(soc[d.edge - 1] < min(d.target_kwh, e_max) - TOL_KWH for d in spec.departures):
            return False
    return True


def load_case(path: Path) -> EvccCase:
    """Read and convert one case file."""
    return convert(json.loads(path.read_text()), path.stem)


def load_cases(folder: Path = CASES_DIR) -> list[EvccCase]:
    """Every ``*.json`` case in ``folder``, by name."""
    return [load_case(p) for p in sorted(folder.glob("*.json"))]


def unmapped_broken(case: EvccCase, raw: dict[str, Any], plan: Plan) -> list[str]:
    """evcc constraints that voltbridge does not model and ``plan`` breaks (sentences).

    Checked: minimum charge power ``c_min`` (charging above 0 W but below it), no charging from
    the grid (charging while importing), the minimum charge demand ``p_demand`` (charging less
    than asked while below ``s_max``) and a state of charge above ``s_max`` (evcc prices every Wh
    and step above it; voltbridge only caps it at the larger of ``s_max`` and ``s_initial``). Where voltbridge's plan costs less than evcc's, one of
    these is why, or evcc stopped within its one-cent MIP gap.
    """
    bats = raw["request"]["batteries"]
    importing = plan.grid_kw > TOL_KWH
    found = []
    for i, sp in zip(case.kept, plan.storages, strict=True):
        bat, charge_kw = bats[i], np.maximum(sp.power_kw, 0.0)
        c_min_kw = float(bat.get("c_min", 0.0)) / 1e3
        low = np.flatnonzero((charge_kw > TOL_KWH) & (charge_kw < c_min_kw - TOL_KWH))
        if low.size:
            found.append(f"{sp.name}: charges below c_min at steps {low.tolist()}")
        if not bat.get("charge_from_grid", False):
            grid = np.flatnonzero(importing & (charge_kw > TOL_KWH))
            if grid.size:
                found.append(f"{sp.name}: charges while importing at steps {grid.tolist()}")
        above = np.flatnonzero(sp.soc_kwh[1:] > float(bat["s_max"]) / WH_PER_KWH + TOL_KWH)
        if above.size:
            found.append(f"{sp.name}: stays above s_max at steps {above.tolist()}")
        if bat.get("p_demand") is not None:
            dt_h = case.request.grid.dt_h
            want_kwh = np.minimum(np.asarray(bat["p_demand"]) / WH_PER_KWH, charge_kw.max() * dt_h)
            below_max = sp.soc_kwh[1:] < float(bat["s_max"]) / WH_PER_KWH - TOL_KWH
            short = np.flatnonzero(below_max & (charge_kw * dt_h < want_kwh - TOL_KWH))
            if short.size:
                found.append(f"{sp.name}: charges less than p_demand at steps {short.tolist()}")
    return found


@dataclass(frozen=True)
class CaseTiming:
    """One case's figures for ``bench/planner.py --evcc``.

    Attributes:
        name: the case's name.
        steps: its number of steps.
        median_ms: median of ``Planner().plan`` over the runs (a fresh planner each run, so
            every run is cold, as a request to evcc's optimizer is) [ms].
        mip_rounds: branch-and-bound rounds (``Planner.last_stats``).
        how: ``"LP"``, ``"LP, overlap removed"`` (the first LP overlapped, removed at no cost) or
            ``"MIP"``.
        money_vs_evcc: voltbridge's money less evcc's expected schedule's [currency], or None.
        comparable: evcc's schedule keeps voltbridge's limits, so ``money_vs_evcc <= 0``
            (:attr:`EvccCase.schedule_within_our_limits`).
    """

    name: str
    steps: int
    median_ms: float
    mip_rounds: int
    how: str
    money_vs_evcc: float | None
    comparable: bool


def time_case(case: EvccCase, runs: int) -> CaseTiming:
    """Plan ``case`` once to warm up, then ``runs`` times with a fresh planner, timed."""
    Planner().plan(case.request)
    times, planner, plan = [], Planner(), None
    for _ in range(runs):
        planner = Planner()
        t0 = time.perf_counter()
        plan = planner.plan(case.request)
        times.append((time.perf_counter() - t0) * 1000.0)
    assert plan is not None
    st = planner.last_stats
    plain = st.mip_rounds == 0 and not st.fixed_directions
    how = ("LP, overlap removed" if st.lp_overlap else "LP") if plain else "MIP"
    money = plan_money_cost(case, plan)
    evcc = case.expected_money_cost
    return CaseTiming(
        name=case.name,
        steps=case.request.grid.n,
        median_ms=statistics.median(times),
        mip_rounds=st.mip_rounds,
        how=how,
        money_vs_evcc=None if evcc is None else money - evcc,
        comparable=case.schedule_within_our_limits,
    )


def print_timings(rows: list[CaseTiming]) -> dict[str, float | int]:
    """Print one line per case and the totals; return the totals for ``--json``."""
    print(f"{'evcc case':<44} {'steps':>5} {'median ms':>9} {'rounds':>6}  {'how':<20} vs evcc")
    for r in rows:
        vs = "" if r.money_vs_evcc is None else f"{r.money_vs_evcc:+.4f}"
        vs += "" if r.comparable else " (evcc breaks a voltbridge limit)"
        print(f"{r.name:<44} {r.steps:>5} {r.median_ms:>9.2f} {r.mip_rounds:>6}  {r.how:<20} {vs}")
    plain = [r for r in rows if r.how != "MIP"]
    total = sum(r.median_ms for r in rows)
    print(
        f"evcc total: {len(rows)} cases, {total:.1f} ms (sum of medians), {len(plain)} as a plain "
        f"LP ({sum(r.median_ms for r in plain):.1f} ms), {len(rows) - len(plain)} with binaries "
        f"({sum(r.mip_rounds for r in rows)} rounds); 'vs evcc' is voltbridge's money less that "
        "of evcc's expected schedule (negative: cheaper; see bench/evcc.py for why)"
    )
    return {
        "evcc_cases": len(rows),
        "evcc_plain_lp": len(plain),
        "evcc_total_ms": round(total, 2),
        "evcc_max_ms": round(max(r.median_ms for r in rows), 2),
        "evcc_mip_rounds": sum(r.mip_rounds for r in rows),
    }
