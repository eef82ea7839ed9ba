"""Faults at the Modbus edge: grid outage, frozen registers, a device that stops answering, and
out-of-range readings rejected with a DeviceDataError that names the point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from voltbridge.devices.modbus import DeviceDataError, StaleDataError, SunSpecServer
from voltbridge.devices.simulated_home import SimulatedHome

Serve = Callable[..., Any]
Driver = Callable[..., Any]


def test_grid_down_makes_grid_ok_false_and_restore_true(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        meter = driver(srv, "meter")
        assert await meter.grid_ok()
        srv.home.grid_down()
        m = await meter.read_grid()
        assert (m.voltage_v, m.frequency_hz, m.power_kw) == (0.0, 0.0, 0.0)
        assert not await meter.grid_ok()
        srv.home.grid_restore()
        assert await meter.grid_ok()

    serve(home, body)


@pytest.mark.parametrize(("volts", "hz"), [(260.0, 50.0), (230.0, 52.0), (180.0, 50.0)])
def test_grid_outside_its_window_is_not_ok(
    make_home: Callable[..., SimulatedHome], serve: Serve, driver: Driver, volts: float, hz: float
) -> None:
    async def body(srv: SunSpecServer) -> None:
        assert not await driver(srv, "meter").grid_ok()

    serve(make_home(voltage_v=volts, frequency_hz=hz), body)


def test_a_frozen_meter_is_detected_its_at_stops_advancing(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        clock = srv.home.clock
        meter = driver(srv, "meter", max_age_s=30)
        await meter.read_grid()
        srv.home.advance(10)
        last = await meter.read_grid()
        assert last.at == clock.now()  # the energy counter moved: alive
        srv.freeze("meter")
        for _ in range(3):
            srv.home.advance(10)
            m = await meter.read_grid()
            assert m.at == last.at and m.power_kw == last.power_kw
        assert await meter.grid_ok()  # 30 s old: at the limit, not past it
        srv.home.advance(10)
        with pytest.raises(StaleDataError, match="unchanged for 40 s"):
            await meter.grid_ok()
        srv.heal("meter")
        srv.home.advance(10)
        assert (await meter.read_grid()).at == clock.now()

    serve(home, body)


def test_frozen_battery_and_pv_stop_advancing_too(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        bat, pv = driver(srv, "battery"), driver(srv, "pv")
        await bat.set_battery_power(2.0)
        t0 = srv.home.clock.now()
        first_bat, first_pv = await bat.read_battery(), await pv.read_pv()
        assert first_bat.at == first_pv.at == t0
        srv.freeze("battery")
        srv.freeze("pv")
        srv.home.advance(20)
        assert (await bat.read_battery()).at == t0
        assert (await pv.read_pv()).at == t0
        await bat.set_battery_power(-1.0)  # acknowledged, not applied: the device is hung
        assert srv.home.battery is not None and srv.home.battery.setpoint_kw == 2.0

    serve(home, body)


def test_an_idle_device_is_not_taken_for_frozen(
    make_home: Callable[..., SimulatedHome], serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        pv = driver(srv, "pv")
        srv.home.advance(60)
        assert (await pv.read_pv()).at == srv.home.clock.now()
        srv.home.advance(60)
        assert (await pv.read_pv()).at == srv.home.clock.now()  # 0 kW at night: nothing counts

    serve(make_home(pv_kw=0.0), body)


@pytest.mark.parametrize("device", ["meter", "pv", "battery", "relay"])
def test_a_dropped_device_raises_connection_error_and_recovers_when_healed(
    home: SimulatedHome, serve: Serve, driver: Driver, device: str
) -> None:
    async def read(dev: Any) -> object:
        if device == "meter":
            return await dev.read_grid()
        if device == "pv":
            return await dev.read_pv()
        if device == "battery":
            return await dev.read_battery()
        return await dev.circuit_states()

    async def body(srv: SunSpecServer) -> None:
        dev = driver(srv, device, timeout_s=0.2)
        await read(dev)
        srv.drop(device)
        with pytest.raises(ConnectionError, match=rf"{device}: no answer to .* within 0.2 s"):
            await read(dev)
        srv.heal(device)
        await read(dev)

    serve(home, body)


def test_a_stopped_server_is_a_connection_error(home: SimulatedHome, driver: Driver) -> None:
    import asyncio

    async def main() -> None:
        srv = SunSpecServer(home)
        await srv.start()
        meter = driver(srv, "meter", timeout_s=0.5)
        await meter.read_grid()
        await srv.stop()
        with pytest.raises(ConnectionError):
            await meter.read_grid()
        with pytest.raises(ConnectionError, match="cannot connect"):
            await meter.read_grid()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("device", "point"),
    [
        ("meter", r"203\.W read '32000 kW'"),
        ("pv", r"701\.W read '32000 kW'"),
        ("battery", r"124\.ChaState read 150\.0"),
    ],
)
def test_out_of_range_readings_are_device_data_errors_naming_device_and_point(
    home: SimulatedHome, serve: Serve, driver: Driver, device: str, point: str
) -> None:
    async def body(srv: SunSpecServer) -> None:
        dev = driver(srv, device)
        srv.corrupt(device)
        read = {"meter": "read_grid", "pv": "read_pv", "battery": "read_battery"}[device]
        with pytest.raises(DeviceDataError, match=rf"^{device}: point {point}"):
            await getattr(dev, read)()
        srv.heal(device)
        await getattr(dev, read)()

    serve(home, body)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({203: {"PhV": -2300}}, r"meter: point 203\.PhV read -230\.0, outside 0\.\.379\.5 V"),
        ({203: {"Hz": None}}, r"meter: point 203\.Hz read '0x8000', the SunSpec 'not implemented'"),
        ({203: {"W": None}}, r"meter: point 203\.W read '0x8000'"),
    ],
)
def test_negative_voltage_and_sentinels_are_rejected(
    home: SimulatedHome, serve: Serve, driver: Driver, overrides: Any, message: str
) -> None:
    async def body(srv: SunSpecServer) -> None:
        srv.corrupt("meter", overrides)
        with pytest.raises(DeviceDataError, match=message):
            await driver(srv, "meter").read_grid()

    serve(home, body)


def test_soc_outside_0_to_100_percent_from_model_802_is_rejected(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        srv.corrupt("battery", {802: {"SoC": 10100}})
        with pytest.raises(DeviceDataError, match=r"802\.SoC read 101\.0, outside 0\.\.100 %"):
            await driver(srv, "battery").read_battery()

    serve(home, body, battery_models=(103, 802))


def test_measurement_time_comes_from_the_injected_clock(
    home: SimulatedHome, serve: Serve, driver: Driver
) -> None:
    async def body(srv: SunSpecServer) -> None:
        srv.home.advance(7 * 86400)
        m = await driver(srv, "meter").read_grid()
        assert m.at - srv.home.start == timedelta(days=7)

    serve(home, body)


@pytest.mark.parametrize("sf", [400, -400, -11, 11])
def test_a_scale_factor_outside_minus_10_to_10_is_a_device_data_error(
    home: SimulatedHome, serve: Serve, driver: Driver, sf: int
) -> None:
    # +400 used to raise OverflowError (10**400), -400 gave 0.0 kW and -11 gave 3e-10 kW
    async def body(srv: SunSpecServer) -> None:
        srv.corrupt("meter", {203: {"W_SF": sf}})
        with pytest.raises(DeviceDataError, match=rf"meter: point 203\.W_SF read {sf}, a scale"):
            await driver(srv, "meter").read_grid()
        srv.heal("meter")
        assert (await driver(srv, "meter").read_grid()).power_kw is not None

    serve(home, body)
