"""``voltbridge password``: set or reset the dashboard password, on this machine, in the data dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

console = Console()


def password(
    data_dir: Annotated[
        Path, typer.Option(help="The data directory `voltbridge run` uses (its --data-dir).")
    ] = Path("voltbridge-data"),
    set_: Annotated[
        bool,
        typer.Option("--set", help="Type a password of your own (asked twice, not shown)."),
    ] = False,
) -> None:
    """Make a new dashboard password (shown once), or set your own with --set.

    Only someone who can write the data directory on this machine can do this: that is the
    proof of being the household or its installer. A running voltbridge keeps its old password
    until it is restarted; logged-in sessions end then too.
    """
    from voltbridge.api.password import PASSWORD_FILE, reset_password

    chosen = None
    if set_:
        chosen = typer.prompt("New dashboard password", hide_input=True, confirmation_prompt=True)
    try:
        new = reset_password(data_dir, chosen)
    except (ValueError, OSError) as err:
        console.print(f"[red]error:[/] {escape(str(err))}")
        raise typer.Exit(2) from None
    where = data_dir / PASSWORD_FILE
    if chosen is None:
        console.print(
            f"new dashboard password (shown once, stored hashed in {where}): [bold]{escape(new)}[/]"
        )
    else:
        console.print(f"dashboard password set (stored hashed in {where})")
    console.print("restart voltbridge for it to take effect")
    if os.environ.get("VOLTBRIDGE_PASSWORD"):
        console.print(
            "[yellow]VOLTBRIDGE_PASSWORD is set here: a voltbridge started with it uses that "
            "password instead of this one[/]"
        )
