"""The typer application and its sub-commands' registration."""

from __future__ import annotations

import typer

from voltbridge.cli import (
    catalog_cmd,
    check_cmd,
    password_cmd,
    plan_cmd,
    run_cmd,
    service_cmd,
    sim_charger_cmd,
    simulate_cmd,
    weather_cmd,
)

app = typer.Typer(
    name="voltbridge",
    help="Home energy manager that turns a bidirectional EV into the home's battery.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run_cmd.run)
app.command("plan")(plan_cmd.plan)
app.command("simulate")(simulate_cmd.simulate)
app.command("check")(check_cmd.check)
app.command("catalog")(catalog_cmd.catalog)
app.command("tariffs")(catalog_cmd.tariffs)
app.command("examples")(check_cmd.examples)
app.command("sim-charger")(sim_charger_cmd.sim_charger)
app.command("password")(password_cmd.password)
app.command("install-service")(service_cmd.install_service)
app.add_typer(weather_cmd.app, name="weather")


def main() -> None:
    """The ``voltbridge`` console script: the app, with a missing package said in one line.

    Every package voltbridge imports is a declared dependency, so this only happens in a broken
    environment (an install with ``--no-deps``, a package removed later); the household gets
    what is missing and how to repair it instead of a traceback.
    """
    try:
        app()
    except ModuleNotFoundError as err:
        missing = err.name or str(err)
        typer.echo(
            f"error: the Python module {missing!r} is missing, so this command cannot run. "
            "Reinstall voltbridge with its dependencies (`pip install voltbridge`, or "
            "`pip install -e .` in a checkout) and try again.",
            err=True,
        )
        raise SystemExit(1) from None
