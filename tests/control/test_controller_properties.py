"""Invariants of the controller at every tick over random scenarios on the simulated home.

Random load and PV, car SoC and plug changes, a battery or none, export policies, outages with a
flapping return, a lowered outage reserve, mode switches and device faults. At every tick, from
the home's side: no backfeed; the transfer switch open while the grid is down; no storage power
toward the grid unless export is allowed and the grid has been stable through the enter-service
wait and ramp; the car and battery never below their floors (one tick of full discharge
allowed); the main breaker respected on grid; every setpoint within its device's limits; and
the modes obeyed.

The loop runs with ``write_deadband_kw = 0`` so the invariants can be checked to 1e-6 (the
deadband's own behaviour, always writing a command that asks less, is pinned by
``test_a_smaller_discharge_within_the_deadband_is_still_written``). Covered by scenario tests
instead: a stale or corrupt meter at an outage (``test_no_discharge_while_the_grid_cannot_be_seen``);
left out is a dropped charger or battery (the simulated device keeps its last setpoint while
it is silent, where a real one falls back to its own safe default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voltbridge.control.settings import SettingsUpdate, VehicleSettings
from voltbridge.core.status import ControlStatus, Mode
from voltbridge.core.types import GridState

from .harness import (
    BAT_KW,
    BAT_MIN_KWH,
    CAR,
    CAR_ETA,
    CAR_KW,
    CAR_KWH,
    CIRCUIT_KW,
    RESERVE_KWH,
    Rig,
    loop_config,
    rig,
    site,
    vehicle,
)

TICK_S = 10.0
DURATION_S = 2400.0
STEP_S = 600.0  # load and PV profile step
DELAY_S = 300.0  # enter-service delay (IEEE 1547 default) and the controller's ramp
STALE_S = 30.0  # ControlConfig.stale_after_s
TOL = 1e-6


@dataclass(frozen=True)
class Scenario:
    """One random run; times are seconds from the start, on the tick grid."""

    base_kw: tuple[float, ...]
    pv_kw: tuple[float, ...]
    car_soc_kwh: float
    plugged: bool
    plug_toggle_s: float | None
    battery_soc_kwh: float | None
    export_policy: str
    may_export: bool
    v2g: bool
    import_limit_kw: float
    plan_car_kw: float
    plan_battery_kw: float
    outage: tuple[float, float] | None  # start, duration
    flaps: int  # 30 s up / 30 s down cycles when the outage ends
    outage_reserve: tuple[float, float] | None  # seconds into the outage, percent
    modes: tuple[tuple[float, Mode], ...]
    fault: tuple[str, str, float, float] | None  # device, kind, start, duration


def _kw(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Powers to 10 W: a subnormal setpoint makes ``SimStorage.step`` divide by zero."""
    return st.integers(round(lo * 100), round(hi * 100)).map(lambda x: x / 100)


def _ticks(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.integers(int(lo // TICK_S), int(hi // TICK_S)).map(lambda k: k * TICK_S)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = int(DURATION_S // STEP_S)
    base = tuple(draw(st.lists(_kw(0.1, 6.0), min_size=n, max_size=n)))
    pv = tuple(draw(st.lists(_kw(0.0, 9.0), min_size=n, max_size=n)))
    outage = None
    flaps = 0
    if draw(st.booleans()):
        outage = (draw(_ticks(0, 1200)), draw(_ticks(30, 900)))
        flaps = draw(st.integers(0, 4))
    outage_reserve = None
    if outage is not None and draw(st.booleans()):
        outage_reserve = (draw(_ticks(0, outage[1])), draw(st.floats(0.0, 30.0)))
    modes = tuple(
        sorted(
            draw(
                st.lists(st.tuples(_ticks(0, DURATION_S), st.sampled_from(list(Mode))), max_size=3)
            ),
            key=lambda m: m[0],
        )
    )
    fault = None
    if draw(st.booleans()):
        device = draw(st.sampled_from(["meter", "charger", "battery"]))
        kind = draw(
            st.sampled_from(["freeze", "corrupt"] + (["drop"] if device == "meter" else []))
        )
        end = DURATION_S
        if device == "meter" and kind != "drop" and outage is not None:
            end = outage[0] - TICK_S  # a blind meter at an outage's start: see the module doc
        if end > TICK_S:
            start = draw(_ticks(0, end - TICK_S))
            fault = (device, kind, start, draw(_ticks(TICK_S, end - start)))
    toggle = draw(st.none() | _ticks(0, DURATION_S))
    return Scenario(
        base_kw=base,
        pv_kw=pv,
        # near the reserve half the time, where the floors bind
        car_soc_kwh=draw(st.floats(0.0, CAR_KWH) | st.floats(RESERVE_KWH - 1, RESERVE_KWH + 4)),
        plugged=draw(st.sampled_from([True, True, True, False])),
        plug_toggle_s=toggle,
        battery_soc_kwh=draw(st.none() | st.floats(0.0, 10.0) | st.floats(0.5, 2.0)),
        export_policy=draw(st.sampled_from(["none", "pv-only", "any"])),
        may_export=draw(st.booleans()),
        v2g=draw(st.booleans()),
        # above the house's largest load (6 + 7.5 kW), below that plus every storage charging
        import_limit_kw=draw(st.floats(14.0, 26.0)),
        plan_car_kw=draw(_kw(-CAR_KW, CAR_KW)),
        plan_battery_kw=draw(_kw(-BAT_KW, BAT_KW)),
        outage=outage,
        flaps=flaps,
        outage_reserve=outage_reserve,
        modes=modes,
        fault=fault,
    )


def actions(s: Scenario, r: Rig) -> dict[float, list[Callable[[], None]]]:
    """What happens to the home, and what the household does, by time [s]."""
    out: dict[float, list[Callable[[], None]]] = {}

    def add(t: float, f: Callable[[], None]) -> None:
        out.setdefault(t, []).append(f)

    home = r.home
    if s.outage is not None:
        start, length = s.outage
        add(start, home.grid_down)
        t = start + length
        for _ in range(s.flaps):
            add(t, home.grid_restore)
            add(t + 30, home.grid_down)
            t += 60
        add(t, home.grid_restore)
        if s.outage_reserve is not None:
            after, pct = s.outage_reserve
            update = SettingsUpdate(vehicles={CAR: VehicleSettings(outage_reserve_pct=pct)})
            add(start + after, lambda: r.controller.apply_settings(update, "test"))
    for t, mode in s.modes:
        add(t, lambda m=mode: r.controller.apply_settings(SettingsUpdate(mode=m), "test"))
    if s.fault is not None:
        name, kind, start, length = s.fault
        dev = {"meter": r.devices.meter, "charger": r.devices.charger, "battery": r.devices.battery}
        target = dev[name]
        if target is not None:
            add(start, lambda: getattr(home, kind)(target))
            add(start + length, lambda: home.heal(target))
    if s.plug_toggle_s is not None:
        charger = r.devices.charger
        assert charger is not None
        add(s.plug_toggle_s, lambda: charger.plug(not charger.store.plugged_in))
    return out


class Watch:
    """The invariants, checked right after every tick against the home's present flows."""

    def __init__(self, s: Scenario, r: Rig) -> None:
        self.s, self.r = s, r
        self.car_floor = min(s.car_soc_kwh, RESERVE_KWH)
        self.battery_floor = (
            None if s.battery_soc_kwh is None else min(s.battery_soc_kwh, BAT_MIN_KWH)
        )
        self.reconnected_at: float | None = None
        self.was_on_grid = True

    def fault_on(self, device: str, t: float) -> bool:
        f = self.s.fault
        return f is not None and f[0] == device and f[2] <= t < f[2] + f[3] + 2 * STALE_S

    def __call__(self, r: Rig, status: ControlStatus) -> None:
        s, home, t = self.s, r.home, r.elapsed_s()
        on_grid = status.grid_state is GridState.ON_GRID
        if on_grid and not self.was_on_grid:
            self.reconnected_at = t
            # the lowered outage reserve ends with the outage
            self.car_floor = min(RESERVE_KWH, max(self.car_floor, r.car.soc_kwh))
        self.was_on_grid = on_grid
        settings_car = r.controller.settings.vehicles.get(CAR)
        lowered = None if settings_car is None else settings_car.outage_reserve_pct
        if lowered is not None and not on_grid:
            self.car_floor = min(self.car_floor, lowered / 100 * CAR_KWH)

        assert home.totals.backfeed_kwh == 0.0
        if not home.grid_up and not self.fault_on("meter", t):
            assert not home.transfer_closed, "transfer switch closed to a dead grid"

        stores = {CAR: r.car} | ({} if home.battery is None else {"battery": r.battery})
        limits = {CAR: (CAR_KW, CAR_KW)} | {"battery": (BAT_KW, BAT_KW)}
        for name, store in stores.items():
            charge, discharge = limits[name]
            assert -discharge - TOL <= store.setpoint_kw <= charge + TOL, (name, store.setpoint_kw)
            sent = (
                status.vehicles[CAR].setpoint_kw if name == CAR else status.battery.setpoint_kw  # type: ignore[union-attr]
            )
            assert -discharge - TOL <= sent <= charge + TOL

        # storage power toward the grid, from the home's side
        discharge = sum(max(0.0, -x.power_kw) for x in stores.values())
        charging = sum(max(0.0, x.power_kw) for x in stores.values())
        net = home.load_kw - home.pv_kw
        ramping = self.reconnected_at is not None and t - self.reconnected_at < DELAY_S
        grid_normal = r.controller.grid.grid_export_allowed
        car_exports = s.may_export and s.v2g and s.export_policy == "any"
        if home.transfer_closed and home.grid_up:
            assert home.grid_kw <= s.import_limit_kw + TOL, "main breaker"
            if s.export_policy != "any" or ramping or not grid_normal or not on_grid:
                assert discharge <= max(0.0, net) + charging + TOL, "storage export"
            else:
                assert discharge <= max(0.0, net + 5.0) + charging + TOL, "export limit"
                if not car_exports:
                    assert -r.car.power_kw <= max(0.0, net) + charging + TOL, "car export (V2G)"
        if not on_grid:  # the guarded commands while islanded or restoring
            d = sum(max(0.0, -p) for p in _sent(status))
            c = sum(max(0.0, p) for p in _sent(status))
            load, pv = status.power.load_kw, status.power.pv_kw
            if load is None or pv is None:  # unknown flows: nothing may discharge
                assert d <= TOL, "islanded discharge with the load unknown"
            else:
                assert d <= max(0.0, load - pv) + c + TOL, "islanded discharge beyond the load"

        # floors: one tick of full discharge, or the stale time of a frozen device
        car_slack = CAR_KW * (TICK_S + (STALE_S if self.fault_on("charger", t) else 0)) / 3600
        assert r.car.soc_kwh >= self.car_floor - car_slack / CAR_ETA - TOL
        if self.battery_floor is not None:
            b_slack = BAT_KW * (TICK_S + (STALE_S if self.fault_on("battery", t) else 0)) / 3600
            assert r.battery.soc_kwh >= self.battery_floor - b_slack / 0.95 - TOL

        mode = status.mode
        if mode is Mode.OFF:
            assert all(x.setpoint_kw == 0.0 for x in stores.values())
        if mode is Mode.V2L:
            assert r.car.setpoint_kw == 0.0
        if mode is Mode.BACKUP_ONLY and on_grid:
            assert all(x.setpoint_kw >= 0.0 for x in stores.values())


def _sent(status: ControlStatus) -> list[float]:
    out = [v.setpoint_kw for v in status.vehicles.values()]
    if status.battery is not None:
        out.append(status.battery.setpoint_kw)
    return out


def run_scenario(s: Scenario) -> Rig:
    cs = site(
        battery=s.battery_soc_kwh is not None,
        car=vehicle(may_export=s.may_export),
        import_limit_kw=s.import_limit_kw,
        export_policy=s.export_policy,  # type: ignore[arg-type]
        v2g_allowed=s.v2g,
    )
    plan = {CAR: s.plan_car_kw, "battery": s.plan_battery_kw}
    r = rig(
        control_site=cs,
        car_soc_kwh=s.car_soc_kwh,
        plugged_in=s.plugged,
        battery_soc_kwh=s.battery_soc_kwh,
        load_kw=list(s.base_kw),
        pv_kw=list(s.pv_kw),
        profile_step_s=STEP_S,
        plan_kw=plan,
        plan_load_kw=s.base_kw[0] + sum(CIRCUIT_KW.values()),
        config=loop_config(tick_s=TICK_S, write_deadband_kw=0.0),
    )
    todo = actions(s, r)
    watch = Watch(s, r)
    t = 0.0
    while t < DURATION_S:
        for f in todo.get(t, []):
            f()
        r.run(TICK_S, watch)
        t += TICK_S
    return r


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_invariants_hold_at_every_tick(s: Scenario) -> None:
    run_scenario(s)


def test_a_fixed_hard_scenario() -> None:
    """Outage at 10 min with flapping, a lowered reserve, V2G-capable car, battery, PV surplus."""
    s = Scenario(
        base_kw=(0.5, 3.0, 6.0, 0.2),
        pv_kw=(8.0, 2.0, 0.0, 9.0),
        car_soc_kwh=19.0,
        plugged=True,
        plug_toggle_s=1800.0,
        battery_soc_kwh=2.0,
        export_policy="any",
        may_export=True,
        v2g=True,
        import_limit_kw=14.0,
        plan_car_kw=-7.2,
        plan_battery_kw=5.0,
        outage=(600.0, 400.0),
        flaps=3,
        outage_reserve=(100.0, 0.0),
        modes=((1500.0, Mode.CHARGE_NOW), (2000.0, Mode.BACKUP_ONLY)),
        fault=("battery", "freeze", 200.0, 100.0),
    )
    r = run_scenario(s)
    assert r.home.totals.backfeed_kwh == 0.0
