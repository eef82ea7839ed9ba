"""The real-time controller: grid-state machine (more to come)."""

from voltbridge.control.grid_state import GridEvent, GridLimits, GridReading, GridStateMachine

__all__ = ["GridEvent", "GridLimits", "GridReading", "GridStateMachine"]
