"""Site configuration: pydantic models of a home, loaded and validated from TOML."""

from voltbridge.config.errors import Problem, SiteError
from voltbridge.config.load import load_site, parse_site
from voltbridge.config.models import (
    PV,
    ChargerEntry,
    Circuit,
    GridConnection,
    HomeBattery,
    Load,
    Location,
    OutageRisk,
    Preferences,
    ProgramEntry,
    Site,
    Trip,
    VehicleEntry,
    WeatherForecast,
)
from voltbridge.config.resolve import ResolvedVehicle, resolve_vehicles

__all__ = [
    "PV",
    "ChargerEntry",
    "Circuit",
    "GridConnection",
    "HomeBattery",
    "Load",
    "Location",
    "OutageRisk",
    "Preferences",
    "Problem",
    "ProgramEntry",
    "ResolvedVehicle",
    "Site",
    "SiteError",
    "Trip",
    "VehicleEntry",
    "WeatherForecast",
    "load_site",
    "parse_site",
    "resolve_vehicles",
]
