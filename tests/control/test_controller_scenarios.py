"""The controller on a simulated home and a virtual clock: outages, flapping, faults, modes, re-planning.

Each scenario checks concrete numbers worked out by hand from the test site in ``harness``
(car 60 kWh, 7.2 kW both ways, 90 % one way, 30 % = 18 kWh mobility reserve, 80 % = 48 kWh
target; circuits fridge 0.3 and medical 0.2 kW essential, dryer 2.5 kW priority 2, water heater
4.5 kW priority 4; house base load on top) and from the home's own energy totals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voltbridge.config import load_site
from voltbridge.control.controller import Controller
from voltbridge.control.io import DeviceSet
from voltbridge.control.plan_source import SitePlanSource
from voltbridge.control.settings import SettingsUpdate, VehicleSettings
from voltbridge.control.site_model import control_site
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import ControlStatus, EventKind, Mode
from voltbridge.core.types import GridState, Measurement
from voltbridge.devices.simulated import SimulatedDevices
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome

from .harness import (
    CAR,
    CAR_ETA,
    CAR_KW,
    RESERVE_KWH,
    T0,
    TARGET_KWH,
    Rig,
    loop_config,
    rig,
    site,
    vehicle,
)

LOSS = "grid on_grid → islanded: grid voltage 0.0 V below 0.88 pu (211 V)"
ESSENTIALS = ("fridge", "medical")


SONOMA = Path(__file__).resolve().parents[2] / "src/voltbridge/examples/f150-outage-sonoma.toml"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def kinds_at(r: Rig, kind: EventKind) -> list[tuple[float, str]]:
    """(seconds since T0, message) of every event of ``kind``."""
    return [((e.at - T0).total_seconds(), e.message) for e in r.event_list(kind)]


# --- 1. outage at the evening peak -----------------------------------------------------------


def test_outage_at_evening_peak_islands_sheds_by_priority_and_serves_the_house() -> None:
    # base load 1 kW until 30 min, then 5 kW; all four circuits on: 8.5 kW, then 12.5 kW
    r = rig(
        car_soc_kwh=30.0,
        load_kw=[1.0, 1.0, 5.0, 5.0, 5.0],
        plan_kw={CAR: -5.0},
        plan_load_kw=8.5,
        config=loop_config(tick_s=5.0),
    )
    r.run(60)
    assert r.car.setpoint_kw == -5.0 and r.home.grid_kw == pytest.approx(3.5)
    assert r.home.transfer_closed

    r.home.grid_down()
    first = r.tick()
    # the first tick after the loss opens the switch, sheds the water heater (8.5 kW > 7.2 kW),
    # and covers the remaining 4.0 kW from the car
    assert first.grid_state is GridState.ISLANDED
    assert not r.home.transfer_closed
    assert r.home.backup_mode == {"charger": True}
    assert r.home.circuits_on == {
        "fridge": True,
        "medical": True,
        "dryer": True,
        "water-heater": False,
    }
    assert r.car.setpoint_kw == pytest.approx(-4.0)
    assert kinds_at(r, EventKind.GRID) == [(60.0, LOSS)]
    r.home.advance(5.0)

    def check(r: Rig, status: ControlStatus) -> None:
        assert not r.home.transfer_closed
        assert all(r.home.circuits_on[c] for c in ESSENTIALS)
        assert r.car.soc_kwh >= RESERVE_KWH
        assert r.home.unserved_kw == 0.0

    last = r.run(3600 - 5.0, check)  # to T0 + 3660 s
    # at 1800 s the base load rises to 5 kW: 8.0 kW > 7.2 kW, so the dryer goes too (5.5 kW)
    assert kinds_at(r, EventKind.SHED) == [
        (60.0, "circuit water-heater shed: load 8.50 kW over what PV and storage supply, 7.20 kW"),
        (1800.0, "circuit dryer shed: load 8.00 kW over what PV and storage supply, 7.20 kW"),
    ]
    assert last.decision.startswith("ev discharging 5.5 kW: outage: covering the house")
    assert last.restoring_remaining_s is None
    t = r.home.totals
    delivered_kwh = (5.0 * 60 + 4.0 * 1740 + 5.5 * 1860) / 3600  # AC, before and in the outage
    assert t.car_kwh == pytest.approx(-delivered_kwh)
    assert r.car.soc_kwh == pytest.approx(30.0 - delivered_kwh / CAR_ETA)
    assert t.grid_import_kwh == pytest.approx(3.5 * 60 / 3600)
    assert t.backfeed_kwh == 0.0
    assert t.unserved_kwh == 0.0
    assert t.grid_export_kwh == 0.0
    assert r.events(EventKind.WARNING) == []


def test_outage_on_the_f150_example_with_the_real_planner() -> None:
    """The Sonoma example site through ``control_site`` and ``SitePlanSource``: water heater (4)
    before air conditioner (3), essentials kept, no plan while islanded, one plan on return."""
    s = load_site(SONOMA)
    cs = control_site(s)
    v = cs.vehicle("lightning")
    clock = VirtualClock(T0)
    car = SimStorage(
        capacity_kwh=v.capacity_kwh,
        soc_kwh=v.capacity_kwh / 2,
        max_charge_kw=v.max_charge_kw,
        max_discharge_kw=v.max_discharge_kw,
        eta_charge=v.efficiency,
        eta_discharge=v.efficiency,
    )
    circuits = {c.name: c.typical_kw for c in cs.circuits}
    # base 2 kW, then 5 kW after 15 min: 12.01 kW with every circuit on, 9.6 kW discharge limit
    home = SimulatedHome(
        clock, load_kw=[2.0, 5.0], car=car, circuits_kw=circuits, voltage_v=240, frequency_hz=60
    )
    d = SimulatedDevices.around(home)
    assert d.charger is not None
    devices = DeviceSet(
        meter=d.meter,
        chargers={"lightning": d.charger},
        pv=d.pv,
        load_meter=d.meter,
        relay=d.relay,
        transfer=d.relay,
    )
    ctl = Controller(cs, devices, SitePlanSource(s), clock, loop_config(tick_s=5.0))
    r = Rig(home, d, ctl, None, clock, cs)  # type: ignore[arg-type]
    reserve_kwh = 0.20 * v.capacity_kwh
    r.run(60)
    car_before = home.totals.car_kwh
    r.home.grid_down()
    r.tick()
    assert not home.transfer_closed
    r.home.advance(5.0)
    essentials = [c.name for c in cs.circuits if c.essential]

    def check(r: Rig, status: ControlStatus) -> None:
        assert all(home.circuits_on[c] for c in essentials)
        assert car.soc_kwh >= reserve_kwh
        assert home.unserved_kw == 0.0

    r.run(1860 - 65.0, check)
    sheds = [(t, m.split(":")[0]) for t, m in kinds_at(r, EventKind.SHED)]
    assert sheds == [(60.0, "circuit water-heater shed"), (900.0, "circuit air-conditioner shed")]
    islanded_kwh = (2.0 + 1.71 + 3.8) * 840 / 3600 + (5.0 + 1.71) * 960 / 3600
    assert home.totals.car_kwh - car_before == pytest.approx(-islanded_kwh)
    assert home.totals.backfeed_kwh == 0.0 and home.totals.unserved_kwh == 0.0
    # the plan made at start is the only one while the grid is away, although 15 min passed
    assert [m.split(":")[0] for m in r.events(EventKind.PLAN)] == ["new plan (start)"]
    home.grid_restore()
    r.run(310)
    plans = r.event_list(EventKind.PLAN)
    assert [(e.at, e.data["reason"]) for e in plans[1:]] == [(at(1860 + 300), "grid back")]
    assert home.transfer_closed and all(home.circuits_on.values())


# --- 2. the car away, then back, in an outage ------------------------------------------------


def test_outage_with_the_car_away_then_plugged_in_mid_outage() -> None:
    r = rig(car_soc_kwh=40.0, plugged_in=False, load_kw=1.0, pv_kw=0.8)
    r.home.grid_down()
    r.run(600)
    # nothing stored at home: every circuit off, 1.0 kW base load against 0.8 kW of PV
    assert not any(r.home.circuits_on.values())
    assert r.home.totals.unserved_kwh == pytest.approx(0.2 * 600 / 3600)
    assert r.car.soc_kwh == 40.0
    assert "storage down to its reserve" in r.events(EventKind.WARNING)[0]

    r.devices.charger.plug(True)  # type: ignore[union-attr]
    r.tick()
    assert r.events(EventKind.PLUG) == ["ev plugged in"]
    # restored by need, essentials first: fridge, medical, dryer (1.5 + 1.2 * 2.5 <= 8.0 kW);
    # the water heater stays off (4.0 + 1.2 * 4.5 > 8.0 kW)
    assert r.home.circuits_on == {
        "fridge": True,
        "medical": True,
        "dryer": True,
        "water-heater": False,
    }
    r.home.advance(2.0)
    unserved_before = r.home.totals.unserved_kwh
    car_before = r.home.totals.car_kwh

    def check(r: Rig, status: ControlStatus) -> None:
        assert r.home.unserved_kw == 0.0
        assert r.car.setpoint_kw == pytest.approx(-(4.0 - 0.8))

    r.run(600, check)
    assert r.home.totals.unserved_kwh == unserved_before
    assert r.home.totals.car_kwh - car_before == pytest.approx(-3.2 * 600 / 3600)
    assert r.home.totals.backfeed_kwh == 0.0
    # islanded, so the plug-in waits for the grid to plan
    assert [e.data["reason"] for e in r.event_list(EventKind.PLAN)] == []


def test_a_sunny_outage_runs_the_house_on_pv_before_the_car() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, pv_kw=6.0, plan_load_kw=2.5)
    r.run(20)
    r.home.grid_down()
    r.run(120)
    # The first, dark tick sheds the water heater (no PV seen, 7.2 kW of car for 8.5 kW); with
    # 6 kW of sun it comes back (4.0 + 1.2 * 4.5 <= 6 + 7.2) and the whole 8.5 kW house runs on
    # all the PV first, the car covering only the 2.5 kW rest
    assert r.home.pv_used_kw == pytest.approx(6.0)
    assert r.car.setpoint_kw == pytest.approx(-2.5)
    assert r.home.unserved_kw == 0.0


# --- 3. an outage longer than the reserve -----------------------------------------------------


def test_outage_longer_than_the_reserve_sheds_essentials_last_then_lower_reserve() -> None:
    # 1.005 kWh above the 18 kWh reserve: 0.9045 kWh AC. At 4.0 kW (water heater shed) that
    # lasts 81 ticks of 10 s with 0.0045 kWh left: 1.62 kW for the next tick, so the dryer
    # goes at 810 s; 1.5 kW then leaves 0.12 kW, and at 830 s the car is at its reserve.
    r = rig(car_soc_kwh=19.005, load_kw=1.0, plan_kw={CAR: -5.0}, config=loop_config(tick_s=10))
    r.home.grid_down()
    r.run(1200, lambda r, s: _above(r.car.soc_kwh, RESERVE_KWH))
    assert kinds_at(r, EventKind.SHED) == [
        (0.0, "circuit water-heater shed: load 8.50 kW over what PV and storage supply, 7.20 kW"),
        (810.0, "circuit dryer shed: load 4.00 kW over what PV and storage supply, 1.62 kW"),
        (
            830.0,
            "circuit fridge shed: storage down to its reserve and PV does not cover the essentials",
        ),
        (
            830.0,
            "circuit medical shed: storage down to its reserve and PV does not cover the essentials",
        ),
    ]
    assert kinds_at(r, EventKind.WARNING) == [
        (
            830.0,
            "storage down to its reserve and PV short: essential circuits shed; lower the "
            "outage reserve of ev to keep them on",
        )
    ]
    assert r.car.soc_kwh == pytest.approx(RESERVE_KWH, abs=1e-9)
    # at 820 s the car has 0.12 kW for the 1.5 kW left, essentials not yet shed; from 830 s
    # the 1.0 kW base load is unserved
    assert r.home.totals.unserved_kwh == pytest.approx((1.38 * 10 + 1.0 * 370) / 3600, abs=1e-9)

    r.controller.apply_settings(
        SettingsUpdate(vehicles={CAR: VehicleSettings(outage_reserve_pct=5)}), "test"
    )
    assert r.events(EventKind.MODE) == ["settings changed by test: vehicles"]
    r.run(600)
    # 5 % of 60 kWh = 3 kWh: essentials and dryer back (1.0 + 0.36 + 0.24 + 3.0 <= 7.2 kW)
    assert all(r.home.circuits_on[c] for c in (*ESSENTIALS, "dryer"))
    assert r.car.setpoint_kw == pytest.approx(-4.0)
    assert r.car.soc_kwh == pytest.approx(RESERVE_KWH - 4.0 * 600 / 3600 / CAR_ETA)
    assert r.home.totals.unserved_kwh == pytest.approx((1.38 * 10 + 1.0 * 370) / 3600, abs=1e-9)

    r.home.grid_restore()
    r.run(310)
    assert r.controller.settings.vehicles[CAR].outage_reserve_pct is None
    # on grid again below the 18 kWh reserve: the plan's -5 kW is refused, the car is idle
    low = r.car.soc_kwh
    r.run(600)
    assert r.car.setpoint_kw == 0.0 and r.car.soc_kwh == low
    assert r.home.totals.backfeed_kwh == 0.0


def _above(value: float, floor: float) -> None:
    assert value >= floor - 1e-9


# --- 4. a flapping grid -----------------------------------------------------------------------


def test_flapping_grid_restarts_the_wait_and_holds_storage_export_until_the_ramp_ends() -> None:
    # a V2G site that may export 5 kW from the car: export is legal once the grid is stable
    cs = site(
        car=vehicle(may_export=True),
        export_policy="any",
        export_limit_kw=5.0,
        v2g_allowed=True,
        circuits=(),
    )
    r = rig(control_site=cs, car_soc_kwh=50.0, load_kw=0.5, circuits_kw={}, plan_kw={CAR: -7.2})
    r.run(400)  # the grid has been normal for 300 s: export allowed, 0.5 kW house + 5 kW out
    assert r.car.setpoint_kw == pytest.approx(-5.5) and r.home.grid_kw == pytest.approx(-5.0)
    export_before = r.home.totals.grid_export_kwh

    r.home.grid_down()
    r.run(60)
    restores = []
    for _ in range(5):  # up 30 s, down 30 s
        r.home.grid_restore()
        restores.append(r.elapsed_s())
        r.run(30, _closed_is_on_grid)
        r.home.grid_down()
        r.run(30, _closed_is_on_grid)
    r.home.grid_restore()
    stable = r.elapsed_s()
    statuses_before = len(r.statuses)
    r.run(300, _closed_is_on_grid)
    assert not r.home.transfer_closed  # 298 s of a stable grid: still waiting

    def ramp(r: Rig, status: ControlStatus) -> None:
        assert r.home.grid_kw >= -1e-9  # nothing from the car to the grid while ramping
        s = r.elapsed_s() - (stable + 300)
        wanted = min(7.2 * s / 300, 0.5)  # the ramp, then the house's 0.5 kW
        assert -status.vehicles[CAR].setpoint_kw == pytest.approx(wanted)
        assert abs(r.car.setpoint_kw - status.vehicles[CAR].setpoint_kw) <= 0.05  # deadband

    r.run(300, ramp)
    assert r.home.totals.grid_export_kwh == export_before
    assert r.home.totals.backfeed_kwh == 0.0
    r.run(10)
    assert r.home.grid_kw == pytest.approx(-5.0)  # export again once stable and ramped

    grid = kinds_at(r, EventKind.GRID)
    expected = [(400.0, LOSS)]
    for t in restores:
        expected += [
            (
                t,
                "grid islanded → restoring: grid within enter-service limits; reconnecting "
                "after 300 s",
            ),
            (
                t + 30,
                "grid restoring → islanded: grid voltage 0.0 V below 0.88 pu (211 V); "
                "enter-service wait restarts",
            ),
        ]
    expected += [
        (
            stable,
            "grid islanded → restoring: grid within enter-service limits; reconnecting after 300 s",
        ),
        (stable + 300, "grid restoring → on_grid: grid back within limits for 300 s"),
    ]
    assert grid == expected
    # the wait shown to the household starts at 300 s at each restore
    waits = {(s.at - T0).total_seconds(): s.restoring_remaining_s for s in r.statuses}
    assert [waits[t] for t in restores] == [300.0] * 5
    assert r.statuses[statuses_before].restoring_remaining_s == 300.0


def _closed_is_on_grid(r: Rig, status: ControlStatus) -> None:
    assert r.home.transfer_closed == (status.grid_state is GridState.ON_GRID)
    assert status.grid_state is not GridState.ON_GRID


# --- 5. the grid back just before departure ---------------------------------------------------


def test_grid_back_before_departure_reconnects_ramps_and_reaches_the_target() -> None:
    r = rig(
        car_soc_kwh=40.0,
        load_kw=1.0,
        plan_kw={CAR: CAR_KW},
        plan_stop_kwh={CAR: TARGET_KWH},
        config=loop_config(tick_s=10.0),
    )
    r.run(60)
    r.home.grid_down()
    r.run(1200)  # 20 min islanded at 4.0 kW
    r.home.grid_restore()
    restore = r.elapsed_s()
    r.run(300)
    assert not r.home.transfer_closed
    reconnect = r.elapsed_s()
    departure = restore + 2 * 3600
    soc_at_reconnect = r.car.soc_kwh
    # hand check of the SoC: 60 s at +7.2 kW, then 1500 s at -4.0 kW islanded
    assert soc_at_reconnect == pytest.approx(40.0 + 7.2 * 60 / 3600 * 0.9 - 4.0 * 1500 / 3600 / 0.9)

    seen: dict[float, float] = {}

    def check(r: Rig, status: ControlStatus) -> None:
        s = r.elapsed_s() - reconnect
        seen[s] = status.vehicles[CAR].setpoint_kw
        if s < 300:
            assert seen[s] == pytest.approx(CAR_KW * s / 300)
        assert abs(r.car.setpoint_kw - seen[s]) <= 0.05  # the write deadband

    r.run(departure - reconnect, check)
    assert seen[0.0] == 0.0 and seen[150.0] == pytest.approx(3.6)
    assert seen[300.0] == CAR_KW
    # full power from the end of the ramp until the last planning step before the target
    full = [s for s in sorted(seen) if 300 <= s <= 3000]
    assert all(seen[s] == CAR_KW for s in full)
    assert kinds_at(r, EventKind.SHED)[-1] == (
        reconnect,
        "grid back: circuits restored: water-heater",
    )
    assert all(r.home.circuits_on.values())
    assert r.car.soc_kwh == pytest.approx(TARGET_KWH, abs=1e-6)
    assert r.home.totals.grid_export_kwh == 0.0 and r.home.totals.backfeed_kwh == 0.0


# --- 6. a stale meter -------------------------------------------------------------------------


def test_stale_meter_is_a_fault_and_answering_again_is_recorded() -> None:
    r = rig(car_soc_kwh=30.0, battery_soc_kwh=5.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.run(60)
    r.home.freeze(r.devices.meter)
    r.run(60, lambda r, s: _above(r.home.grid_kw, 0.0))
    # the meter's grid reading is stale after 10 s: at the tick 12 s after the freeze
    assert kinds_at(r, EventKind.FAULT) == [(72.0, "meter: stale data: last reading 12 s old")]
    assert r.statuses[-1].faults == ("meter: stale data: last reading 58 s old",)
    assert r.controller.grid.sensor_stale and not r.controller.grid.grid_export_allowed
    r.home.heal(r.devices.meter)
    last = r.run(20)
    assert kinds_at(r, EventKind.FAULT)[-1] == (120.0, "meter: answering again with fresh data")
    assert last.faults == ()
    assert (r.car.setpoint_kw, r.battery.setpoint_kw) == (-5.0, pytest.approx(-3.5))
    assert r.home.totals.grid_export_kwh == 0.0


@pytest.mark.parametrize("load_meter", [True, False])
def test_stale_meter_stops_storage_discharge(load_meter: bool) -> None:
    r = rig(
        car_soc_kwh=30.0,
        battery_soc_kwh=5.0,
        load_kw=1.0,
        plan_kw={CAR: -5.0},
        load_meter=load_meter,
    )
    r.run(60)
    r.home.freeze(r.devices.meter)
    r.run(20)
    r.home.circuits_kw["water-heater"] = 0.0  # the house load drops by 4.5 kW, unseen
    r.home.refresh()
    r.run(20)  # 40 s after the freeze: past every staleness limit (10 s grid, 30 s load)
    assert r.car.setpoint_kw == 0.0 and r.battery.setpoint_kw == 0.0
    assert r.home.totals.grid_export_kwh == 0.0
    assert "site data not finite" in r.events(EventKind.GUARD)[0]


class LiveLoadMeter:
    """A house-side meter apart from the grid meter: it keeps answering when that one freezes."""

    def __init__(self, r: Rig) -> None:
        self.r = r

    async def read_load(self) -> Measurement:
        self.r.home.sync()
        return Measurement("load", self.r.clock.now(), power_kw=self.r.home.load_kw)


@pytest.mark.parametrize("separate_load_meter", [False, True])
def test_no_discharge_while_the_grid_cannot_be_seen(separate_load_meter: bool) -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    if separate_load_meter:
        r.controller.devices.load_meter = LiveLoadMeter(r)
    r.run(60)
    r.home.freeze(r.devices.meter)
    r.run(20)  # the controller has flagged the meter as stale (FAULT at 72 s) ...
    assert [e.device for e in r.event_list(EventKind.FAULT)] == ["meter"]
    r.home.grid_down()  # ... before the grid goes
    r.run(60)
    assert r.home.totals.backfeed_kwh == 0.0


# --- 7. a charger that stops answering --------------------------------------------------------


def test_dropped_charger_is_a_fault_the_battery_carries_on_and_it_recovers() -> None:
    r = rig(car_soc_kwh=30.0, battery_soc_kwh=5.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.run(60)
    assert (r.car.setpoint_kw, r.battery.setpoint_kw) == (-5.0, pytest.approx(-3.5))
    r.home.drop(r.devices.charger)
    during = r.run(30)
    assert kinds_at(r, EventKind.FAULT) == [
        (60.0, "ev: does not answer: simulated device 'charger' does not answer (dropped)")
    ]
    assert during.vehicles[CAR].setpoint_kw == 0.0 and during.vehicles[CAR].soc_kwh is None
    # the battery covers the whole 8.5 kW house as far as it can
    assert r.battery.setpoint_kw == pytest.approx(-5.0)
    r.home.heal(r.devices.charger)
    after = r.run(20)
    assert kinds_at(r, EventKind.FAULT)[-1] == (90.0, "ev: answering again with fresh data")
    assert after.faults == ()
    assert (r.car.setpoint_kw, r.battery.setpoint_kw) == (-5.0, pytest.approx(-3.5))


def test_charger_answering_again_gets_the_present_command() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.run(60)
    r.home.drop(r.devices.charger)
    r.run(10)  # the safe default cannot be written: the car stays at -5 kW
    r.home.heal(r.devices.charger)
    r.controller.apply_settings(SettingsUpdate(mode=Mode.OFF), "test")
    r.run(4)
    assert r.car.setpoint_kw == 0.0


# --- 8. modes ---------------------------------------------------------------------------------


def test_mode_off_stops_everything_on_grid_and_in_an_outage() -> None:
    r = rig(car_soc_kwh=30.0, battery_soc_kwh=5.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.run(10)
    r.controller.apply_settings(SettingsUpdate(mode=Mode.OFF), "test")
    r.run(10, lambda r, s: _idle(r))
    assert r.home.grid_kw == pytest.approx(8.5)
    r.home.grid_down()
    r.run(60, lambda r, s: _idle(r))
    assert r.home.totals.car_kwh == pytest.approx(-5.0 * 10 / 3600)


def _idle(r: Rig) -> None:
    assert r.car.setpoint_kw == 0.0 and r.battery.setpoint_kw == 0.0


def test_charge_now_charges_at_full_power_until_the_target() -> None:
    # 4 kWh to the 48 kWh target: 4 / (7.2 * 0.9) h = 2222.2 s; the plan wants -5 kW
    r = rig(car_soc_kwh=44.0, load_kw=1.0, plan_kw={CAR: -5.0}, config=loop_config(tick_s=10))
    r.controller.apply_settings(SettingsUpdate(mode=Mode.CHARGE_NOW), "test")
    r.run(2220, lambda r, s: _charging_at(r, CAR_KW))
    assert r.car.soc_kwh == pytest.approx(44.0 + 7.2 * 0.9 * 2220 / 3600)
    r.run(600)
    # the tick at 2220 s charges 10 s more (to 48.0045 kWh), then nothing
    assert r.car.soc_kwh == pytest.approx(44.0 + 7.2 * 0.9 * 2230 / 3600)
    assert r.car.setpoint_kw == 0.0
    assert r.statuses[-1].vehicles[CAR].setpoint_kw == 0.0


def _charging_at(r: Rig, kw: float) -> None:
    assert r.car.setpoint_kw == kw


def test_backup_only_never_discharges_on_grid_but_covers_an_outage() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.controller.apply_settings(SettingsUpdate(mode=Mode.BACKUP_ONLY), "test")
    r.run(60, lambda r, s: _charging_at(r, 0.0))
    assert r.home.grid_kw == pytest.approx(8.5)
    r.home.grid_down()
    r.run(60, lambda r, s: _charging_at(r, -4.0))
    assert r.home.totals.unserved_kwh == 0.0


def test_v2l_leaves_the_car_alone_on_grid_and_in_an_outage() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: 3.0})
    r.controller.apply_settings(SettingsUpdate(mode=Mode.V2L), "test")
    r.run(60, lambda r, s: _charging_at(r, 0.0))
    r.home.grid_down()
    r.run(60, lambda r, s: _charging_at(r, 0.0))
    assert r.car.soc_kwh == 30.0
    assert r.home.totals.unserved_kwh == pytest.approx(1.0 * 60 / 3600)  # all shed; base load


def test_mode_switch_in_an_outage_takes_effect_on_the_next_tick() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0)
    r.home.grid_down()
    r.run(20, lambda r, s: _charging_at(r, -4.0))
    r.controller.apply_settings(SettingsUpdate(mode=Mode.V2L), "api")
    r.run(20, lambda r, s: _charging_at(r, 0.0))
    assert not any(r.home.circuits_on.values())  # no storage for the house: all shed
    r.controller.apply_settings(SettingsUpdate(mode=Mode.BACKUP_ONLY), "api")
    # the car is back for the house: fridge, medical and dryer restored at once, 4.0 kW
    r.run(20, lambda r, s: _charging_at(r, -4.0))
    assert [m.split(": ")[1] for m in r.events(EventKind.MODE)] == [
        "mode (mode v2l)",
        "mode (mode backup-only)",
    ]
    # no plan while islanded, although the settings changed twice
    assert [e.data["reason"] for e in r.event_list(EventKind.PLAN)] == []


@pytest.mark.parametrize(
    ("mode", "car_kw"),
    [
        (Mode.OFF, 0.0),
        (Mode.CHARGE_NOW, CAR_KW),
        (Mode.BACKUP_ONLY, 0.0),
        (Mode.V2L, 0.0),
        (Mode.AUTO, -5.0),
    ],
)
def test_mode_switch_takes_effect_on_the_next_tick_with_a_mode_event(
    mode: Mode, car_kw: float
) -> None:
    start = Mode.OFF if mode is Mode.AUTO else Mode.AUTO
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.controller.apply_settings(SettingsUpdate(mode=start), "test")
    r.run(20)
    r.controller.apply_settings(SettingsUpdate(mode=mode), "api")
    status = r.tick()
    assert status.mode is mode
    assert r.car.setpoint_kw == car_kw
    assert r.events(EventKind.MODE)[-1] == f"settings changed by api: mode (mode {mode.value})"
    assert r.event_list(EventKind.MODE)[-1].data["source"] == "api"


# --- 9. re-planning ---------------------------------------------------------------------------


def test_replans_on_plug_events_every_15_minutes_and_on_settings() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, config=loop_config(tick_s=10))
    r.run(100)
    r.devices.charger.plug(False)  # type: ignore[union-attr]
    r.run(100)
    r.devices.charger.plug(True)  # type: ignore[union-attr]
    r.run(1000)  # plugged in at 200 s: the next scheduled plan at 1100 s
    r.controller.apply_settings(SettingsUpdate(mode=Mode.BACKUP_ONLY), "test")
    r.run(10)
    plans = [((e.at - T0).total_seconds(), e.data["reason"]) for e in r.event_list(EventKind.PLAN)]
    assert plans == [
        (0.0, "start"),
        (100.0, "ev unplugged"),
        (200.0, "ev plugged in"),
        (1100.0, "every 15 minutes"),
        (1200.0, "settings changed (mode)"),
    ]
    assert r.events(EventKind.PLUG) == ["ev unplugged", "ev plugged in"]
    assert [dict(c.plugged_in) for c in r.plans.calls] == [
        {CAR: True},
        {CAR: False},
        {CAR: True},
        {CAR: True},
        {CAR: True},
    ]
    assert r.plans.calls[0].soc_pct == {CAR: 50.0}
    assert r.plans.calls[-1].settings.mode is Mode.BACKUP_ONLY
    assert r.event_list(EventKind.PLAN)[0].message == "new plan (start): bill 1.00 over 192 steps"


def test_replans_when_the_soc_is_off_plan() -> None:
    # the plan charges at 7.2 kW (6.48 kWh/h stored) but the car takes only 1 kW (0.9 kWh/h):
    # 2 kWh apart after 2 / 5.58 h = 1290.3 s, so at the tick at 1300 s
    r = rig(
        car_soc_kwh=30.0,
        load_kw=1.0,
        plan_kw={CAR: CAR_KW},
        config=loop_config(tick_s=10, replan_s=3600),
    )
    r.car.max_charge_kw = 1.0
    r.run(1400)
    [_, second] = r.event_list(EventKind.PLAN)
    assert (second.at, second.data["reason"]) == (at(1300), "ev SoC -2.0 kWh off plan")


def test_failed_planning_is_a_warning_and_the_last_plan_is_kept() -> None:
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: -5.0})
    r.run(10)
    plan = r.controller.plan
    r.plans.fail = True
    r.controller.apply_settings(SettingsUpdate(backup_reserve_h=8.0), "test")
    r.run(10)
    assert r.events(EventKind.WARNING) == [
        "planning failed (solver unavailable); following the last plan"
    ]
    assert r.controller.plan is plan and r.car.setpoint_kw == -5.0


# --- without a transfer switch ----------------------------------------------------------------


def test_outage_without_a_transfer_switch_keeps_every_storage_at_zero() -> None:
    r = rig(car_soc_kwh=30.0, battery_soc_kwh=5.0, load_kw=1.0, plan_kw={CAR: -5.0}, transfer=False)
    r.run(60)
    r.home.grid_down()
    r.run(120, lambda r, s: _idle(r))
    assert r.home.totals.backfeed_kwh == 0.0
    assert r.home.totals.unserved_kwh == pytest.approx(8.5 * 120 / 3600)
    assert r.events(EventKind.WARNING) == [
        "no transfer switch: the house cannot be islanded, so no storage powers it in this outage"
    ]


# --- restoring a circuit in an outage -------------------------------------------------------------


def test_restoring_circuits_in_an_outage_leaves_nothing_unserved() -> None:
    r = rig(car_soc_kwh=40.0, plugged_in=False, load_kw=1.0)
    r.home.grid_down()
    r.run(60)
    r.devices.charger.plug(True)  # type: ignore[union-attr]
    r.tick()  # fridge, medical and dryer come back: 4.0 kW
    assert r.home.circuits_on == {
        "fridge": True,
        "medical": True,
        "dryer": True,
        "water-heater": False,
    }
    assert r.car.setpoint_kw == pytest.approx(-4.0)
    assert r.home.unserved_kw == 0.0


# --- the write deadband -------------------------------------------------------------------------


def test_a_guard_reduction_within_the_deadband_is_still_written() -> None:
    # charge-now at 7.2 kW beside an 8.5 kW house on a 16 kW connection; after 30 s the base
    # load rises by 0.33 kW: the guard allows 7.17 kW
    r = rig(
        control_site=site(import_limit_kw=16.0),
        car_soc_kwh=30.0,
        load_kw=[1.0, 1.33],
        profile_step_s=30.0,
    )
    r.controller.apply_settings(SettingsUpdate(mode=Mode.CHARGE_NOW), "test")
    r.run(40, lambda r, s: _above(16.0, r.home.grid_kw))
    assert r.car.setpoint_kw == pytest.approx(7.17)
    assert kinds_at(r, EventKind.GUARD) == [
        (
            30.0,
            "ev: charge 7.20 kW clipped to 7.17 kW: main breaker: import 16.03 kW over the "
            "16 kW limit (load 8.83 kW, PV 0.00 kW)",
        )
    ]


def test_a_smaller_discharge_within_the_deadband_is_still_written() -> None:
    # the battery covers 3.5 kW of the 8.5 kW house beside the car's 5 kW; after 30 s the base
    # load falls by 0.03 kW
    r = rig(
        car_soc_kwh=30.0,
        battery_soc_kwh=5.0,
        load_kw=[1.0, 0.97],
        profile_step_s=30.0,
        plan_kw={CAR: -5.0},
    )
    r.run(60, lambda r, s: _above(r.home.grid_kw, 0.0))
    assert r.home.totals.grid_export_kwh == 0.0
