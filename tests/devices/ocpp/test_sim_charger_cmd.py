"""The ``sim_charger`` command function (the lead registers it as ``voltbridge sim-charger``)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from voltbridge.cli.sim_charger_cmd import sim_charger


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("sim-charger")(sim_charger)
    return app


def test_the_command_has_its_options() -> None:
    command = typer.main.get_command(_app())
    options = {opt for param in command.params for opt in param.opts}
    for option in ("--url", "--password", "--capacity-kwh", "--max-discharge-kw", "--unplugged"):
        assert option in options
    assert CliRunner().invoke(_app(), ["--help"]).exit_code == 0


def test_bad_url_and_password_are_refused_before_connecting() -> None:
    runner = CliRunner()
    result = runner.invoke(_app(), ["--url", "http://127.0.0.1:9000/CP1"])
    assert result.exit_code == 2 and "--url" in result.output
    result = runner.invoke(_app(), ["--url", "ws://127.0.0.1:9000/ocpp/CP1", "--password", "x"])
    assert result.exit_code == 2 and "16 to 40" in result.output
