"""The real-time controller: grid-state machine (more to come)."""

from voltbridge.control.grid_state import GridEvent, GridLimits, GridReading, GridStateMachine
from voltbridge.control.guard import (
    GuardInput,
    Intervention,
    SiteLimits,
    StorageLimits,
    guard,
)

__all__ = [
    "GridEvent",
    "GridLimits",
    "GridReading",
    "GridStateMachine",
    "GuardInput",
    "Intervention",
    "SiteLimits",
    "StorageLimits",
    "guard",
]
