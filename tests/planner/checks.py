"""An independent check of a plan: every balance, bound and cost recomputed from the plan's outputs.

Nothing here calls planner code except two prices the planner chooses rather than rules to
check (:func:`~voltbridge.planner.model.terminal_value` and
:func:`~voltbridge.planner.model.unmet_driving_price`); the rules are written again from
ARCHITECTURE.md and the docstrings of :mod:`voltbridge.planner.request`, so a mistake in the model
shows up as a disagreement instead of being copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voltbridge.core.types import Plan, StoragePlan
from voltbridge.planner.model import terminal_value, unmet_driving_price
from voltbridge.planner.request import BudgetWindow, PlanRequest, StorageSpec

FloatArray = npt.NDArray[np.float64]


def soc_from_power(
    soc0_kwh: float,
    power_kw: FloatArray,
    dt_h: FloatArray,
    eta_charge: float,
    eta_discharge: float,
    driving_kwh: FloatArray,
) -> FloatArray:
    """Stored energy at every edge [kWh], stepping the AC power [kW] through the efficiencies.

    ``soc[t+1] = soc[t] + eta_c max(p, 0) dt - max(-p, 0) dt / eta_d - driving[t]``.
    """
    soc = np.empty(power_kw.size + 1)
    soc[0] = soc0_kwh
    for t, p in enumerate(power_kw):
        gain = eta_charge * max(p, 0.0) * dt_h[t]
        loss = max(-p, 0.0) * dt_h[t] / eta_discharge
        soc[t + 1] = soc[t] + gain - loss - driving_kwh[t]
    return soc


def price_scale(req: PlanRequest) -> float:
    """The penalty unit [currency/kWh]: at least 1, the largest absolute price, and each demand
    charge's rate over the shortest step of its window (what one kWh there can cost)."""
    unit = max(1.0, float(np.abs(req.price_import).max()), float(np.abs(req.price_export).max()))
    for dc in req.demand_charges:
        if np.any(dc.mask):
            unit = max(unit, dc.rate_per_kw / float(req.grid.dt_h[dc.mask].min()))
    return unit


def discharged_ac_kwh(power_kw: FloatArray, dt_h: FloatArray) -> float:
    """AC energy a storage gives out over the horizon [kWh]."""
    return float((np.maximum(-power_kw, 0.0) * dt_h).sum())


def window_overspend_kwh(
    spec: StorageSpec, power_kw: FloatArray, dt_h: FloatArray, w: BudgetWindow
) -> float:
    """Stored energy given in one budget window above its allowance [kWh]."""
    given = np.maximum(-power_kw[w.first : w.stop], 0.0) * dt_h[w.first : w.stop]
    return max(0.0, float(given.sum()) / spec.eta_discharge - w.stored_kwh)


def departure_shortfall_kwh(spec: StorageSpec, soc_kwh: FloatArray) -> float:
    """Energy missing at the storage's departures, summed [kWh] (targets capped at the SoC limit)."""
    return sum(
        max(0.0, min(d.target_kwh, max(spec.max_soc_kwh, spec.soc0_kwh)) - float(soc_kwh[d.edge]))
        for d in spec.departures
    )


def backup_shortfall_kwh(req: PlanRequest, plan: Plan) -> FloatArray:
    """Backup energy missing at each edge 1..n [kWh]: ``backup - sum counts max(soc - reserve, 0)``.

    A storage below its reserve does not count for backup (StorageSpec): it adds nothing, and
    takes nothing away from the others.
    """
    n = req.grid.n
    if req.backup_kwh is None:
        return np.zeros(n)
    held = np.zeros(n)
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        counts = np.ones(n + 1) if spec.backup_counts is None else spec.backup_counts
        reserve = np.minimum(spec.reserve_kwh[1:], max(spec.max_soc_kwh, spec.soc0_kwh))
        held += counts[1:] * np.maximum(sp.soc_kwh[1:] - reserve, 0.0)
    wanted = np.where(req.backup_kwh[1:] > 1e-9, req.backup_kwh[1:], 0.0)
    return np.maximum(wanted - held, 0.0)


@dataclass(frozen=True)
class CostTerms:
    """The objective's terms [currency], recomputed from a plan's net powers and states of charge."""

    import_cost: float
    export_revenue: float
    degradation: float
    demand_charge: float
    penalties: float
    terminal_value: float

    @property
    def total(self) -> float:
        """What the planner reports as ``cost.total`` (terminal value excluded)."""
        return (
            self.import_cost
            - self.export_revenue
            + self.degradation
            + self.demand_charge
            + self.penalties
        )


def recompute_costs(req: PlanRequest, plan: Plan) -> CostTerms:
    """Every cost term from the plan's outputs alone (net grid power, signed storage power, SoC)."""
    dt = req.grid.dt_h
    imp = np.maximum(plan.grid_kw, 0.0)
    exp = np.maximum(-plan.grid_kw, 0.0)
    scale = price_scale(req)
    pen = req.penalties
    degradation = 0.0
    penalties = pen.unserved_load * scale * float((plan.unserved_kw * dt).sum())
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        w = spec.wear
        degradation += (
            w.throughput_per_kwh * discharged_ac_kwh(sp.power_kw, dt) / spec.eta_discharge
        )
        above = np.maximum(sp.soc_kwh[1:] - w.calendar_threshold_kwh, 0.0)
        degradation += w.calendar_per_kwh_h * float((above * dt).sum())
        e_max = max(spec.max_soc_kwh, spec.soc0_kwh)
        short = np.maximum(np.minimum(spec.reserve_kwh[1:], e_max) - sp.soc_kwh[1:], 0.0)
        penalties += pen.mobility_reserve * scale * float((short * dt).sum())
        unmet = float((spec.driving_kwh - sp.driving_kwh).sum())
        penalties += unmet_driving_price(req, spec, scale) * unmet
        penalties += pen.departure * scale * departure_shortfall_kwh(spec, sp.soc_kwh)
        if spec.discharge_budget_kwh is not None:
            over = discharged_ac_kwh(sp.power_kw, dt) - spec.discharge_budget_kwh
            penalties += pen.discharge_budget * scale * max(0.0, over)
        for w in spec.budget_windows:
            penalties += (
                pen.discharge_budget * scale * window_overspend_kwh(spec, sp.power_kw, dt, w)
            )
    penalties += pen.backup_reserve * scale * float((backup_shortfall_kwh(req, plan) * dt).sum())
    demand = 0.0
    for dc in req.demand_charges:
        if np.any(dc.mask):
            demand += dc.rate_per_kw * max(0.0, float(imp[dc.mask].max()) - dc.already_kw)
    v = terminal_value(req)
    return CostTerms(
        import_cost=float((req.price_import * imp * dt).sum()),
        export_revenue=float((req.price_export * exp * dt).sum()),
        degradation=degradation,
        demand_charge=demand,
        penalties=penalties,
        terminal_value=v * sum(float(sp.soc_kwh[-1]) for sp in plan.storages),
    )


def _close(what: str, got: float, want: float, tol: float) -> None:
    assert abs(got - want) <= tol * max(1.0, abs(want)), (
        f"{what}: plan says {got!r}, recomputed {want!r}"
    )


def _all_le(what: str, lhs: FloatArray, rhs: FloatArray | float, tol: float) -> None:
    over = np.asarray(lhs - rhs)
    bad = np.flatnonzero(over > tol)
    assert bad.size == 0, f"{what}: violated at steps {bad[:5].tolist()} by up to {over.max():.3g}"


def assert_storage_valid(req: PlanRequest, spec: StorageSpec, sp: StoragePlan, tol: float) -> None:
    """SoC from power, bounds on power and SoC, driving not above what was asked."""
    n, dt = req.grid.n, req.grid.dt_h
    name = spec.name
    assert sp.name == name and sp.kind == spec.kind
    assert sp.power_kw.shape == (n,) and sp.soc_kwh.shape == (n + 1,)
    assert sp.driving_kwh.shape == (n,)
    _all_le(f"{name}: plan driving above the request", sp.driving_kwh, spec.driving_kwh, tol)
    _all_le(f"{name}: negative driving energy", -sp.driving_kwh, 0.0, tol)
    assert abs(sp.soc_kwh[0] - spec.soc0_kwh) <= tol, f"{name}: SoC at edge 0 is not soc0"
    soc = soc_from_power(
        spec.soc0_kwh, sp.power_kw, dt, spec.eta_charge, spec.eta_discharge, sp.driving_kwh
    )
    gap = np.abs(soc - sp.soc_kwh)
    cum_tol = tol * (1.0 + n)  # HiGHS's vertices agree to ~1e-11 kWh; netting 1 W shows
    assert gap.max() <= cum_tol, (
        f"{name}: SoC from power differs from the plan's SoC by {gap.max():.3g} kWh at edge "
        f"{int(gap.argmax())} (simultaneous charge and discharge netted away?)"
    )
    e_max = max(spec.max_soc_kwh, spec.soc0_kwh)
    _all_le(f"{name}: SoC above its maximum", sp.soc_kwh, e_max, tol * max(1.0, e_max))
    _all_le(f"{name}: negative SoC", -sp.soc_kwh, 0.0, tol * max(1.0, e_max))
    _all_le(f"{name}: charge above its limit", sp.power_kw, spec.max_charge_kw, tol)
    _all_le(f"{name}: discharge above its limit", -sp.power_kw, spec.max_discharge_kw, tol)
    assert np.array_equal(sp.plugged_in, spec.plugged_in), f"{name}: plugged-in flags differ"


def assert_plan_valid(req: PlanRequest, plan: Plan, tol: float = 1e-6) -> CostTerms:
    """Assert that ``plan`` obeys every hard limit of ``req`` and that its costs add up.

    Returns the recomputed cost terms for further checks.
    """
    n = req.grid.n
    load, pv = req.load_kw, req.pv_kw
    for arr in (plan.grid_kw, plan.pv_used_kw, plan.unserved_kw):
        assert arr.shape == (n,)
    assert len(plan.storages) == len(req.storages)
    storage_sum = np.zeros(n)
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        assert_storage_valid(req, spec, sp, tol)
        storage_sum += sp.power_kw

    # Balance: grid + pv_used + unserved = load + sum(storage power).
    lhs = plan.grid_kw + plan.pv_used_kw + plan.unserved_kw
    gap = np.abs(lhs - load - storage_sum)
    assert gap.max() <= tol * 10, f"power balance off by {gap.max():.3g} kW at step {gap.argmax()}"

    _all_le("PV used above PV available", plan.pv_used_kw, pv, tol)
    _all_le("negative PV used", -plan.pv_used_kw, 0.0, tol)
    _all_le("unserved load above load", plan.unserved_kw, load, tol)
    _all_le("negative unserved load", -plan.unserved_kw, 0.0, tol)
    _all_le("import above the limit", plan.grid_kw, req.import_limit_kw, tol)
    export = np.maximum(-plan.grid_kw, 0.0)
    _all_le("export above the limit", export, req.export_limit_kw, tol)

    # Export rule: PV surplus (if the policy allows) plus discharge of exporting storages.
    allowed = np.zeros(n)
    if req.pv_export:
        allowed += np.where(pv > load, np.maximum(plan.pv_used_kw - load, 0.0), 0.0)
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        if spec.can_export:
            allowed += np.maximum(-sp.power_kw, 0.0)
    _all_le("export of energy that may not be exported", export, allowed, tol * 10)

    # Costs: computed from net powers, so netted simultaneous flows show up here.
    costs = recompute_costs(req, plan)
    c = plan.cost
    money_tol = tol * (1.0 + n)
    _close("import cost", c.import_cost, costs.import_cost, money_tol)
    _close("export revenue", c.export_revenue, costs.export_revenue, money_tol)
    _close("degradation", c.degradation, costs.degradation, money_tol)
    _close("demand charge", c.demand_charge, costs.demand_charge, money_tol)
    _close("penalties", c.penalties, costs.penalties, money_tol * 100)
    _close("terminal value", c.terminal_value, costs.terminal_value, money_tol)
    _close("total", c.total, costs.total, money_tol * 100)

    # Named slack agrees with what the outputs show.
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        dep = departure_shortfall_kwh(spec, sp.soc_kwh)
        _close(f"departure slack of {spec.name}", plan.slack[f"departure:{spec.name}"], dep, 1e-5)
        unmet = float((spec.driving_kwh - sp.driving_kwh).sum())
        _close(
            f"unmet driving of {spec.name}", plan.slack[f"unmet_driving:{spec.name}"], unmet, 1e-5
        )
        if spec.discharge_budget_kwh is not None:
            over = max(
                0.0, discharged_ac_kwh(sp.power_kw, req.grid.dt_h) - spec.discharge_budget_kwh
            )
        else:
            over = 0.0
        over += sum(
            window_overspend_kwh(spec, sp.power_kw, req.grid.dt_h, w) for w in spec.budget_windows
        )
        if spec.discharge_budget_kwh is not None or spec.budget_windows:
            got = plan.slack[f"discharge_budget:{spec.name}"]
            _close(f"discharge budget slack of {spec.name}", got, over, 1e-5)
    unserved = float((plan.unserved_kw * req.grid.dt_h).sum())
    _close("unserved load slack", plan.slack["unserved_load"], unserved, 1e-5)
    backup = float(backup_shortfall_kwh(req, plan).max(initial=0.0))
    _close("backup slack", plan.slack.get("backup_reserve", 0.0), backup, 1e-5)
    return costs
