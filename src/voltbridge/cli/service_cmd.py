"""``voltbridge install-service``: the systemd unit that runs ``voltbridge run`` as a service."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

console = Console()


def install_service(
    site: Annotated[
        Path | None, typer.Option(help="The home's site file (with its [devices] table).")
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Where the store and the password hash live.")
    ] = Path("/var/lib/voltbridge"),
    env_file: Annotated[
        Path,
        typer.Option(help="Secrets as KEY=value lines (VOLTBRIDGE_PASSWORD, chargers' passwords)."),
    ] = Path("/etc/voltbridge/voltbridge.env"),
    user: Annotated[
        str | None, typer.Option(help="Run as this user (it must own the data directory).")
    ] = None,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.")] = 8080,
    watchdog: Annotated[
        int, typer.Option(help="Restart when the control loop stops ticking this long [s].", min=10)
    ] = 60,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Write the unit here (e.g. /etc/systemd/system/voltbridge.service); "
            "default: print it."
        ),
    ] = None,
) -> None:
    """Print (or write) the systemd unit for running voltbridge as a service.

    The unit starts `voltbridge run` with `Type=notify`: systemd knows when it is ready, restarts
    it on failure, and restarts it when the control loop stops ticking for `--watchdog` seconds.
    Secrets come from `--env-file`; logs go to the journal (`journalctl -u voltbridge`).
    """
    from voltbridge.runtime.systemd import unit_text

    found = shutil.which("voltbridge")
    executable = Path(found) if found else Path(sys.executable).parent / "voltbridge"
    if site is not None:
        site = site.resolve()
        if not site.is_file():
            console.print(f"[red]error:[/] no site file at {escape(str(site))}")
            raise typer.Exit(2)
    text = unit_text(executable, data_dir, site, env_file, user, port, watchdog)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        console.print(f"[red]error:[/] cannot write {escape(str(output))}: {escape(str(err))}")
        raise typer.Exit(2) from None
    console.print(f"wrote {escape(str(output))}; then:")
    console.print(f"  sudo mkdir -p {data_dir} && sudo install -m 600 /dev/null {env_file}")
    console.print("  sudo systemctl daemon-reload && sudo systemctl enable --now voltbridge")
