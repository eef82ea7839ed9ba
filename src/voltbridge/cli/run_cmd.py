"""`voltbridge run`: the controller on the demo home (real OCPP and Modbus peers on 127.0.0.1) or on a real home."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from voltbridge.cli.common import read_site

console = Console()


def run(
    site: Annotated[
        Path | None,
        typer.Option(
            "--site",
            help="Site file whose [devices] table has the real devices' addresses "
            "(default: the embedded demo home, simulated as network peers).",
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Demo only: run the clock this many times faster.", min=0.01)
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(help="Stop cleanly after this wall-clock time [s].", min=0.0),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Where the SQLite store and the password hash live.")
    ] = Path("voltbridge-data"),
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1 (0: none).")] = 8080,
    public_read: Annotated[
        bool, typer.Option(help="Let the local network read the dashboard without logging in.")
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="Address or network of a reverse proxy whose X-Forwarded-For names the client "
            "(repeat for several); by default the header is ignored."
        ),
    ] = None,
    tick: Annotated[float, typer.Option(help="Controller tick [s].", min=0.1)] = 2.0,
    mqtt: Annotated[
        str | None,
        typer.Option(
            help="Publish to Home Assistant through this MQTT broker: mqtt://[user@]host:port "
            "(mqtts:// for TLS); the password comes from VOLTBRIDGE_MQTT_PASSWORD. Overrides "
            "the site file's [mqtt]."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every decision.")] = False,
) -> None:
    """Run the controller: read devices, decide, guard, write, record, every tick, until Ctrl-C.

    With no arguments: the embedded demo home. Its charger is an OCPP 2.1 charging-station
    simulator and its meter, PV inverter, battery and relays a SunSpec Modbus server, all real
    network peers on 127.0.0.1; the dashboard is at http://127.0.0.1:8080. The dashboard
    password comes from VOLTBRIDGE_PASSWORD, else the stored one, else a new one printed once.
    """
    from voltbridge.runtime.mqtt import config_from_url
    from voltbridge.runtime.service import RunOptions, run_home

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("voltbridge.control.controller").setLevel(logging.INFO)
    home, path = read_site(site)
    try:
        broker = None if mqtt is None else config_from_url(mqtt)
    except ValueError as err:
        console.print(f"[red]error:[/] {escape(str(err))}")
        raise typer.Exit(2) from None
    options = RunOptions(
        demo=site is None,
        speed=speed if site is None else 1.0,
        duration_s=duration,
        data_dir=data_dir,
        http_port=port,
        password=os.environ.get("VOLTBRIDGE_PASSWORD"),
        public_read=public_read,
        trusted_proxies=tuple(trusted_proxy or ()),
        tick_s=tick,
        mqtt=broker,
    )
    if site is not None and speed != 1.0:
        console.print("[yellow]--speed applies to the demo only; running in real time[/]")

    def ready(url: str | None, password: str | None) -> None:
        what = "demo home (simulated peers on 127.0.0.1)" if site is None else str(path)
        console.print(
            f"voltbridge running: {what}" + (f", speed x{speed:g}" if site is None else "")
        )
        if url:
            console.print(f"dashboard: {url}")
        m = options.mqtt or home.mqtt
        if m is not None:
            console.print(f"Home Assistant (MQTT): {m.host}:{m.port}, topics {m.topic_prefix}/#")
        if password:
            console.print(
                f"dashboard password (shown once, stored hashed in {data_dir}): [bold]{password}[/]"
            )
        elif url and not options.password:
            console.print(
                "dashboard password: the one shown at the first start (forgotten? "
                f"`voltbridge password --data-dir {data_dir}` makes a new one)"
            )

    try:
        result = asyncio.run(run_home(home, options, ready))
    except (ValueError, OSError) as err:
        console.print(f"[red]error:[/] {escape(str(err))}")
        raise typer.Exit(2) from None
    console.print(f"stopped after {result.ticks} ticks, {result.events} events recorded")
