"""Battery ageing: the linear wear cost the planner uses (the ageing simulation comes with the simulator)."""

from voltbridge.battery.cost import BatteryCare, WearCost, wear_cost

__all__ = ["BatteryCare", "WearCost", "wear_cost"]
