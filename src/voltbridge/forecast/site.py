"""The forecast of a site for the planner, behind one function that better forecasts will replace."""

from __future__ import annotations

from dataclasses import dataclass

from voltbridge.config import Site, resolve_vehicles
from voltbridge.core.timegrid import FloatArray, TimeGrid
from voltbridge.forecast.load import standard_load_kw, week_profile_kw
from voltbridge.forecast.measured import measured_load_kw
from voltbridge.forecast.pv import clearsky_pv_kw
from voltbridge.forecast.trips import Availability, TripRule, availability


@dataclass(frozen=True)
class SiteForecast:
    """What the planner is told about the horizon.

    Attributes:
        load_kw: household load per step [kW].
        pv_kw: PV power available per step [kW].
        vehicles: each car's availability by name.
    """

    load_kw: FloatArray
    pv_kw: FloatArray
    vehicles: dict[str, Availability]


def trip_rules(site: Site) -> dict[str, list[TripRule]]:
    """Each vehicle's trips with their energy [kWh] from distance and consumption."""
    out = {}
    for rv in resolve_vehicles(site):
        out[rv.entry.name] = [
            TripRule(
                days=tuple(t.days),
                depart=t.depart_time,
                return_=t.return_time,
                energy_kwh=t.km * rv.consumption_kwh_per_km,
            )
            for t in rv.entry.trips
        ]
    return out


def expected_load_kw(site: Site, grid: TimeGrid) -> FloatArray:
    """The site's load as known in advance [kW]: its measured year, its typical week, or the
    BDEW H25 profile scaled to its annual consumption."""
    tz = site.location.timezone
    if site.load.measured is not None:
        return measured_load_kw(grid, site.load.measured)
    if site.load.profile is not None:
        return week_profile_kw(grid, site.load.profile, tz)
    assert site.load.annual_kwh is not None  # the Load model requires one of the three
    return standard_load_kw(grid, site.load.annual_kwh, tz)


def pv_array_args(
    site: Site,
) -> tuple[float, float, float, float, float, float, float, float | None]:
    """The site's PV array as :func:`clearsky_pv_kw` takes it after the grid: latitude,
    longitude [°], kWp, tilt and azimuth [°], altitude [m], losses [%], inverter [kW AC]."""
    loc, pv = site.location, site.pv
    if pv is None:
        raise ValueError("the site has no [pv] array")
    return (
        loc.latitude,
        loc.longitude,
        pv.kwp,
        pv.tilt_deg,
        pv.azimuth_deg,
        loc.altitude_m,
        pv.losses_pct,
        pv.inverter_kw,
    )


def site_clearsky_pv_kw(site: Site, grid: TimeGrid) -> FloatArray:
    """The site's PV under a clear sky, averaged over each step of ``grid`` [kW]."""
    return clearsky_pv_kw(grid, *pv_array_args(site))


def forecast_site(site: Site, grid: TimeGrid) -> SiteForecast:
    """The default forecast: clear-sky PV, the site's load profile, trips from the schedule."""
    load = expected_load_kw(site, grid)
    pv = site_clearsky_pv_kw(site, grid) if site.pv is not None else grid.dt_h * 0.0
    vehicles = {
        name: availability(grid, rules, site.location.timezone)
        for name, rules in trip_rules(site).items()
    }
    return SiteForecast(load_kw=load, pv_kw=pv, vehicles=vehicles)
