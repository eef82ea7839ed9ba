"""`voltbridge check`: validate a site file and say which of V2H, V2G and V2L works, and why not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from voltbridge.catalog import Mode, check_compatibility
from voltbridge.cli.common import example_names, example_path, read_site
from voltbridge.config import Site, resolve_vehicles


def capability_report(site: Site) -> list[dict[str, object]]:
    """Per vehicle and charger: each mode with ok and the reasons it does not work."""
    out: list[dict[str, object]] = []
    for rv in resolve_vehicles(site):
        verdicts = check_compatibility(
            rv.vehicle, rv.charger, site.grid.export_policy, site.preferences.v2g_allowed
        )
        out.append(
            {
                "vehicle": rv.entry.name,
                "model": rv.vehicle.id,
                "charger": rv.charger.id,
                "usable_kwh": rv.usable_kwh,
                "max_charge_kw": rv.max_charge_kw,
                "max_discharge_kw": rv.max_discharge_kw,
                "notes": list(rv.notes),
                "modes": {
                    m.value: {"ok": v.ok, "reasons": list(v.reasons)} for m, v in verdicts.items()
                },
            }
        )
    return out


def check(
    site_file: Annotated[Path, typer.Argument(help="Site file (TOML) to validate.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Validate SITE_FILE; report per vehicle which of V2H, V2G and V2L works. Exit 2 if invalid."""
    site, path = read_site(site_file)
    report = capability_report(site)
    if as_json:
        typer.echo(
            json.dumps(
                {"site": site.name, "file": str(path), "valid": True, "vehicles": report}, indent=2
            )
        )
        return
    console = Console()
    console.print(f"[bold green]valid[/] {path}: {site.name}")
    table = Table("vehicle", "charger", "mode", "works", "why not")
    for row in report:
        modes = row["modes"]
        assert isinstance(modes, dict)
        for mode in Mode:
            verdict = modes[mode.value]
            table.add_row(
                f"{row['vehicle']} ({row['model']})",
                str(row["charger"]),
                mode.value.upper(),
                "[green]yes[/]" if verdict["ok"] else "[red]no[/]",
                "; ".join(verdict["reasons"]),
            )
    console.print(table)
    for row in report:
        for note in row["notes"]:  # type: ignore[attr-defined]
            console.print(f"[yellow]note:[/] {note}", highlight=False)


def examples() -> None:
    """List the example sites shipped with voltbridge, with their paths."""
    for name in example_names():
        typer.echo(f"{name}\t{example_path(name)}")
