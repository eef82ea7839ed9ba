"""SunSpec drivers against the simulated home's pymodbus server: discovery, readings equal to the
physics with voltbridge's signs, battery setpoints, relays and the transfer switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voltbridge.devices.capabilities import Battery, CircuitRelay, TransferSwitch, capabilities_of
from voltbridge.devices.modbus import DeviceRefusedError, DiscoveryError, SunSpecServer
from voltbridge.devices.modbus.client import discover
from voltbridge.devices.simulated_home import SimulatedHome

Serve = Callable[..., Any]
Driver = Callable[..., Any]


@pytest.mark.parametrize("base", [40000, 0, 50000])
def test_discovery_finds_the_models_at_each_base_address(
    home: SimulatedHome, serve: Serve, driver: Driver, base: int
) -> None:
    async def body(srv: SunSpecServer) -> dict[str, list[int]]:
        found = {}
        for name in ("meter", "pv", "battery"):
            dev = driver(srv, name, base_addresses=[40000, 0, 50000])
            layout = await dev.layout()
            assert layout.base_address == base
            found[name] = layout.ids()
        return found

    assert serve(home, body, base_address=base) == {
        "meter": [1, 203],
        "pv": [1, 103, 701],
        "battery": [1, 103, 124, 802],
    }


def test_discovery_without_a_sunspec_map_names_what_to_check(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        dev = driver(srv, "meter", base_addresses=[40000])
        with pytest.raises(
            DiscoveryError, match=r"no SunSpec marker 'SunS' at addresses \[40000\]"
        ):
            await discover(dev.link, [40000])

    serve(home, body, base_address=0)


@pytest.mark.parametrize("model", [203, 201])
def test_meter_reads_the_homes_grid_power_import_positive(
    home: SimulatedHome, serve: Serve, driver: Driver, model: int
) -> None:
    async def body(srv: SunSpecServer) -> None:
        meter = driver(srv, "meter")
        assert capabilities_of(meter) == {"meter", "grid_sensor"}
        assert (await meter.layout()).ids() == [1, model]
        m = await meter.read_grid()
        assert m.power_kw == pytest.approx(1.5, abs=1e-3)  # 2 + 1 + 2 - 3.5 kW, importing
        assert m.voltage_v == pytest.approx(230.0) and m.frequency_hz == pytest.approx(50.0)
        assert m.at == srv.home.clock.now()
        srv.home.advance(3600)
        m = await meter.read_grid()
        assert m.energy_kwh == pytest.approx(1.5, abs=1e-4)  # net import over the hour [kWh]
        assert m.at == srv.home.clock.now()

    serve(home, body, meter_model=model)


def test_meter_reads_export_negative_and_invert_power_flips_it(
    make_home: Callable[..., SimulatedHome], serve: Serve, driver: Driver
) -> None:
    home = make_home(pv_kw=8.0)  # 5 kW of load: 3 kW export

    async def body(srv: SunSpecServer) -> None:
        srv.home.advance(1800)
        assert (await driver(srv, "meter").read_grid()).power_kw == pytest.approx(-3.0)
        flipped = await driver(srv, "meter", invert_power=True).read_grid()
        assert flipped.power_kw == pytest.approx(3.0)
        assert (await driver(srv, "meter").read_grid()).energy_kwh == pytest.approx(-1.5, abs=1e-4)

    serve(home, body)


@pytest.mark.parametrize(
    ("served", "preferred", "used"),
    [((103, 701), [701, 103], 701), ((103, 701), [103], 103), ((103,), [701, 103], 103)],
)
def test_pv_reads_pv_used_from_model_701_or_103(
    home: SimulatedHome,
    serve: Serve,
    driver: Driver,
    served: tuple[int, ...],
    preferred: list[int],
    used: int,
) -> None:
    async def body(srv: SunSpecServer) -> None:
        pv = driver(srv, "pv", models=preferred)
        assert capabilities_of(pv) == {"pv_inverter"}
        srv.home.advance(3600)
        m = await pv.read_pv()
        assert (await pv.layout()).first_of(preferred) == used
        assert m.power_kw == pytest.approx(3.5)
        assert m.energy_kwh == pytest.approx(3.5, abs=1e-4)
        assert m.frequency_hz == pytest.approx(50.0) and m.voltage_v == pytest.approx(230.0)

    serve(home, body, pv_models=served)


def test_pv_at_night_reads_zero(
    make_home: Callable[..., SimulatedHome], serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        m = await driver(srv, "pv").read_pv()
        assert m.power_kw == 0.0 and m.power_kw >= 0

    serve(make_home(pv_kw=0.0), body)


@pytest.mark.parametrize("kw", [3.0, -2.0, 0.0])
def test_battery_setpoint_over_modbus_reaches_the_home_with_its_sign(
    home: SimulatedHome, serve: Serve, driver: Driver, kw: float
) -> None:
    async def body(srv: SunSpecServer) -> None:
        bat = driver(srv, "battery")
        assert isinstance(bat, Battery)
        await bat.set_battery_power(kw)
        assert srv.home.battery is not None
        assert srv.home.battery.setpoint_kw == pytest.approx(kw)
        srv.home.advance(60)
        m = await bat.read_battery()
        assert m.power_kw == pytest.approx(kw)
        assert m.soc_kwh == pytest.approx(5.0 + kw / 60, abs=1e-3)  # 10 kWh × 0.01 % steps
        grid = await driver(srv, "meter").read_grid()
        assert grid.power_kw == pytest.approx(1.5 + kw, abs=1e-3)

    serve(home, body)


def test_battery_setpoint_beyond_wchamax_is_clipped_to_it(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        await driver(srv, "battery").set_battery_power(-9.0)
        assert srv.home.battery is not None
        assert srv.home.battery.setpoint_kw == pytest.approx(-5.0)

    serve(home, body)


def test_battery_reverts_to_hold_when_commands_stop(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        bat = driver(srv, "battery", revert_s=60)
        await bat.set_battery_power(2.0)
        srv.home.advance(30)
        assert (await bat.read_battery()).power_kw == pytest.approx(2.0)
        srv.home.advance(31)
        assert (await bat.read_battery()).power_kw == 0.0
        assert srv.home.battery is not None and srv.home.battery.setpoint_kw == 0.0

    serve(home, body)


def test_battery_with_only_model_124_needs_capacity_from_config(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        m = await driver(srv, "battery").read_battery()  # driver_config gives capacity_kwh
        assert m.soc_kwh == pytest.approx(5.0)
        bare = driver(srv, "battery", capacity_kwh=None)
        with pytest.raises(DiscoveryError, match="set capacity_kwh"):
            await bare.read_battery()

    serve(home, body, battery_models=(103, 124))


def test_battery_with_only_model_802_reads_but_cannot_be_commanded(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        bat = driver(srv, "battery")
        m = await bat.read_battery()
        assert m.soc_kwh == pytest.approx(5.0) and m.power_kw == 0.0
        with pytest.raises(DiscoveryError, match="no SunSpec model 124"):
            await bat.set_battery_power(1.0)

    serve(home, body, battery_models=(802,))


def test_relay_sheds_a_circuit_and_the_transfer_switch_opens_and_closes(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        relay = driver(srv, "relay")
        assert isinstance(relay, CircuitRelay) and isinstance(relay, TransferSwitch)
        assert await relay.circuit_states() == {"ev": True, "heat": True}
        await relay.set_circuit("heat", False)
        assert srv.home.circuits_on == {"ev": True, "heat": False}
        assert await relay.circuit_states() == {"ev": True, "heat": False}
        assert (await driver(srv, "meter").read_grid()).power_kw == pytest.approx(-0.5)
        with pytest.raises(KeyError, match="no circuit 'oven'; circuits: ev, heat"):
            await relay.set_circuit("oven", False)
        assert await relay.transfer_closed()
        await relay.set_transfer(False)
        assert not srv.home.transfer_closed and not await relay.transfer_closed()
        await relay.set_transfer(True)
        assert srv.home.transfer_closed and await relay.transfer_closed()

    serve(home, body)


def test_a_write_to_a_read_only_register_is_refused(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        meter = driver(srv, "meter")
        at = (await meter.layout()).find(203)
        with pytest.raises(DeviceRefusedError, match="illegal data address") as err:
            await meter.link.write_registers(at.address + 18, [100])  # 203.W
        assert err.value.code == 2

    serve(home, body)


def test_concurrent_reads_on_one_driver_share_its_connection(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    import asyncio

    async def body(srv: SunSpecServer) -> None:
        meter = driver(srv, "meter")
        results = await asyncio.gather(meter.read_grid(), meter.grid_ok(), meter.read_grid())
        assert results[1] is True
        assert results[0].power_kw == results[2].power_kw == pytest.approx(1.5)

    serve(home, body)
