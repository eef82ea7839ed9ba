"""`voltbridge weather fetch`: store a location's PVGIS typical year for offline simulations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voltbridge.cli.common import err
from voltbridge.sim.weather_sources import WeatherFetchError, fetch_pvgis

app = typer.Typer(help="Typical-year weather for the simulator.", no_args_is_help=True)


@app.command("fetch")
def fetch(
    lat: Annotated[float, typer.Option(min=-90, max=90, help="Latitude [° north].")],
    lon: Annotated[float, typer.Option(min=-180, max=180, help="Longitude [° east].")],
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data directory (default: $VOLTBRIDGE_DATA_DIR or voltbridge-data)."),
    ] = None,
) -> None:
    """Fetch the PVGIS typical year of a location (needs the network once) and cache it in the
    data directory, where `voltbridge simulate` finds it offline."""
    try:
        path = fetch_pvgis(lat, lon, data_dir)
    except WeatherFetchError as exc:
        err.print(f"weather: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"cached {path}")
