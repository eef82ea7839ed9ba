"""`voltbridge plan`: the optimal plan of a site for the next hours, as a table or JSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from voltbridge.cli.common import err, read_site
from voltbridge.config import Site
from voltbridge.core import Plan, TimeGrid
from voltbridge.forecast import forecast_site
from voltbridge.planner import Planner
from voltbridge.planner.export import plan_to_dict
from voltbridge.planner.from_site import plan_request
from voltbridge.tariffs import TariffError


def parse_start(value: str | None) -> datetime:
    """``--start`` as an aware datetime (a value without offset is read as UTC); default now."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"--start: {value!r} is not ISO 8601, e.g. 2026-07-01T16:00+02:00")
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_soc(values: list[str]) -> dict[str, float]:
    """``NAME=PCT`` pairs of ``--soc``; exit 2 on anything else."""
    out = {}
    for item in values:
        name, _, pct = item.partition("=")
        try:
            value = float(pct)
        except ValueError:
            value = math.nan
        if not name or not 0 <= value <= 100:
            err.print(f"--soc: {item!r} must be NAME=PERCENT with 0 <= PERCENT <= 100")
            raise typer.Exit(2)
        out[name] = value
    return out


def make_plan(
    site: Site, start: datetime, hours: float, step_minutes: int, soc: dict[str, float]
) -> Plan:
    """Forecast, prices and the optimal plan for ``site`` (the core of `voltbridge plan`)."""
    grid = TimeGrid.regular(start, hours, step_minutes)
    forecast = forecast_site(site, grid)
    unknown = set(soc) - set(forecast.vehicles) - {"battery"}
    if unknown:
        err.print(f"--soc: no storage named {', '.join(sorted(unknown))} in this site")
        raise typer.Exit(2)
    return Planner().plan(plan_request(site, grid, forecast, soc))


def render(plan: Plan, site: Site, console: Console) -> None:
    """The plan as a table in local time, then totals and warnings."""
    zone = ZoneInfo(site.location.timezone)
    cur = site.tariff.currency
    table = Table(title=f"{site.name}: plan ({cur}/kWh, kW, state of charge)")
    for col in ("time", "import", "export", "load", "PV used", "grid"):
        table.add_column(col, justify="right", no_wrap=True)
    for s in plan.storages:
        table.add_column(s.name, justify="right", no_wrap=True)
        table.add_column("SoC", justify="right", no_wrap=True)
    for t, start in enumerate(plan.grid.starts()):
        row = [
            start.astimezone(zone).strftime("%a %H:%M"),
            f"{plan.price_import[t]:.3f}",
            f"{plan.price_export[t]:.3f}",
            f"{plan.load_kw[t]:.2f}",
            f"{plan.pv_used_kw[t]:.2f}",
            f"{plan.grid_kw[t]:+.2f}",
        ]
        for s in plan.storages:
            here = s.kind == "battery" or bool(s.plugged_in[t])
            row.append(f"{s.power_kw[t]:+.2f}" if here else "away")
            row.append(f"{100 * s.soc_kwh[t + 1] / s.capacity_kwh:.0f}%")
        table.add_row(*row)
    console.print(table)
    dt = plan.grid.dt_h
    c = plan.cost
    imp = float(np.sum(np.maximum(plan.grid_kw, 0) * dt))
    exp = float(np.sum(np.maximum(-plan.grid_kw, 0) * dt))
    console.print(
        f"import {imp:.1f} kWh, export {exp:.1f} kWh | cost {c.total:.2f} {cur} = import "
        f"{c.import_cost:.2f} - export {c.export_revenue:.2f} + wear {c.degradation:.2f} + demand "
        f"{c.demand_charge:.2f} + penalties {c.penalties:.2f} | solved in {plan.solve_ms:.1f} ms"
    )
    for w in plan.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)


def plan(
    site_file: Annotated[
        Path | None, typer.Argument(help="Site file (TOML); default: the embedded demo home.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Start, ISO 8601 (default: now).")] = None,
    hours: Annotated[float, typer.Option(min=0.25, max=24 * 14, help="Horizon [h].")] = 48.0,
    step_minutes: Annotated[int, typer.Option(min=1, max=240, help="Step length [min].")] = 15,
    soc: Annotated[
        list[str] | None, typer.Option(help="Current SoC, NAME=PERCENT (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Plan when each car and the home battery charge, cover the house (V2H) or export (V2G)."""
    site, _ = read_site(site_file)
    try:
        result = make_plan(site, parse_start(start), hours, step_minutes, parse_soc(soc or []))
    except TariffError as exc:
        err.print(f"tariff: {exc}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(plan_to_dict(result, step_minutes), indent=1))
    else:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)  # piped or captured: no terminal width to fit
        render(result, site, console)
