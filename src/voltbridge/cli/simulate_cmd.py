"""`voltbridge simulate`: a year (or any period) of the site under each strategy, compared."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from voltbridge.cli.common import err, read_site
from voltbridge.config import Site
from voltbridge.sim import simulate_site
from voltbridge.sim.outages import parse_outage
from voltbridge.sim.runner import STRATEGIES
from voltbridge.sim.weather_sources import weather_text
from voltbridge.tariffs import TariffError

DEFAULT_STRATEGIES = "uncontrolled,smart-charge,v2h-rules,optimal,oracle"


def parse_strategies(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        err.print(
            f"--strategies: unknown {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(STRATEGIES)}"
        )
        raise typer.Exit(2)
    return names


def start_of(site: Site, value: str | None) -> datetime:
    """``--start`` (a date or ISO datetime, local to the site) as an aware datetime."""
    zone = ZoneInfo(site.location.timezone)
    if value is None:
        return datetime(date.today().year, 1, 1, tzinfo=zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"--start: {value!r} is not a date, e.g. 2026-01-01")
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def render(result: dict[str, Any], currency: str, console: Console) -> None:
    """The comparison table, one row per strategy."""
    table = Table(title=f"{result['site']}: {result['days']} days from {result['start'][:10]}")
    cols = [
        "strategy",
        f"bill {currency}",
        f"programs {currency}",
        "saved vs as usual",
        "saved vs cheap hours",
        f"battery wear {currency}",
        "bought kWh",
        "sold kWh",
        "car→house kWh",
        "car→grid kWh",
        "full cycles",
        "capacity lost %",
        "charged away kWh",
        "own solar used %",
        "backup h (typical/worst)",
    ]
    for c in cols:
        table.add_column(c, justify="right", no_wrap=True)
    rows = result["strategies"]
    base = rows.get("uncontrolled", {}).get("bill")
    smart = rows.get("smart-charge", {}).get("bill")
    for name, r in rows.items():
        table.add_row(
            name,
            f"{r['bill']:.0f}",
            f"{r.get('program_income', 0.0):.0f}",
            f"{base - r['bill']:+.0f}" if base is not None else "—",
            f"{smart - r['bill']:+.0f}" if smart is not None else "—",
            f"{r['ageing_cost']:.0f}",
            f"{r['import_kwh']:.0f}",
            f"{r['export_kwh']:.0f}",
            f"{r['vehicle_to_house_kwh']:.0f}",
            f"{r['vehicle_to_grid_kwh']:.0f}",
            f"{r['equivalent_full_cycles']:.1f}",
            f"{r['capacity_fade_pct']:.2f}",
            f"{r['unmet_driving_kwh']:.0f}",
            f"{r['self_consumption_pct']:.0f}",
            f"{r['backup_hours_median']:.1f} / {r['backup_hours_p5']:.1f}",
        )
    if result.get("headline"):
        console.print(result["headline"])
    console.print(table)
    console.print(
        f"weather: {weather_text(result['weather'])}; outages: {len(result['outages'])}. "
        "As usual: the car charges at full power on arrival (uncontrolled); cheap hours: "
        "it charges in the cheapest hours (smart-charge). Battery wear: the planner's wear "
        "prices, calibrated on NREL's cell models. Backup: hours of essential circuits from the batteries "
        "alone, median and worst 5 % of the time."
    )
    if result.get("programs_note"):
        console.print(result["programs_note"])
    line = forecast_text(result.get("forecast"))
    if line:
        console.print(line)


def forecast_text(fc: dict[str, Any] | None) -> str:
    """The day-ahead forecasts' errors in words: the typical miss (MAE) and the lean (bias) of
    voltbridge's forecast and of repeating yesterday, hour by hour [kW]; empty when none was
    scored."""
    if not fc or fc.get("days_scored", 0) == 0:
        return ""
    parts = []
    for key, what in (("load", "household use"), ("pv", "solar")):
        mae, bias = fc.get(f"{key}_mae_kw"), fc.get(f"{key}_bias_kw")
        base = fc.get(f"baseline_{key}_mae_kw")
        if mae is None or bias is None or (mae == 0 and not base):  # nothing to forecast (no PV)
            continue
        parts.append(
            f"{what} missed by {mae:.3f} kW on average (MAE), leaning {bias:+.3f} kW (bias)"
            + ("" if base is None else f"; repeating yesterday missed by {base:.3f} kW")
        )
    return (
        f"Forecasts a day ahead, hour by hour over {fc['days_scored']} days: "
        + "; ".join(parts)
        + "."
        if parts
        else ""
    )


def simulate(
    site_file: Annotated[
        Path | None, typer.Argument(help="Site file; default: the demo home.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First day (default: 1 January this year).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=3660, help="Days to simulate.")] = 365,
    strategies: Annotated[
        str, typer.Option(help="Comma-separated strategies.")
    ] = DEFAULT_STRATEGIES,
    outage: Annotated[
        list[str] | None,
        typer.Option(
            help="START/DURATION, e.g. 2026-01-14T17:00/8h; announced ahead (storm watch) with "
            "@NOTICE, e.g. 2026-01-14T17:00/48h@24h (repeatable)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of trips and drawn outages.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
    fetch_weather: Annotated[
        bool,
        typer.Option(help="Fetch the site's PVGIS typical year if none is cached (network)."),
    ] = False,
) -> None:
    """Simulate the site under each strategy on the same world and compare bills, battery wear,
    driving and backup."""
    site, _ = read_site(site_file)
    names = parse_strategies(strategies)
    first = start_of(site, start)
    try:
        outages = [parse_outage(o, site.location.timezone) for o in outage] if outage else None
    except ValueError as exc:
        err.print(f"--outage: {exc}")
        raise typer.Exit(2) from None
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json and not console.is_terminal,
    ) as progress:
        tasks = {n: progress.add_task(n, total=days) for n in names}

        def tick(name: str, day: int) -> None:
            progress.update(tasks[name], completed=day)

        try:
            result, traces, world = simulate_site(
                site, first, days, names, seed, outages, tick, fetch_weather
            )
        except TariffError as exc:
            err.print(f"tariff: {exc}")
            raise typer.Exit(2) from None
    if report is not None:
        from voltbridge.sim.report import write_report

        write_report(report, result, traces, world)
    if as_json:
        typer.echo(json.dumps(result, indent=1))
    else:
        out = Console()
        if not out.is_terminal:
            out = Console(width=200)
        render(result, site.tariff.currency, out)
        if report is not None:
            out.print(f"report written to {report}")
