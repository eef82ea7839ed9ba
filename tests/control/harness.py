"""A small hand-written site, a fake plan source and a simulated home around one controller.

Every number here is written out so that the scenario tests can compute what should happen by
hand: one car (60 kWh, 7.2 kW both ways, 90 % one way), an optional 10 kWh battery, two essential
and two non-essential circuits, a 240 V / 60 Hz service with a 20 kW import limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.grid_state import GridLimits
from voltbridge.control.guard import ExportPolicy
from voltbridge.control.io import DeviceSet
from voltbridge.control.island import CircuitInfo
from voltbridge.control.plan_source import PlanState
from voltbridge.control.settings import Settings
from voltbridge.control.site_model import BatteryLimits, ControlSite, VehicleLimits
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import ControlEvent, ControlStatus, EventKind, Recorder
from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Plan, PlanCost, StoragePlan
from voltbridge.devices.simulated import SimulatedDevices
from voltbridge.devices.simulated_home import Profile, SimStorage, SimulatedHome

T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)  # 18:00 in California: the evening peak
"""Start of every scenario (aware, UTC)."""

CAR = "ev"
CAR_KWH = 60.0
CAR_KW = 7.2
CAR_ETA = 0.9
RESERVE_PCT = 30.0
RESERVE_KWH = 18.0  # 30 % of 60 kWh
TARGET_PCT = 80.0
TARGET_KWH = 48.0  # 80 % of 60 kWh

BAT_KWH = 10.0
BAT_MIN_KWH = 1.0
BAT_KW = 5.0
BAT_ETA = 0.95

IMPORT_LIMIT_KW = 20.0

CIRCUITS = (
    CircuitInfo("fridge", 0.3, essential=True, shed_priority=0),
    CircuitInfo("medical", 0.2, essential=True, shed_priority=1),
    CircuitInfo("dryer", 2.5, essential=False, shed_priority=2),
    CircuitInfo("water-heater", 4.5, essential=False, shed_priority=4),
)
"""Shed order when short of power: water-heater (4), dryer (2), then medical (1), fridge (0)."""
CIRCUIT_KW = {c.name: c.typical_kw for c in CIRCUITS}


def vehicle(
    *,
    max_discharge_kw: float = CAR_KW,
    may_export: bool = False,
    reserve_pct: float = RESERVE_PCT,
    floor_pct: float = 0.0,
) -> VehicleLimits:
    return VehicleLimits(
        name=CAR,
        capacity_kwh=CAR_KWH,
        max_charge_kw=CAR_KW,
        max_discharge_kw=max_discharge_kw,
        efficiency=CAR_ETA,
        may_export=may_export,
        mobility_reserve_pct=reserve_pct,
        discharge_floor_pct=floor_pct,
        target_soc_pct=TARGET_PCT,
        consumption_kwh_per_km=0.2,
    )


BATTERY = BatteryLimits(
    capacity_kwh=BAT_KWH,
    min_soc_kwh=BAT_MIN_KWH,
    max_soc_kwh=BAT_KWH,
    max_charge_kw=BAT_KW,
    max_discharge_kw=BAT_KW,
    efficiency=BAT_ETA,
)


def site(
    *,
    battery: bool = False,
    car: VehicleLimits | None = None,
    import_limit_kw: float = IMPORT_LIMIT_KW,
    export_limit_kw: float = 5.0,
    export_policy: ExportPolicy = "none",
    circuits: tuple[CircuitInfo, ...] = CIRCUITS,
    v2g_allowed: bool = False,
) -> ControlSite:
    return ControlSite(
        name="test home",
        timezone="America/Los_Angeles",
        vehicles=(car or vehicle(),),
        battery=BATTERY if battery else None,
        import_limit_kw=import_limit_kw,
        export_limit_kw=export_limit_kw,
        export_policy=export_policy,
        circuits=circuits,
        essential_kw=sum(c.typical_kw for c in circuits if c.essential),
        nominal_voltage_v=240.0,
        nominal_frequency_hz=60.0,
        defaults=Settings(v2g_allowed=v2g_allowed, backup_reserve_h=4.0),
    )


def loop_config(**kw: float) -> ControlConfig:
    """The loop's configuration for tests: planning inline, as the simulator does, so that a
    plan is in place on the tick that asked for it."""
    return ControlConfig(plan_in_thread=False, **kw)  # type: ignore[arg-type]


PowerRule = Callable[[PlanState], Mapping[str, float]]


@dataclass
class FakePlans:
    """A ``PlanSource`` whose plan holds ``power_kw`` per storage for 48 h in 15-minute steps.

    ``power_kw`` is a mapping (the same for every plan) or a function of the ``PlanState``; the
    plan's SoC follows from it (clipped to the site's capacity) so that it never looks off plan
    when the devices do as told. A storage named in ``stop_kwh`` charges only up to that SoC
    [kWh], its last step at the part power that lands on it, as a planner charging toward a
    departure target would. ``load_kw``/``pv_kw`` are the forecast it expects.
    """

    control_site: ControlSite
    power_kw: Mapping[str, float] | PowerRule = field(default_factory=dict)
    stop_kwh: Mapping[str, float] = field(default_factory=dict)
    load_kw: float = 0.0
    pv_kw: float = 0.0
    price_import: float = 0.40
    calls: list[PlanState] = field(default_factory=list)
    fail: bool = False

    def make_plan(self, state: PlanState) -> Plan:
        self.calls.append(state)
        if self.fail:
            raise RuntimeError("solver unavailable")
        power = self.power_kw(state) if callable(self.power_kw) else self.power_kw
        start = int(state.now.timestamp())
        n = 192
        grid = TimeGrid(np.arange(start, start + (n + 1) * 900, 900, dtype=np.int64))
        dt_h = 0.25
        storages = []
        cs = self.control_site
        caps = {v.name: (v.capacity_kwh, v.efficiency, "vehicle") for v in cs.vehicles}
        if cs.battery is not None:
            caps["battery"] = (cs.battery.capacity_kwh, cs.battery.efficiency, "battery")
        for name, (cap, eta, kind) in caps.items():
            p = float(power.get(name, 0.0))
            stop = self.stop_kwh.get(name, cap)
            soc = np.empty(n + 1)
            soc[0] = state.soc_pct.get(name, 50.0) / 100.0 * cap
            steps = np.full(n, p)
            for k in range(n):
                if p > 0:
                    steps[k] = min(p, max(0.0, stop - soc[k]) / (eta * dt_h))
                cell = steps[k] * eta if steps[k] > 0 else steps[k] / eta
                soc[k + 1] = min(max(soc[k] + cell * dt_h, 0.0), cap)
            storages.append(
                StoragePlan(
                    name=name,
                    kind=kind,
                    power_kw=steps,
                    soc_kwh=soc,
                    plugged_in=np.ones(n, dtype=bool),
                    driving_kwh=np.zeros(n),
                    capacity_kwh=cap,
                    reserve_kwh=np.zeros(n + 1),
                )
            )
        flat = np.full(n, 1.0)
        return Plan(
            grid=grid,
            price_import=flat * self.price_import,
            price_export=flat * 0.05,
            load_kw=flat * self.load_kw,
            pv_kw=flat * self.pv_kw,
            pv_used_kw=flat * self.pv_kw,
            grid_kw=flat * (self.load_kw - self.pv_kw),
            unserved_kw=np.zeros(n),
            storages=tuple(storages),
            cost=PlanCost(1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        )


@dataclass
class Rig:
    """One controller driving one simulated home on a virtual clock."""

    home: SimulatedHome
    devices: SimulatedDevices
    controller: Controller
    plans: FakePlans
    clock: VirtualClock
    site: ControlSite
    statuses: list[ControlStatus] = field(default_factory=list)

    @property
    def car(self) -> SimStorage:
        assert self.home.car is not None
        return self.home.car

    @property
    def battery(self) -> SimStorage:
        assert self.home.battery is not None
        return self.home.battery

    @property
    def tick_s(self) -> float:
        return self.controller.config.tick_s

    def elapsed_s(self) -> float:
        return (self.clock.now() - T0).total_seconds()

    def tick(self) -> ControlStatus:
        """One controller tick at the present time (the home's flows follow its writes)."""
        status = asyncio.run(self.controller.tick())
        self.statuses.append(status)
        return status

    def run(
        self, seconds: float, check: Callable[[Rig, ControlStatus], None] | None = None
    ) -> ControlStatus:
        """Tick, then let the home run ``tick_s`` on the setpoints, for ``seconds``; ``check``
        sees the home right after each tick. Returns the last tick's status."""
        return asyncio.run(self._run(seconds, check))

    async def _run(
        self, seconds: float, check: Callable[[Rig, ControlStatus], None] | None
    ) -> ControlStatus:
        n = round(seconds / self.tick_s)
        assert n >= 1
        for _ in range(n):
            status = await self.controller.tick()
            self.statuses.append(status)
            if check is not None:
                check(self, status)
            self.home.advance(self.tick_s)
        return status

    def events(self, kind: EventKind | None = None, since: datetime | None = None) -> list[str]:
        return [e.message for e in self.event_list(kind, since)]

    def event_list(
        self, kind: EventKind | None = None, since: datetime | None = None
    ) -> list[ControlEvent]:
        return [
            e
            for e in self.controller.events
            if (kind is None or e.kind is kind) and (since is None or e.at >= since)
        ]


def rig(
    *,
    control_site: ControlSite | None = None,
    car_soc_kwh: float | None = 30.0,
    plugged_in: bool = True,
    battery_soc_kwh: float | None = None,
    load_kw: Profile = 1.0,
    pv_kw: Profile = 0.0,
    circuits_kw: Mapping[str, float] | None = None,
    plan_kw: Mapping[str, float] | PowerRule | None = None,
    plan_load_kw: float | None = None,
    plan_stop_kwh: Mapping[str, float] | None = None,
    config: ControlConfig | None = None,
    grid_limits: GridLimits | None = None,
    settings: Settings | None = None,
    load_meter: bool = True,
    transfer: bool = True,
    profile_step_s: float = 900.0,
    recorder: Recorder | None = None,
) -> Rig:
    """A rig on the test site. The sim's storages match the site's limits and efficiencies, so
    the controller's energy bookkeeping and the home's agree exactly. ``load_kw`` is the house
    base load; the circuits (by default all four at their typical draw) come on top."""
    cs = control_site or site(battery=battery_soc_kwh is not None)
    clock = VirtualClock(T0)
    v = cs.vehicles[0]
    car = None
    if car_soc_kwh is not None:
        car = SimStorage(
            capacity_kwh=v.capacity_kwh,
            soc_kwh=car_soc_kwh,
            max_charge_kw=v.max_charge_kw,
            max_discharge_kw=v.max_discharge_kw,
            eta_charge=v.efficiency,
            eta_discharge=v.efficiency,
            plugged_in=plugged_in,
        )
    batt = None
    if battery_soc_kwh is not None:
        b = cs.battery
        assert b is not None
        batt = SimStorage(
            capacity_kwh=b.max_soc_kwh,
            soc_kwh=battery_soc_kwh,
            max_charge_kw=b.max_charge_kw,
            max_discharge_kw=b.max_discharge_kw,
            eta_charge=b.efficiency,
            eta_discharge=b.efficiency,
        )
    home = SimulatedHome(
        clock,
        load_kw=load_kw,
        pv_kw=pv_kw,
        profile_step_s=profile_step_s,
        car=car,
        battery=batt,
        circuits_kw=CIRCUIT_KW if circuits_kw is None else circuits_kw,
        voltage_v=240.0,
        frequency_hz=60.0,
        max_step_s=60.0,
    )
    d = SimulatedDevices.around(home)
    devices = DeviceSet(
        meter=d.meter,
        chargers={CAR: d.charger} if d.charger is not None else {},
        battery=d.battery,
        pv=d.pv,
        load_meter=d.meter if load_meter else None,
        relay=d.relay,
        transfer=d.relay if transfer else None,
    )
    plans = FakePlans(
        cs,
        power_kw=plan_kw or {},
        stop_kwh=plan_stop_kwh or {},
        load_kw=(
            plan_load_kw
            if plan_load_kw is not None
            else (load_kw if isinstance(load_kw, float | int) else 0.0)
            + sum(home.circuits_kw.values())
        ),
        pv_kw=pv_kw if isinstance(pv_kw, float | int) else 0.0,
    )
    ctl = Controller(
        cs,
        devices,
        plans,
        clock,
        config or loop_config(tick_s=2.0),
        settings=settings,
        grid_limits=grid_limits,
        recorder=recorder,
    )
    return Rig(home, d, ctl, plans, clock, cs)
