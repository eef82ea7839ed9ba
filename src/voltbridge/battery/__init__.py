"""Battery ageing: the linear wear cost the planner uses and capacity fade from NREL's cell models."""

from voltbridge.battery.ageing import (
    AgeingResult,
    capacity_fade,
    cell_model_for,
    pack_temperature_c,
)
from voltbridge.battery.cost import BatteryCare, WearCost, wear_cost

__all__ = [
    "AgeingResult",
    "BatteryCare",
    "WearCost",
    "capacity_fade",
    "cell_model_for",
    "pack_temperature_c",
    "wear_cost",
]
