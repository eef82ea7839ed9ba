"""A car's limits for the house, resolved once: discharge floor, mobility reserve, departure
target and warranty budget.

The planner (``planner/from_site.py``), the real-time controller (``control/site_model.py``) and
the simulator (``sim/context.py``) used to each derive these from the site file, the catalog and
the household's settings with their own rules, and they drifted apart (the controller let a
V2G-only pair discharge into the house while the household had V2G off, and counted the maker's
floor into the reserve of a car that may not discharge at all). They now all read
:class:`CarLimits`, built here by :func:`car_limits`.
"""

from __future__ import annotations

from dataclasses import dataclass

from voltbridge.catalog import Mode, check_compatibility
from voltbridge.config.models import Site
from voltbridge.config.resolve import ResolvedVehicle, resolve_vehicles

HOURS_PER_YEAR = 8760.0
"""A warranty year for spreading its discharge allowance [h]."""

DEFAULT_OUTAGE_RESERVE_PCT = 10.0
"""State of charge a car keeps in an outage when the household set none [%]: the essential
circuits (fridge, well pump, medical devices) outrank the next trip's mobility reserve, but a
tenth of the battery (40-60 km in most cars) is kept to reach a charger or leave the area, as
in a wildfire shutoff."""


@dataclass(frozen=True)
class CarLimits:
    """One car on its charger at this site, with the household's preferences applied.

    Attributes:
        name: the vehicle's name in the site file.
        capacity_kwh: usable capacity [kWh].
        max_charge_kw: AC charge limit of car and charger together [kW].
        rated_discharge_kw: the pair's AC discharge limit [kW], whatever is allowed.
        efficiency: one-way charger efficiency [-].
        v2h: car, charger and their link can power the house.
        v2g_capable: car, charger, link and the site's export policy allow V2G; the household's
            permission (``v2g_allowed``) comes on top.
        v2g_allowed: the household allows V2G.
        mobility_reserve_pct: state of charge never used for the house or the grid [%], save
            for the essential circuits in an outage.
        outage_reserve_pct: state of charge the essential circuits may use down to in an
            outage [%] (at most the mobility reserve).
        discharge_floor_pct: the maker's lowest state of charge for discharging [%] (0 when not
            published).
        departure_target_pct: state of charge wanted at each departure [%].
        warranty_kwh_per_h: the warranty's discharge allowance spread evenly over its years
            [kWh/h], or None when the maker sets none.
        consumption_kwh_per_km: [kWh/km].
    """

    name: str
    capacity_kwh: float
    max_charge_kw: float
    rated_discharge_kw: float
    efficiency: float
    v2h: bool
    v2g_capable: bool
    v2g_allowed: bool
    mobility_reserve_pct: float
    outage_reserve_pct: float
    discharge_floor_pct: float
    departure_target_pct: float
    warranty_kwh_per_h: float | None
    consumption_kwh_per_km: float

    @property
    def can_export(self) -> bool:
        """Whether this car's energy may go to the grid (V2G possible and allowed)."""
        return self.v2g_capable and self.v2g_allowed

    @property
    def can_discharge(self) -> bool:
        """Whether the car may discharge at all: into the house (V2H) or, allowed, to the grid."""
        return self.v2h or self.can_export

    @property
    def max_discharge_kw(self) -> float:
        """AC discharge limit [kW]; 0 when the car may not discharge."""
        return self.rated_discharge_kw if self.can_discharge else 0.0

    @property
    def reserve_pct(self) -> float:
        """The SoC floor while at home [%]: the mobility reserve, and for a car that may
        discharge never below the maker's floor (which says nothing about a car that only
        charges, so it must not make the planner charge it)."""
        floor = self.discharge_floor_pct if self.can_discharge else 0.0
        return max(self.mobility_reserve_pct, floor)

    @property
    def reserve_kwh(self) -> float:
        """:attr:`reserve_pct` as stored energy [kWh]."""
        return self.reserve_pct / 100.0 * self.capacity_kwh

    @property
    def outage_floor_pct(self) -> float:
        """The SoC floor for the essential circuits in an outage [%]: the outage reserve,
        never above :attr:`reserve_pct` and never below the maker's floor. Between this and
        :attr:`reserve_pct` the car powers only the essential circuits: in an outage, the
        fridge and the well pump outrank the range kept for the next trip."""
        floor = self.discharge_floor_pct if self.can_discharge else 0.0
        return min(max(self.outage_reserve_pct, floor), self.reserve_pct)

    @property
    def outage_floor_kwh(self) -> float:
        """:attr:`outage_floor_pct` as stored energy [kWh]."""
        return self.outage_floor_pct / 100.0 * self.capacity_kwh

    @property
    def target_kwh(self) -> float:
        """Stored energy wanted at each departure [kWh]."""
        return self.departure_target_pct / 100.0 * self.capacity_kwh

    @property
    def discharge_budget_kwh_per_h(self) -> float | None:
        """The warranty's discharge allowance [kWh/h] for a car that may discharge, else None."""
        return self.warranty_kwh_per_h if self.can_discharge else None


def car_limits(site: Site, rv: ResolvedVehicle) -> CarLimits:
    """Resolve one car: catalog and site-file values (``rv``), the site's export policy and the
    household's preferences (a car's own ``mobility_reserve_pct``, ``outage_reserve_pct`` or
    ``departure_soc_pct`` wins over the household's). Without an outage reserve, the outage
    floor is the lower of the mobility reserve and :data:`DEFAULT_OUTAGE_RESERVE_PCT`."""
    prefs, entry = site.preferences, rv.entry
    verdicts = check_compatibility(rv.vehicle, rv.charger, site.grid.export_policy, True)
    limit, years = rv.vehicle.warranty_discharge_limit_kwh, rv.vehicle.warranty_years
    rate = None if limit is None or years is None else limit / (years * HOURS_PER_YEAR)
    reserve = prefs.mobility_reserve_pct
    if entry.mobility_reserve_pct is not None:
        reserve = entry.mobility_reserve_pct
    outage = entry.outage_reserve_pct
    if outage is None:
        outage = prefs.outage_reserve_pct
    if outage is None:
        outage = min(reserve, DEFAULT_OUTAGE_RESERVE_PCT)
    target = entry.departure_soc_pct
    return CarLimits(
        name=entry.name,
        capacity_kwh=rv.usable_kwh,
        max_charge_kw=rv.max_charge_kw,
        rated_discharge_kw=rv.max_discharge_kw,
        efficiency=rv.efficiency,
        v2h=verdicts[Mode.V2H].ok,
        v2g_capable=verdicts[Mode.V2G].ok,
        v2g_allowed=prefs.v2g_allowed,
        mobility_reserve_pct=reserve,
        outage_reserve_pct=min(outage, reserve),
        discharge_floor_pct=rv.vehicle.discharge_floor_pct or 0.0,
        departure_target_pct=prefs.departure_soc_pct if target is None else target,
        warranty_kwh_per_h=rate,
        consumption_kwh_per_km=rv.consumption_kwh_per_km,
    )


def site_car_limits(site: Site) -> tuple[CarLimits, ...]:
    """Every car of ``site``, in site-file order (the site was validated, so this does not
    fail)."""
    return tuple(car_limits(site, rv) for rv in resolve_vehicles(site))
