"""The typer application and its sub-commands' registration."""

from __future__ import annotations

import typer

from voltbridge.cli import catalog_cmd, check_cmd, plan_cmd, run_cmd, sim_charger_cmd, simulate_cmd

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
