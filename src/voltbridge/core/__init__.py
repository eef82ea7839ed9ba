"""Time grid, clocks, units and the value types every room shares."""

from voltbridge.core.clock import Clock, RealClock, VirtualClock
from voltbridge.core.timegrid import FloatArray, TimeGrid, ensure_utc, piecewise_mean, step_means
from voltbridge.core.types import (
    Command,
    GridState,
    Measurement,
    Plan,
    PlanCost,
    StoragePlan,
)

__all__ = [
    "Clock",
    "Command",
    "FloatArray",
    "GridState",
    "Measurement",
    "Plan",
    "PlanCost",
    "RealClock",
    "StoragePlan",
    "TimeGrid",
    "VirtualClock",
    "ensure_utc",
    "piecewise_mean",
    "step_means",
]
