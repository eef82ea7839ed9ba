"""`voltbridge sim-charger`: a simulated OCPP 2.1 bidirectional charger with a car, until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Annotated

import typer

from voltbridge.core.clock import VirtualClock
from voltbridge.devices.ocpp.central import charger_id_of
from voltbridge.devices.ocpp.config import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, valid_identity
from voltbridge.devices.ocpp.station import ChargingStation
from voltbridge.devices.simulated_home import SimStorage, SimulatedHome


def sim_charger(
    url: Annotated[
        str,
        typer.Option(help="CSMS URL ending in the charger id, e.g. ws://127.0.0.1:9000/ocpp/CP1"),
    ],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="VOLTBRIDGE_CHARGER_PASSWORD",
            help="Basic-auth password (16-40 characters) configured for this charger",
        ),
    ] = None,
    capacity_kwh: Annotated[float, typer.Option(min=1, help="Car battery capacity [kWh]")] = 60.0,
    soc_pct: Annotated[
        float, typer.Option(min=0, max=100, help="Car state of charge at start [%]")
    ] = 50.0,
    max_charge_kw: Annotated[float, typer.Option(min=0, help="AC charge limit [kW]")] = 11.0,
    max_discharge_kw: Annotated[
        float, typer.Option(min=0, help="AC discharge limit [kW]; 0 for a charge-only car")
    ] = 7.0,
    departure_h: Annotated[
        float, typer.Option(min=0, help="Departure [h] after plugging in")
    ] = 8.0,
    target_soc_pct: Annotated[
        float, typer.Option(min=0, max=100, help="State of charge wanted at departure [%]")
    ] = 80.0,
    meter_interval_s: Annotated[
        float, typer.Option(min=0.1, help="Meter values every this many seconds [s]")
    ] = 10.0,
    unplugged: Annotated[bool, typer.Option(help="Start with the car unplugged")] = False,
    cafile: Annotated[
        str | None, typer.Option(help="CA certificate (PEM) to trust for wss:// URLs")
    ] = None,
    verbose: Annotated[
        bool, typer.Option(help="Also log every OCPP frame sent and received")
    ] = False,
) -> None:
    """Run a simulated bidirectional charger with a car plugged in, connected to URL, until Ctrl-C.

    The car's physics run on a VirtualClock at speed 1 driven only by the station's timing loop,
    so simulated time follows the wall clock.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("ocpp").setLevel(logging.INFO if verbose else logging.WARNING)
    charger_id = charger_id_of(url)
    if not url.startswith(("ws://", "wss://")) or not valid_identity(charger_id):
        raise typer.BadParameter(
            f"give a ws:// or wss:// URL ending in the charger id (letters, digits, *-_=+|@.), "
            f"got {url!r}",
            param_hint="--url",
        )
    if password is not None and not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        raise typer.BadParameter(
            f"OCPP basic-auth passwords have {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} "
            f"characters, this one {len(password)}",
            param_hint="--password",
        )
    clock = VirtualClock(datetime.now(UTC), speed=1.0)
    car = SimStorage(
        capacity_kwh,
        capacity_kwh * soc_pct / 100.0,
        max_charge_kw=max_charge_kw,
        max_discharge_kw=max_discharge_kw,
        plugged_in=not unplugged,
    )
    home = SimulatedHome(clock, load_kw=0.0, car=car)
    station = ChargingStation(
        home,
        url,
        charger_id,
        password,
        clock,
        meter_interval_s=meter_interval_s,
        departure_after_s=departure_h * 3600.0,
        target_soc_pct=target_soc_pct,
        cafile=cafile,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(station.run())
