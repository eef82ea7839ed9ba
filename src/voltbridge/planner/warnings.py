"""Warnings a household can act on, read from a plan's soft limits that could not be met."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from voltbridge.core.types import Plan
from voltbridge.planner.request import PlanRequest

TOL_KWH = 0.05
"""Shortfalls below this are rounding, not worth a warning [kWh]."""


def _when(edge_s: float) -> str:
    return datetime.fromtimestamp(edge_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


def plan_warnings(req: PlanRequest, plan: Plan) -> list[str]:
    """One sentence per soft limit the plan breaks: what, when, by how much, and why."""
    out: list[str] = list(req.notes)
    edges = req.grid.edges_s
    for spec, sp in zip(req.storages, plan.storages, strict=True):
        for dep in spec.departures:
            have = float(sp.soc_kwh[dep.edge])
            want = min(dep.target_kwh, max(spec.max_soc_kwh, spec.soc0_kwh))
            if want - have > TOL_KWH:
                out.append(
                    f"{spec.name}: departure at {dep.at.strftime('%Y-%m-%d %H:%M UTC')} with "
                    f"{have:.1f} kWh instead of the {want:.1f} kWh target (short by "
                    f"{want - have:.1f} kWh): not enough time plugged in at the allowed power."
                )
        unmet = spec.driving_kwh - sp.driving_kwh
        if unmet.sum() > TOL_KWH:
            first = int(np.flatnonzero(unmet > 1e-9)[0])
            out.append(
                f"{spec.name}: trips from {_when(edges[first])} need {unmet.sum():.1f} kWh more "
                "than the car can hold; that energy must be charged away from home."
            )
        reserve = np.minimum(spec.reserve_kwh[1:], max(spec.max_soc_kwh, spec.soc0_kwh))
        short = reserve - sp.soc_kwh[1:]
        if short.max(initial=0.0) > TOL_KWH:
            k = int(np.argmax(short)) + 1
            what = "mobility reserve" if spec.kind == "vehicle" else "minimum state of charge"
            out.append(
                f"{spec.name}: below its {what} by up to {short.max():.1f} kWh (at "
                f"{_when(edges[k])}); it is charged back as fast as its limits allow."
            )
        if spec.discharge_budget_kwh is not None:
            used = float(np.sum(np.maximum(-sp.power_kw, 0) * req.grid.dt_h))
            if used - spec.discharge_budget_kwh > TOL_KWH:
                out.append(
                    f"{spec.name}: discharges {used:.1f} kWh, over its {spec.discharge_budget_kwh:.1f}"
                    " kWh budget for this horizon (warranty limit)."
                )
        for w in spec.budget_windows:
            given = float(
                np.sum(
                    np.maximum(-sp.power_kw[w.first : w.stop], 0) * req.grid.dt_h[w.first : w.stop]
                )
            )
            used = given / spec.eta_discharge
            if used - w.stored_kwh > TOL_KWH:
                out.append(
                    f"{spec.name}: gives {used:.1f} kWh on {w.at.date().isoformat()},"
                    f" over its {w.stored_kwh:.1f} kWh warranty allowance for that day."
                )
    backup = plan.slack.get("backup_reserve", 0.0)
    if backup > TOL_KWH:
        out.append(
            f"backup reserve short by up to {backup:.1f} kWh: the storage plugged in cannot hold "
            "the hours of essential load asked for."
        )
    unserved = float(np.sum(plan.unserved_kw * req.grid.dt_h))
    if unserved > TOL_KWH:
        k = int(np.flatnonzero(plan.unserved_kw > 1e-9)[0])
        out.append(
            f"{unserved:.1f} kWh of household load cannot be supplied (from {_when(edges[k])}): "
            "the grid limit is too low for the load."
        )
    return out
