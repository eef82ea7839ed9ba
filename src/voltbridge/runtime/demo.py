"""The embedded demo home as real network peers on 127.0.0.1: SunSpec Modbus devices and an OCPP
2.1 charging station with the simulated car behind it, over one simulated house."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from pydantic import SecretStr

from voltbridge.config import Site
from voltbridge.control.site_model import ControlSite
from voltbridge.core.clock import Clock
from voltbridge.core.timegrid import TimeGrid
from voltbridge.devices.modbus import SunSpecServer
from voltbridge.devices.ocpp.charger import OcppCharger
from voltbridge.devices.ocpp.station import ChargingStation
from voltbridge.devices.simulated_home import CarTrip, SimStorage, SimulatedHome
from voltbridge.forecast import forecast_site
from voltbridge.runtime.devices import (
    ChargerLink,
    DevicesSection,
    DriverSection,
    OcppSection,
)
from voltbridge.sim.trips import realise_trips

DEMO_STEP_S = 900
DEMO_DAYS = 7


def demo_home(site: Site, control: ControlSite, clock: Clock) -> SimulatedHome:
    """A simulated house for ``site`` from the clock's present: the site's forecast load and
    clear-sky PV for a week at 15-minute steps, the first car and the home battery at their
    initial SoC, and the site's circuits at their typical draw (taken out of the base load).
    The car makes the site's trips as scheduled (unplugged at the departure, back at the return
    with the trip's energy used), so a new user sees a household's day."""
    start = clock.now()
    grid = TimeGrid.regular(start, DEMO_DAYS * 24.0, DEMO_STEP_S // 60, align=False)
    fc = forecast_site(site, grid)
    circuits = {c.name: c.typical_kw for c in control.circuits}
    base = np.maximum(fc.load_kw - 0.5 * sum(circuits.values()), 0.1)
    circuits = {n: 0.5 * kw for n, kw in circuits.items()}  # about half on at a time
    car, trips = None, []
    if control.vehicles:
        v = control.vehicles[0]
        entry = next(e for e in site.vehicles if e.name == v.name)
        car = SimStorage(
            capacity_kwh=v.capacity_kwh,
            soc_kwh=entry.initial_soc_pct / 100.0 * v.capacity_kwh,
            max_charge_kw=v.max_charge_kw,
            max_discharge_kw=v.max_discharge_kw,
            eta_charge=v.efficiency,
            eta_discharge=v.efficiency,
        )
        trips = demo_trips(site, v.name, v.consumption_kwh_per_km, clock)
    battery = None
    if control.battery is not None and site.battery is not None:
        b = control.battery
        battery = SimStorage(
            capacity_kwh=b.capacity_kwh,
            soc_kwh=site.battery.initial_soc_pct / 100.0 * b.capacity_kwh,
            max_charge_kw=b.max_charge_kw,
            max_discharge_kw=b.max_discharge_kw,
            eta_charge=b.efficiency,
            eta_discharge=b.efficiency,
        )
    return SimulatedHome(
        clock,
        load_kw=[float(x) for x in base],
        pv_kw=[float(x) for x in fc.pv_kw],
        profile_step_s=DEMO_STEP_S,
        car=car,
        battery=battery,
        circuits_kw=circuits,
        voltage_v=control.nominal_voltage_v,
        frequency_hz=control.nominal_frequency_hz,
        car_trips=trips,
    )


def demo_trips(site: Site, vehicle: str, kwh_per_km: float, clock: Clock) -> list[CarTrip]:
    """The week's trips of ``vehicle`` from the clock's present, exactly as the site file
    schedules them (no noise: a demo shows the household's plan coming true)."""
    entry = next(e for e in site.vehicles if e.name == vehicle)
    if not entry.trips:
        return []
    start = clock.now()
    end = start + timedelta(days=DEMO_DAYS)
    rng = np.random.default_rng(0)  # unused with no noise; realise_trips asks for one
    made = realise_trips(
        entry.trips, start, end, site.location.timezone, rng, kwh_per_km, vehicle, 0.0, 0.0
    )
    return [CarTrip(t.depart, t.return_, t.energy_kwh) for t in made]


@dataclass
class DemoPeers:
    """The running peers and the ``[devices]`` configuration that reaches them."""

    home: SimulatedHome
    modbus: SunSpecServer
    station: ChargingStation | None
    section: DevicesSection

    async def stop(self) -> None:
        if self.station is not None:
            await self.station.stop()
        await self.modbus.stop()


async def start_demo_peers(
    site: Site, control: ControlSite, clock: Clock, ocpp_port: int
) -> DemoPeers:
    """Start the Modbus server for the house and describe every device for ``open_devices``;
    the charging station is started by ``connect_station`` once the central system listens."""
    home = demo_home(site, control, clock)
    modbus = SunSpecServer(home)
    port = await modbus.start()
    circuits = {c.name: i for i, c in enumerate(control.circuits)}
    section = DevicesSection(
        meter=DriverSection.model_validate(
            {
                "driver": "sunspec-meter",
                "host": "127.0.0.1",
                "port": port,
                "unit_id": 1,
                "max_power_kw": max(control.import_limit_kw, 1.0) * 1.5,
                "voltage_min_v": 0.5 * control.nominal_voltage_v,
                "voltage_max_v": 1.5 * control.nominal_voltage_v,
                "frequency_min_hz": control.nominal_frequency_hz - 5,
                "frequency_max_hz": control.nominal_frequency_hz + 5,
            }
        ),
        pv=DriverSection.model_validate(
            {
                "driver": "sunspec-inverter",
                "host": "127.0.0.1",
                "port": port,
                "unit_id": 2,
                "rated_power_kw": max(float(np.max(np.asarray(home.pv_profile))), 1.0) * 1.5,
            }
        ),
        battery=(
            DriverSection.model_validate(
                {
                    "driver": "sunspec-battery",
                    "host": "127.0.0.1",
                    "port": port,
                    "unit_id": 3,
                    "rated_power_kw": control.battery.max_charge_kw * 1.5,
                    "capacity_kwh": control.battery.capacity_kwh,
                }
            )
            if control.battery is not None
            else None
        ),
        relay=DriverSection.model_validate(
            {
                "driver": "modbus-relay",
                "host": "127.0.0.1",
                "port": port,
                "unit_id": 4,
                "circuits": circuits,
                "transfer_coil": len(circuits),
            }
        ),
        ocpp=OcppSection(
            port=ocpp_port,
            chargers=[
                ChargerLink(
                    vehicle=control.vehicles[0].name,
                    charger_id="demo-charger",
                    password=SecretStr(secrets.token_urlsafe(24)[:32]),
                )
            ]
            if control.vehicles and home.car is not None
            else [],
        ),
    )
    return DemoPeers(home, modbus, None, section)


def connect_station(peers: DemoPeers, url: str, clock: Clock, meter_interval_s: float) -> None:
    """Start the OCPP charging station of the demo car against the central system at ``url``,
    sending meter values every ``meter_interval_s`` [s]."""
    if peers.section.ocpp is None or not peers.section.ocpp.chargers or peers.home.car is None:
        return
    link = peers.section.ocpp.chargers[0]
    assert link.password is not None
    station = ChargingStation(
        peers.home,
        url,
        link.charger_id,
        link.password.get_secret_value(),
        clock,
        meter_interval_s=meter_interval_s,
    )
    station.start()
    peers.station = station


def station_settled(charger: OcppCharger, peers: DemoPeers) -> bool:
    """True once the demo's station has connected, booted, told its abilities and a first meter
    reading, and, with the car plugged in, opened the transaction and told the car's needs: what
    a controller tick reads about the car. Before that, a first tick could plan without the car.
    """
    car = peers.home.car
    told = charger.connected and charger.booted and charger.sample is not None
    told = told and bool(charger.v2x_capabilities)
    if car is not None and car.plugged_in:
        told = told and charger.transaction_id is not None and charger.needs is not None
    return told
