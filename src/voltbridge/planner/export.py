"""A plan as plain data (the JSON of `voltbridge plan --json` and, later, the API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from voltbridge.core.types import Plan


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def plan_to_dict(plan: Plan, step_minutes: int) -> dict[str, Any]:
    """The plan with the signs of ARCHITECTURE.md; per-step SoC is the value at the step's end.

    ``cost.bill`` is the money over the horizon (imports less exports plus demand charges);
    ``cost.penalties`` are the prices the planner gives to targets it cannot meet, never money,
    and ``warnings`` say in words which targets those are; ``cost.total`` is what the planner
    minimised (bill, wear and penalties), for the planner's own reading."""
    g = plan.grid
    battery = next((s for s in plan.storages if s.kind == "battery"), None)
    vehicles = [s for s in plan.storages if s.kind == "vehicle"]
    steps = []
    for t in range(g.n):
        steps.append(
            {
                "start": _iso(float(g.edges_s[t])),
                "hours": round(float(g.dt_h[t]), 6),
                "price_import": float(plan.price_import[t]),
                "price_export": float(plan.price_export[t]),
                "load_kw": float(plan.load_kw[t]),
                "pv_kw": float(plan.pv_kw[t]),
                "pv_used_kw": float(plan.pv_used_kw[t]),
                "grid_kw": float(plan.grid_kw[t]),
                "unserved_kw": float(plan.unserved_kw[t]),
                "battery_kw": float(battery.power_kw[t]) if battery else 0.0,
                "battery_soc_kwh": float(battery.soc_kwh[t + 1]) if battery else 0.0,
                "vehicles": {
                    v.name: {
                        "kw": float(v.power_kw[t]),
                        "soc_kwh": float(v.soc_kwh[t + 1]),
                        "plugged_in": bool(v.plugged_in[t]),
                        "driving_kwh": float(v.driving_kwh[t]),
                    }
                    for v in vehicles
                },
            }
        )
    c = plan.cost
    return {
        "start": _iso(float(g.edges_s[0])),
        "end": _iso(float(g.edges_s[-1])),
        "step_minutes": step_minutes,
        "solve_ms": round(plan.solve_ms, 3),
        "cost": {
            "total": c.total,
            "bill": c.bill,
            "import": c.import_cost,
            "export_revenue": c.export_revenue,
            "degradation": c.degradation,
            "demand_charge": c.demand_charge,
            "penalties": c.penalties,
            "terminal_value": c.terminal_value,
        },
        "storages": {
            s.name: {
                "kind": s.kind,
                "capacity_kwh": s.capacity_kwh,
                "soc_start_kwh": float(s.soc_kwh[0]),
                "soc_end_kwh": float(s.soc_kwh[-1]),
            }
            for s in plan.storages
        },
        "has_battery": battery is not None,
        "slack": plan.slack,
        "steps": steps,
        "warnings": list(plan.warnings),
    }
