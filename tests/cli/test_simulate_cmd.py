"""`voltbridge simulate`: the JSON shape of the issue, options, errors, and the year-long run."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voltbridge.cli import app

ROOT = Path(__file__).parents[2]
runner = CliRunner()
KEYS = {
    "bill",
    "ageing_cost",
    "import_kwh",
    "export_kwh",
    "pv_kwh",
    "curtailed_kwh",
    "load_kwh",
    "losses_kwh",
    "stored_delta_kwh",
    "driving_kwh",
    "away_charging_kwh",
    "vehicle_discharged_kwh",
    "unmet_driving_kwh",
    "equivalent_full_cycles",
    "capacity_fade_pct",
    "self_consumption_pct",
    "backup_hours_median",
    "backup_hours_p5",
}


def simulate_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["simulate", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_json_shape_and_conservation() -> None:
    out = simulate_json(
        str(ROOT / "examples" / "leaf-uk-v2g.toml"),
        "--start",
        "2026-02-02",
        "--days",
        "3",
        "--strategies",
        "uncontrolled,v2h-rules",
        "--seed",
        "7",
        "--outage",
        "2026-02-03T18:00/2h",
        "--outage",
        "2026-02-04T18:00/3h@24h",
    )
    assert {"site", "start", "days", "seed", "strategies"} <= set(out)
    assert out["days"] == 3 and out["seed"] == 7 and out["start"].startswith("2026-02-02")
    assert set(out["strategies"]) == {"uncontrolled", "v2h-rules"}
    assert out["outages"] == [
        {"start": "2026-02-03T18:00:00+00:00", "hours": 2.0, "notice_h": None},
        {"start": "2026-02-04T18:00:00+00:00", "hours": 3.0, "notice_h": 24.0},
    ]
    for row in out["strategies"].values():
        assert set(row) >= KEYS
        lhs = row["import_kwh"] + row["pv_kwh"] + row["away_charging_kwh"]
        rhs = (
            row["load_kwh"]
            + row["losses_kwh"]
            + row["export_kwh"]
            + row["stored_delta_kwh"]
            + row["driving_kwh"]
        )
        assert lhs == pytest.approx(rhs, abs=1e-6)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--strategies", "cheapest"], "unknown cheapest"),
        (["--outage", "2026-02-03T18:00/2 weeks"], "--outage"),
        (["--outage", "2026-02-03T18:00/2h@tomorrow"], "notice"),
        (["--start", "yesterday"], "--start"),
    ],
)
def test_bad_options_exit_2(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["simulate", "--days", "1", *args])
    assert result.exit_code == 2
    assert says in result.output


def test_table_and_report(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--days",
            "2",
            "--start",
            "2026-06-01",
            "--strategies",
            "uncontrolled,smart-charge",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "smart-charge" in result.output and report.stat().st_size > 1_000_000


@pytest.mark.slow
def test_a_year_conserves_energy_for_every_strategy() -> None:
    out = simulate_json("--start", "2026-01-01", "--days", "365")
    assert set(out["strategies"]) == {
        "uncontrolled",
        "smart-charge",
        "v2h-rules",
        "optimal",
        "oracle",
    }
    cost = {}
    for name, row in out["strategies"].items():
        assert abs(row["balance_error_kwh"]) < 1e-4, name
        cost[name] = row["bill"] + row["ageing_cost"]
    assert cost["oracle"] <= cost["optimal"] <= cost["smart-charge"] <= cost["uncontrolled"]


def test_table_shows_forecast_errors_recomputed_from_the_json_series() -> None:
    args = [str(ROOT / "examples" / "leaf-uk-v2g.toml"), "--start", "2026-04-06", "--days", "4"]
    args += ["--strategies", "uncontrolled", "--seed", "5"]
    series = simulate_json(*args)["forecast"]["series"]
    result = runner.invoke(app, ["simulate", *args])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "Forecasts a day ahead, hour by hour over 3 days" in text
    for what, key in (("household use", "load_kw"), ("solar", "pv_kw")):
        forecast, actual, baseline = (
            np.asarray(series[key][name]) for name in ("forecast", "actual", "baseline")
        )
        expected = [
            np.abs(forecast - actual).mean(),
            (forecast - actual).mean(),
            np.abs(baseline - actual).mean(),
        ]
        said = re.search(
            f"{what} missed by (\\S+) kW on average \\(MAE\\), leaning (\\S+) kW \\(bias\\); "
            "repeating yesterday missed by (\\S+) kW",
            text,
        )
        assert said is not None, text
        assert [float(x) for x in said.groups()] == pytest.approx(expected, abs=6e-4)
