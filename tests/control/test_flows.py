"""house_flows and soc_pct: the load and PV the controller acts on, worked out by hand, NaN
whenever fresh data cannot show them (never a quiet 0), and SoC [%] only for storages read."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.control.fakes import FAST_ENOUGH, FakeBattery, FakeCharger, FakeMeter
from tests.control.harness import CAR, site
from voltbridge.control.flows import house_flows, soc_pct
from voltbridge.control.io import DeviceSet, Snapshot
from voltbridge.core.types import Measurement

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
STALE_S = 30.0  # PV, load meter, storages
GRID_STALE_S = 10.0


def m(device: str, kw: float | None, age_s: float = 0.0, soc: float | None = None) -> Measurement:
    return Measurement(device, T0 - timedelta(seconds=age_s), kw, soc_kwh=soc)


def devices(pv: bool = True, load_meter: bool = False, battery: bool = True) -> DeviceSet:
    meter = FakeMeter()
    return DeviceSet(
        meter=meter,
        chargers={CAR: FakeCharger(CAR)},
        battery=FakeBattery() if battery else None,
        pv=object() if pv else None,  # type: ignore[arg-type]
        load_meter=meter if load_meter else None,  # type: ignore[arg-type]
    )


def flows(
    s: Snapshot, d: DeviceSet | None = None, islanded_open: bool = False
) -> tuple[float, float]:
    return house_flows(
        s,
        T0,
        d or devices(),
        stale_after_s=STALE_S,
        grid_stale_after_s=GRID_STALE_S,
        islanded_open=islanded_open,
    )


def snap(
    grid: Measurement | None = None,
    pv: Measurement | None = None,
    load: Measurement | None = None,
    car: Measurement | None = None,
    car_plugged: bool | None = True,
    battery: Measurement | None = None,
) -> Snapshot:
    return Snapshot(
        grid=grid,
        pv=pv,
        load=load,
        storages={CAR: car, "battery": battery},
        plugged_in={CAR: car_plugged, "battery": battery is not None},
    )


def test_without_a_load_meter_the_load_is_grid_plus_pv_minus_storages() -> None:
    # 2 kW imported + 3 kW PV, and the car gives 1.5 kW: the house draws 6.5 kW
    assert flows(snap(m("meter", 2.0), m("pv", 3.0), car=m(CAR, -1.5))) == (6.5, 3.0)
    # the battery charging 2 kW takes 2 kW of that away from the house
    both = snap(m("meter", 2.0), m("pv", 3.0), car=m(CAR, -1.5), battery=m("battery", 2.0))
    assert flows(both) == (4.5, 3.0)


def test_stale_pv_makes_pv_and_load_unknown() -> None:
    load, pv = flows(snap(m("meter", 2.0), m("pv", 3.0, age_s=31.0), car=m(CAR, -1.5)))
    assert math.isnan(pv) and math.isnan(load)
    assert flows(snap(m("meter", 2.0), m("pv", 3.0, age_s=30.0), car=m(CAR, -1.5))) == (6.5, 3.0)


def test_a_stale_or_missing_grid_reading_makes_the_load_unknown() -> None:
    for grid in (m("meter", 2.0, age_s=11.0), None, m("meter", None)):
        load, pv = flows(snap(grid, m("pv", 3.0), car=m(CAR, -1.5)))
        assert math.isnan(load) and pv == 3.0


def test_islanded_with_the_switch_open_nothing_flows_through_the_grid_connection() -> None:
    # the meter's (stale or missing) reading does not matter: PV 3 kW + battery 2 kW = 5 kW
    s = snap(None, m("pv", 3.0), car=None, car_plugged=False, battery=m("battery", -2.0))
    assert flows(s, islanded_open=True) == (5.0, 3.0)


def test_a_plugged_in_storage_without_a_power_reading_makes_the_load_unknown() -> None:
    load, _ = flows(snap(m("meter", 2.0), m("pv", 3.0), car=None, car_plugged=True))
    assert math.isnan(load)
    load, _ = flows(snap(m("meter", 2.0), m("pv", 3.0), car=m(CAR, None), car_plugged=True))
    assert math.isnan(load)
    # a car away from its charger takes nothing: 2 + 3 kW
    assert flows(snap(m("meter", 2.0), m("pv", 3.0), car=None, car_plugged=False)) == (5.0, 3.0)


def test_a_stale_storage_reading_makes_the_load_unknown() -> None:
    # the car's 1.5 kW is 60 s old: the house's draw now cannot be told from it
    load, _ = flows(snap(m("meter", 2.0), m("pv", 3.0), car=m(CAR, -1.5, age_s=60.0)))
    assert math.isnan(load)


def test_no_pv_inverter_is_no_pv() -> None:
    assert flows(snap(m("meter", 2.0), None, car=m(CAR, 0.0)), devices(pv=False)) == (2.0, 0.0)


def test_a_load_meter_gives_the_load_directly() -> None:
    d = devices(load_meter=True)
    s = snap(None, m("pv", 3.0), load=m("load meter", 1.2), car=m(CAR, -7.0))
    assert flows(s, d) == (1.2, 3.0)  # no grid reading needed, storages not subtracted
    load, _ = flows(snap(m("meter", 2.0), m("pv", 3.0), load=m("load meter", 1.2, 31.0)), d)
    assert math.isnan(load)


def test_small_negative_readings_are_taken_as_zero() -> None:
    # a PV inverter's night draw and a meter's offset are no negative load
    assert flows(snap(m("meter", -1.0), m("pv", -0.02), car=m(CAR, 0.0))) == (0.0, 0.0)
    d = devices(load_meter=True)
    assert flows(snap(None, m("pv", 0.0), load=m("load meter", -0.3)), d) == (0.0, 0.0)


READING = st.one_of(
    st.none(),
    st.tuples(st.one_of(st.none(), st.floats(-20, 20)), st.sampled_from([0.0, 5.0, 31.0, 60.0])),
)


@FAST_ENOUGH
@given(READING, READING, READING, READING, st.booleans(), st.booleans(), st.booleans())
def test_the_flows_are_never_negative_nor_infinite_only_unknown(
    grid: tuple[float | None, float] | None,
    pv: tuple[float | None, float] | None,
    car: tuple[float | None, float] | None,
    battery: tuple[float | None, float] | None,
    plugged: bool,
    load_meter: bool,
    islanded_open: bool,
) -> None:
    def meas(name: str, r: tuple[float | None, float] | None) -> Measurement | None:
        return None if r is None else m(name, r[0], r[1])

    s = snap(
        meas("meter", grid),
        meas("pv", pv),
        load=meas("load meter", grid),
        car=meas(CAR, car) if plugged else None,
        car_plugged=plugged,
        battery=meas("battery", battery),
    )
    for kw in flows(s, devices(load_meter=load_meter), islanded_open):
        assert math.isnan(kw) or (math.isfinite(kw) and kw >= 0.0)


def test_soc_pct_of_each_storage_read_and_none_for_the_others() -> None:
    cs = site(battery=True)  # a 60 kWh car and a 10 kWh battery
    s = snap(car=m(CAR, 0.0, soc=30.0), battery=m("battery", 0.0, soc=2.5))
    assert soc_pct(cs, s) == {CAR: 50.0, "battery": 25.0}
    assert soc_pct(cs, snap(car=None, battery=m("battery", 0.0, soc=None))) == {}
    assert soc_pct(site(battery=False), s) == {CAR: 50.0}  # a battery the site does not have
