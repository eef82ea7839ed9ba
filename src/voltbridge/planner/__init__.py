"""The optimal V2X planner: an LP built from arrays and solved with HiGHS."""

from voltbridge.planner.lp import LinearProgram, SolverError
from voltbridge.planner.planner import Planner, build_model
from voltbridge.planner.request import (
    DemandCharge,
    Departure,
    Penalties,
    PlanRequest,
    StorageSpec,
)

__all__ = [
    "DemandCharge",
    "Departure",
    "LinearProgram",
    "Penalties",
    "PlanRequest",
    "Planner",
    "SolverError",
    "StorageSpec",
    "build_model",
]
