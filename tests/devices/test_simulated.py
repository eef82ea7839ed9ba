"""Simulated devices: protocols, SoC integration, limits, energy balance, outages and faults."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from voltbridge.core.clock import VirtualClock
from voltbridge.devices.capabilities import (
    Battery,
    Charger,
    CircuitRelay,
    GridSensor,
    Meter,
    PvInverter,
    capabilities_of,
)
from voltbridge.devices.simulated import SimulatedDevices
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome
from voltbridge.sim.charger import charge_stored_kw, dc_for_ac_kw

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _devices(**home: object) -> SimulatedDevices:
    car = SimStorage(60.0, 20.0, max_charge_kw=11.0, max_discharge_kw=9.0, eta_charge=0.9)
    car.eta_discharge = 0.9
    bat = SimStorage(10.0, 5.0, max_charge_kw=5.0, max_discharge_kw=5.0)
    kwargs: dict[str, object] = {"car": car, "battery": bat, **home}
    return SimulatedDevices.around(SimulatedHome(VirtualClock(T0), **kwargs))  # type: ignore[arg-type]


def test_simulated_devices_satisfy_their_protocols_and_only_those() -> None:
    d = _devices()
    assert d.charger is not None and d.battery is not None
    assert isinstance(d.meter, Meter) and isinstance(d.meter, GridSensor)
    assert isinstance(d.pv, PvInverter) and isinstance(d.charger, Charger)
    assert isinstance(d.battery, Battery) and isinstance(d.relay, CircuitRelay)
    assert capabilities_of(d.meter) == {"meter", "grid_sensor", "load_meter"}
    assert capabilities_of(d.charger) == {"charger", "backup"}
    assert capabilities_of(d.battery) == {"battery", "backup"}
    assert capabilities_of(d.pv) == {"pv_inverter"}
    assert capabilities_of(d.relay) == {"circuit_relay", "transfer_switch"}
    assert capabilities_of(object()) == set()


def test_charge_for_an_hour_changes_soc_by_eta_times_energy() -> None:
    d = _devices()
    assert d.charger is not None
    asyncio.run(d.charger.set_charge_power(7.0))
    d.home.advance(3600)
    m = asyncio.run(d.charger.read_charger())
    assert m.soc_kwh == pytest.approx(20.0 + 0.9 * 7.0)  # 26.3 kWh
    assert m.power_kw == pytest.approx(7.0)
    assert m.at == datetime(2026, 1, 1, 1, tzinfo=UTC)
    asyncio.run(d.charger.set_charge_power(-4.5))
    d.home.advance(3600)
    assert d.home.car is not None
    assert d.home.car.soc_kwh == pytest.approx(26.3 - 4.5 / 0.9)  # 21.3 kWh


def test_limits_clip_power_and_soc_bounds() -> None:
    d = _devices()
    assert d.charger is not None and d.battery is not None
    asyncio.run(d.charger.set_charge_power(50.0))
    assert asyncio.run(d.charger.read_charger()).power_kw == 11.0
    asyncio.run(d.battery.set_battery_power(-5.0))  # 5 kWh stored, empties after 1 h
    d.home.advance(2 * 3600)
    bat = asyncio.run(d.battery.read_battery())
    assert bat.soc_kwh == 0.0
    assert d.home.totals.battery_kwh == pytest.approx(-5.0)
    assert d.home.car is not None
    assert d.home.car.soc_kwh == pytest.approx(20.0 + 2 * 0.9 * 11.0)
    d.home.advance(3 * 3600)  # 60 kWh capacity reached within this span
    assert d.home.car.soc_kwh == pytest.approx(60.0)
    assert d.home.totals.car_kwh == pytest.approx(40.0 / 0.9)


def test_charger_curve_from_the_sim_room_can_be_injected() -> None:
    def cell_kw(ac_kw: float) -> float:
        if ac_kw >= 0:
            return float(charge_stored_kw(ac_kw, 11.0, 0.93))
        return -float(dc_for_ac_kw(-ac_kw, 11.0, 0.93))

    car = SimStorage(60.0, 20.0, max_charge_kw=11.0, max_discharge_kw=11.0, cell_kw=cell_kw)
    d = SimulatedDevices.around(SimulatedHome(VirtualClock(T0), car=car))
    assert d.charger is not None
    asyncio.run(d.charger.set_charge_power(11.0))
    d.home.advance(3600)
    assert car.soc_kwh == pytest.approx(20.0 + 0.93 * 11.0)


def test_grid_power_balances_and_energy_totals_close() -> None:
    d = _devices(load_kw=1.5, pv_kw=4.0)
    assert d.charger is not None and d.battery is not None
    asyncio.run(d.charger.set_charge_power(7.0))
    asyncio.run(d.battery.set_battery_power(-2.0))
    assert asyncio.run(d.meter.read_grid()).power_kw == pytest.approx(1.5 + 7.0 - 2.0 - 4.0)
    assert asyncio.run(d.pv.read_pv()).power_kw == 4.0
    d.home.advance(1800)
    t = d.home.totals
    assert t.grid_import_kwh == pytest.approx(1.25)
    grid = t.grid_import_kwh - t.grid_export_kwh
    assert grid + t.pv_used_kwh == pytest.approx(
        t.load_kwh - t.unserved_kwh + t.car_kwh + t.battery_kwh
    )


def test_load_profile_steps_and_relays_shed_circuits() -> None:
    home = SimulatedHome(VirtualClock(T0), load_kw=[1.0, 3.0], circuits_kw={"ac": 2.0})
    d = SimulatedDevices.around(home)
    asyncio.run(d.relay.set_circuit("ac", False))
    assert asyncio.run(d.relay.circuit_states()) == {"ac": False}
    home.advance(1800)
    assert home.totals.load_kwh == pytest.approx(0.25 * 1.0 + 0.25 * 3.0)
    with pytest.raises(KeyError, match="no circuit 'pool'"):
        asyncio.run(d.relay.set_circuit("pool", True))


def test_outage_gives_zero_grid_and_counts_unserved_load() -> None:
    d = _devices(load_kw=2.0)
    assert d.charger is not None and d.battery is not None
    asyncio.run(d.charger.set_charge_power(7.0))  # nothing to charge from while islanded
    asyncio.run(d.battery.set_battery_power(-1.5))
    d.home.grid_down()
    m = asyncio.run(d.meter.read_grid())
    assert (m.power_kw, m.voltage_v, m.frequency_hz) == (0.0, 0.0, 0.0)
    assert asyncio.run(d.meter.grid_ok()) is False
    asyncio.run(d.relay.set_transfer(False))  # the controller islands the house
    d.home.advance(3600)
    assert d.home.totals.unserved_kwh == pytest.approx(0.5)
    assert d.home.totals.grid_import_kwh == 0.0
    assert d.home.totals.backfeed_kwh == 0.0
    assert asyncio.run(d.charger.read_charger()).power_kw == 0.0
    d.home.grid_restore()
    assert asyncio.run(d.meter.grid_ok()) is True
    assert asyncio.run(d.meter.read_grid()).power_kw == 0.0  # still islanded: switch open
    asyncio.run(d.relay.set_transfer(True))
    assert asyncio.run(d.meter.read_grid()).power_kw == pytest.approx(2.0 + 7.0 - 1.5)


def test_a_closed_switch_on_a_dead_grid_serves_nothing_and_counts_backfeed() -> None:
    d = _devices(load_kw=2.0)
    assert d.battery is not None
    asyncio.run(d.battery.set_battery_power(-1.5))
    d.home.grid_down()
    d.home.advance(3600)
    t = d.home.totals
    assert t.unserved_kwh == pytest.approx(2.0)
    assert t.backfeed_kwh == pytest.approx(1.5)
    assert t.battery_kwh == 0.0


def test_an_island_cannot_export_storage_discharge() -> None:
    d = _devices(load_kw=1.0)
    assert d.battery is not None
    asyncio.run(d.relay.set_transfer(False))
    asyncio.run(d.battery.set_battery_power(-4.0))
    d.home.advance(3600)
    assert d.home.totals.battery_kwh == pytest.approx(-1.0)
    assert d.home.totals.unserved_kwh == 0.0


def test_frozen_meter_keeps_its_timestamp_while_time_runs() -> None:
    d = _devices(load_kw=1.0)
    d.home.advance(10)
    d.home.freeze(d.meter)
    d.home.advance(600)
    m = asyncio.run(d.meter.read_grid())
    assert m.at == datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    d.home.heal(d.meter)
    assert asyncio.run(d.meter.read_grid()).at == datetime(2026, 1, 1, 0, 10, 10, tzinfo=UTC)


def test_dropped_charger_raises_connection_error() -> None:
    d = _devices()
    assert d.charger is not None
    d.home.drop(d.charger)
    with pytest.raises(ConnectionError, match="'charger' does not answer"):
        asyncio.run(d.charger.read_charger())
    with pytest.raises(ConnectionError):
        asyncio.run(d.charger.set_charge_power(3.0))


def test_corrupt_readings_are_out_of_range() -> None:
    d = _devices()
    assert d.charger is not None
    d.home.corrupt("charger")
    m = asyncio.run(d.charger.read_charger())
    assert m.soc_kwh is not None and m.soc_kwh < 0
    assert m.power_kw is not None and m.power_kw > 1000


def test_safe_default_sets_power_zero() -> None:
    d = _devices()
    assert d.charger is not None
    asyncio.run(d.charger.set_charge_power(-6.0))
    asyncio.run(d.charger.safe_default())
    d.home.advance(60)
    assert asyncio.run(d.charger.read_charger()).power_kw == 0.0
    assert d.home.car is not None and d.home.car.soc_kwh == 20.0


def test_unplugged_car_takes_no_power() -> None:
    d = _devices()
    assert d.charger is not None
    asyncio.run(d.charger.set_charge_power(7.0))
    d.charger.plug(False)
    assert asyncio.run(d.charger.plugged_in()) is False
    assert asyncio.run(d.charger.read_charger()).power_kw == 0.0
