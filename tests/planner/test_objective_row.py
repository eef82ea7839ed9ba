"""A recorded request whose least-throughput LP HiGHS found infeasible at exactly the optimum.

``data/objective_row_infeasible.json``: a 48-hour plan of the Munich example (sigen-dynamic-
germany) from 29 June 2025 08:40 local time, with perfect foresight of load and PV, day-ahead
prices down to -0.30 EUR/kWh and a terminal value of 0.28 EUR/kWh, written field by field from
the ``PlanRequest`` the simulator built (its prices derive from the shipped SMARD series,
CC BY 4.0, Bundesnetzagentur | SMARD.de). The row ``cost x <= objective`` that keeps the optimum
while throughput is minimised was infeasible for HiGHS with no slack, and the plan was lost
(``SolverError``); the row now carries the slack the check after it allows.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from voltbridge.battery.cost import WearCost
from voltbridge.core.timegrid import TimeGrid
from voltbridge.planner import Planner
from voltbridge.planner.request import (
    DemandCharge,
    Departure,
    Penalties,
    PlanRequest,
    StorageSpec,
)

from .checks import assert_plan_valid

DATA = Path(__file__).parent / "data" / "objective_row_infeasible.json"
TYPES: dict[str, Any] = {
    t.__name__: t
    for t in (PlanRequest, StorageSpec, Departure, Penalties, DemandCharge, WearCost, TimeGrid)
}
TUPLES = {"storages", "departures", "demand_charges", "notes"}


def decode(value: Any, name: str = "") -> Any:
    """The JSON form back into the request's types (arrays, datetimes, dataclasses, tuples)."""
    if isinstance(value, dict):
        if "__array__" in value:
            return np.array(value["__array__"], dtype=value["dtype"])
        if "__datetime__" in value:
            return datetime.fromisoformat(value["__datetime__"])
        kind = TYPES[value["__type__"]]
        return kind(**{k: decode(v, k) for k, v in value.items() if k != "__type__"})
    if isinstance(value, list) and name in TUPLES:
        return tuple(decode(v) for v in value)
    return value


def test_recorded_request_plans_instead_of_failing() -> None:
    req = decode(json.loads(DATA.read_text()))
    assert isinstance(req, PlanRequest) and req.price_import.min() < -0.3
    plan = Planner().plan(req)
    assert_plan_valid(req, plan)


def test_the_rows_slack_never_costs_the_plan_more_than_the_tests_agreement() -> None:
    """``data/throughput_slack.json`` (a random home of ``tests/planner/scenarios.py`` with a
    negative-price window, found by hypothesis in CI): its objective carries the reserve
    reward's constant (about -1,008 against a plan cost of -0.555), so a row slack of 1e-9
    relative let the least-throughput LP cost the plan 1.0e-6 more than the optimum."""
    from .reference_lp import reference_objective

    req = decode(json.loads((DATA.parent / "throughput_slack.json").read_text()))
    planner = Planner(hot=False)
    plan = planner.plan(req)
    assert planner.last_stats.throughput_lp  # the path under test
    ours = plan.cost.total - plan.cost.terminal_value
    ref = reference_objective(req, exclusive=False)
    assert abs(ours - ref) <= 1e-7 * max(1.0, abs(ref)), (ours, ref)
