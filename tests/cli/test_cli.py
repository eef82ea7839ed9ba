"""The command line: exit codes, the JSON shape of `plan`, and README kept in step with the CLI."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voltbridge.cli import app
from voltbridge.config.models import (
    PV,
    ChargerEntry,
    Circuit,
    GridConnection,
    HomeBattery,
    Load,
    Location,
    OutageRisk,
    Preferences,
    Trip,
    VehicleEntry,
)

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
runner = CliRunner()

# Each example with a start inside its tariff's data (the dynamic one ships a past fortnight).
STARTS = {
    "ev9-california": "2026-07-15T00:00-07:00",
    "f150-outage-sonoma": "2026-08-14T12:00-07:00",
    "leaf-uk-v2g": "2026-01-14T12:00Z",
    "sigen-dynamic-germany": "2024-03-27T00:00+01:00",
}


def plan_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(STARTS))
def test_check_accepts_every_example(name: str) -> None:
    result = runner.invoke(app, ["check", str(ROOT / "examples" / f"{name}.toml"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["valid"] and report["vehicles"]
    for vehicle in report["vehicles"]:
        for verdict in vehicle["modes"].values():
            assert verdict["ok"] or verdict["reasons"], "a mode that does not work says why"


@pytest.mark.parametrize("name", sorted(STARTS))
def test_plan_json_shape_and_energy_balance(name: str) -> None:
    out = plan_json(str(ROOT / "examples" / f"{name}.toml"), "--start", STARTS[name])
    assert {"start", "step_minutes", "solve_ms", "cost", "steps", "warnings"} <= set(out)
    assert {"total", "import", "export_revenue", "degradation", "penalties"} <= set(out["cost"])
    assert len(out["steps"]) == 48 * 4
    socs: dict[str, float] = {n: s["soc_start_kwh"] for n, s in out["storages"].items()}
    for step in out["steps"]:
        keys = {
            "start",
            "hours",
            "price_import",
            "price_export",
            "load_kw",
            "pv_kw",
            "pv_used_kw",
            "grid_kw",
            "battery_kw",
            "battery_soc_kwh",
            "vehicles",
        }
        assert keys <= set(step)
        stored = sum(v["kw"] for v in step["vehicles"].values()) + step["battery_kw"]
        # grid + pv_used = load + sum(vehicle) + battery, to solver precision
        assert step["grid_kw"] + step["pv_used_kw"] + step["unserved_kw"] == pytest.approx(
            step["load_kw"] + stored, abs=1e-6
        )
        assert 0 <= step["pv_used_kw"] <= step["pv_kw"] + 1e-9
        for vname, v in step["vehicles"].items():
            assert set(v) >= {"kw", "soc_kwh", "plugged_in"}
            if not v["plugged_in"]:
                assert v["kw"] == pytest.approx(0, abs=1e-9)
            socs[vname] = v["soc_kwh"]
    assert out["cost"]["penalties"] >= 0


def test_plan_table_runs_on_the_embedded_home() -> None:
    result = runner.invoke(app, ["plan", "--hours", "4", "--start", "2026-07-15T12:00-07:00"])
    assert result.exit_code == 0, result.output
    assert "ev9" in result.output and "cost" in result.output


def test_plan_is_deterministic() -> None:
    args = ("--start", "2026-07-15T00:00-07:00", "--hours", "24")
    a, b = plan_json(*args), plan_json(*args)
    a.pop("solve_ms"), b.pop("solve_ms")
    assert a == b


def test_soc_option_sets_the_start() -> None:
    out = plan_json("--start", "2026-07-15T00:00-07:00", "--hours", "2", "--soc", "ev9=10")
    assert out["storages"]["ev9"]["soc_start_kwh"] == pytest.approx(0.1 * 96.0)  # usable, not gross
    bad = runner.invoke(app, ["plan", "--soc", "nope=10", "--hours", "1"])
    assert bad.exit_code == 2 and "nope" in bad.output


def test_short_first_step() -> None:
    out = plan_json("--start", "2026-07-15T00:05-07:00", "--hours", "1")
    hours = [s["hours"] for s in out["steps"]]
    assert hours[0] == pytest.approx(10 / 60, abs=1e-5) and sum(hours) == pytest.approx(1.0)


def test_check_exit_code_2_names_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    text = (ROOT / "examples" / "leaf-uk-v2g.toml").read_text()
    path.write_text(text.replace('export_policy = "any"', 'export_policy = "all"'))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "grid.export_policy" in result.output and "bad.toml" in result.output


def test_catalog_and_tariffs_list() -> None:
    cat = runner.invoke(app, ["catalog", "--json"])
    assert cat.exit_code == 0 and "kia-ev9-99kwh" in cat.output
    tariffs = runner.invoke(app, ["tariffs"])
    assert tariffs.exit_code == 0 and "pge-ev2a" in tariffs.output


def test_readme_starts_with_the_two_commands() -> None:
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    lines = [ln for ln in block.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 2
    assert "voltbridge " in lines[0] and "pytest" in lines[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest -q" in lines[1] and "python -m pytest -q" in ci


def test_readme_lists_every_command_and_option() -> None:
    commands = [c.name for c in app.registered_commands]
    for name in commands:
        assert f"`voltbridge {name}" in README, f"README does not document `voltbridge {name}`"
    for option in ("--start", "--hours", "--step-minutes", "--soc", "--json"):
        assert option in README


@pytest.mark.parametrize(
    "model",
    [
        Location,
        GridConnection,
        PV,
        HomeBattery,
        Load,
        Circuit,
        VehicleEntry,
        ChargerEntry,
        Trip,
        Preferences,
        OutageRisk,
    ],
)
def test_readme_documents_every_site_setting(model: type) -> None:
    table = README.split("## The site file", 1)[1].split("##", 1)[0]
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        key = field.alias or name
        assert re.search(rf"`{re.escape(key)}`", table), f"{model.__name__}.{key} not in README"


def test_balance_recomputed_with_numpy() -> None:
    out = plan_json(
        str(ROOT / "examples" / "sigen-dynamic-germany.toml"),
        "--start",
        STARTS["sigen-dynamic-germany"],
    )
    steps = out["steps"]
    hours = np.array([s["hours"] for s in steps])
    battery = np.array([s["battery_kw"] for s in steps])
    soc = np.array([s["battery_soc_kwh"] for s in steps])
    eta = np.sqrt(0.9)  # round-trip efficiency of the example's battery, split evenly
    start = out["storages"]["battery"]["soc_start_kwh"]
    expect = start + np.cumsum(
        eta * np.maximum(battery, 0) * hours - np.maximum(-battery, 0) * hours / eta
    )
    assert np.allclose(soc, expect, atol=1e-6)
