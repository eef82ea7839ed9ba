"""`voltbridge catalog` and `voltbridge tariffs`: what ships with voltbridge."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from voltbridge.catalog import catalog_json, catalog_table, load_catalog
from voltbridge.tariffs import list_shipped


def catalog(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON.")] = False,
) -> None:
    """List the bidirectional vehicles and chargers of the catalog, with their key figures."""
    cat = load_catalog()
    if as_json:
        typer.echo(json.dumps(catalog_json(cat), indent=2))
        return
    console = Console()
    tables = catalog_table(cat)
    for table in tables if isinstance(tables, (list, tuple)) else [tables]:
        console.print(table)


def tariffs() -> None:
    """List the tariffs shipped with voltbridge (use their id as `[tariff] name = ...`)."""
    table = Table("id", "title", "currency", "effective", "source")
    for info in list_shipped():
        table.add_row(info.id, info.title, info.currency, str(info.effective), info.source)
    Console().print(table)
