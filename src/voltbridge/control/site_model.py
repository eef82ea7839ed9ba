"""The site as the controller needs it: every limit resolved once from the site file and catalog."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from voltbridge.config import Site
from voltbridge.config.vehicle_limits import CarLimits, site_car_limits
from voltbridge.control.guard import ExportPolicy
from voltbridge.control.island import CircuitInfo
from voltbridge.control.settings import Settings, VehicleSettings
from voltbridge.forecast.site import trip_rules
from voltbridge.forecast.trips import TripRule

DEFAULT_TIMEZONE_60HZ = ("America/", "Pacific/Honolulu", "Asia/Manila", "Asia/Taipei", "Asia/Seoul")
"""Timezone prefixes of 60 Hz grids (North and most of South America, Taiwan, Korea, the
Philippines); everywhere else defaults to 50 Hz (Japan is split: set it in the site file)."""


def nominal_frequency_hz(timezone: str) -> float:
    """The grid's nominal frequency [Hz] guessed from the site's timezone.

    >>> nominal_frequency_hz("America/Los_Angeles"), nominal_frequency_hz("Europe/Berlin")
    (60.0, 50.0)
    """
    return 60.0 if timezone.startswith(DEFAULT_TIMEZONE_60HZ) else 50.0


@dataclass(frozen=True)
class VehicleLimits:
    """One car on its charger, as the controller uses it.

    Attributes:
        name: the vehicle's name (also its charger's key in the device set).
        capacity_kwh: usable capacity [kWh].
        max_charge_kw: AC charge limit of car and charger [kW].
        max_discharge_kw: AC discharge limit [kW]; 0 when the pair can neither power the house
            nor export (with V2G allowed).
        efficiency: one-way charger efficiency [-].
        may_export: car, charger and site allow V2G (the household's permission comes on top).
        mobility_reserve_pct: SoC never used for the house or grid [%] (site file).
        discharge_floor_pct: the manufacturer's lowest SoC for discharging [%].
        target_soc_pct: SoC wanted at departure [%] (site file).
        consumption_kwh_per_km: [kWh/km].
        discharge_budget_kwh_per_h: warranty discharge allowance per hour [kWh/h], or None.
        v2h: the pair can power the house; without it, the car discharges only as V2G, so only
            while the household allows V2G.
        outage_reserve_pct: SoC the essential circuits may use down to in an outage [%] (site
            file, resolved in :mod:`voltbridge.config.vehicle_limits`; None: the mobility
            reserve).
    """

    name: str
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    efficiency: float
    may_export: bool
    mobility_reserve_pct: float
    discharge_floor_pct: float
    target_soc_pct: float
    consumption_kwh_per_km: float
    discharge_budget_kwh_per_h: float | None = None
    v2h: bool = True
    outage_reserve_pct: float | None = None

    def can_discharge(self, v2g_allowed: bool) -> bool:
        """Whether the car may discharge now: into the house, or as V2G while it is allowed
        (the rule of :class:`voltbridge.config.vehicle_limits.CarLimits`)."""
        return self.max_discharge_kw > 0 and (self.v2h or (self.may_export and v2g_allowed))

    def discharge_kw(self, v2g_allowed: bool) -> float:
        """AC discharge limit [kW] under the household's V2G permission; 0 when it may not."""
        return self.max_discharge_kw if self.can_discharge(v2g_allowed) else 0.0

    def reserve_kwh(
        self, car: VehicleSettings | None, islanded: bool, v2g_allowed: bool = True
    ) -> float:
        """The SoC floor [kWh]: the mobility reserve (the household's, or a lower one it chose
        for this outage while islanded), for a car that may discharge never below the maker's
        floor (which says nothing about a car that only charges)."""
        pct = self.mobility_reserve_pct
        if car is not None and car.mobility_reserve_pct is not None:
            pct = car.mobility_reserve_pct
        if islanded and car is not None and car.outage_reserve_pct is not None:
            pct = car.outage_reserve_pct
        floor = self.discharge_floor_pct if self.can_discharge(v2g_allowed) else 0.0
        return max(pct, floor) / 100.0 * self.capacity_kwh

    def outage_floor_kwh(self, car: VehicleSettings | None, v2g_allowed: bool = True) -> float:
        """The SoC floor for the essential circuits in an outage [kWh]: the outage reserve
        the household set for this outage, else the site file's, never above the reserve in
        force (:meth:`reserve_kwh` while islanded) nor below the maker's floor. Between the two
        the car powers only the essential circuits (the rule of
        :attr:`voltbridge.config.vehicle_limits.CarLimits.outage_floor_pct`)."""
        reserve = self.reserve_kwh(car, True, v2g_allowed)
        pct = self.outage_reserve_pct
        if car is not None and car.outage_reserve_pct is not None:
            pct = car.outage_reserve_pct
        if pct is None:
            return reserve
        floor = self.discharge_floor_pct if self.can_discharge(v2g_allowed) else 0.0
        return min(max(pct, floor) / 100.0 * self.capacity_kwh, reserve)

    def target_kwh(self, car: VehicleSettings | None) -> float:
        """SoC wanted at departure [kWh]."""
        pct = self.target_soc_pct
        if car is not None and car.target_soc_pct is not None:
            pct = car.target_soc_pct
        return pct / 100.0 * self.capacity_kwh


@dataclass(frozen=True)
class BatteryLimits:
    """The home battery: capacity and floor [kWh], AC limits [kW], one-way efficiency [-]."""

    capacity_kwh: float
    min_soc_kwh: float
    max_soc_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    efficiency: float


@dataclass(frozen=True)
class ControlSite:
    """Everything about the site the controller needs, resolved once.

    Attributes:
        name: the site's name.
        timezone: IANA name.
        vehicles: the cars, in site-file order.
        battery: the home battery, or None.
        import_limit_kw: import limit after the main breaker [kW].
        export_limit_kw: export limit after policy and breaker [kW].
        export_policy: none, pv-only or any.
        circuits: the switchable circuits.
        essential_kw: typical draw of the essential circuits [kW].
        nominal_voltage_v: [V].
        nominal_frequency_hz: [Hz].
        defaults: the settings the site file implies.
        trips: each car's weekly trip schedule (its departures, in the site's time zone, are
            the ones the household sees until it sets one of its own).
    """

    name: str
    timezone: str
    vehicles: tuple[VehicleLimits, ...]
    battery: BatteryLimits | None
    import_limit_kw: float
    export_limit_kw: float
    export_policy: ExportPolicy
    circuits: tuple[CircuitInfo, ...]
    essential_kw: float
    nominal_voltage_v: float
    nominal_frequency_hz: float
    defaults: Settings
    trips: Mapping[str, tuple[TripRule, ...]] = field(default_factory=dict)

    def vehicle(self, name: str) -> VehicleLimits:
        for v in self.vehicles:
            if v.name == name:
                return v
        raise KeyError(f"no vehicle named {name!r}")


def vehicle_limits(car: CarLimits) -> VehicleLimits:
    """The controller's view of a car resolved once for planner, controller and simulator:
    its discharge and export as the hardware and site allow, the household's V2G permission
    applied at each tick (it can change it at run time)."""
    hardware = car.v2h or car.v2g_capable
    return VehicleLimits(
        name=car.name,
        capacity_kwh=car.capacity_kwh,
        max_charge_kw=car.max_charge_kw,
        max_discharge_kw=car.rated_discharge_kw if hardware else 0.0,
        efficiency=car.efficiency,
        may_export=car.v2g_capable,
        mobility_reserve_pct=car.mobility_reserve_pct,
        discharge_floor_pct=car.discharge_floor_pct,
        target_soc_pct=car.departure_target_pct,
        consumption_kwh_per_km=car.consumption_kwh_per_km,
        discharge_budget_kwh_per_h=car.warranty_kwh_per_h if hardware else None,
        v2h=car.v2h,
        outage_reserve_pct=car.outage_reserve_pct,
    )


def control_site(site: Site) -> ControlSite:
    """Resolve ``site`` (catalog, fallbacks, compatibility) into the controller's limits."""
    prefs = site.preferences
    vehicles = [vehicle_limits(car) for car in site_car_limits(site)]
    battery = None
    if site.battery is not None:
        b = site.battery
        battery = BatteryLimits(
            capacity_kwh=b.usable_kwh,
            min_soc_kwh=b.min_soc_pct / 100.0 * b.usable_kwh,
            max_soc_kwh=b.max_soc_pct / 100.0 * b.usable_kwh,
            max_charge_kw=b.max_charge_kw,
            max_discharge_kw=b.max_discharge_kw,
            efficiency=math.sqrt(b.round_trip_efficiency),
        )
    return ControlSite(
        name=site.name,
        timezone=site.location.timezone,
        vehicles=tuple(vehicles),
        battery=battery,
        import_limit_kw=site.grid.import_cap_kw,
        export_limit_kw=site.grid.export_cap_kw,
        export_policy=site.grid.export_policy,
        circuits=tuple(
            CircuitInfo(c.name, c.typical_kw, c.essential, c.shed_priority) for c in site.circuits
        ),
        essential_kw=site.essential_kw,
        nominal_voltage_v=site.grid.voltage_v,
        nominal_frequency_hz=nominal_frequency_hz(site.location.timezone),
        defaults=Settings(v2g_allowed=prefs.v2g_allowed, backup_reserve_h=prefs.backup_reserve_h),
        trips={name: tuple(rules) for name, rules in trip_rules(site).items() if rules},
    )
