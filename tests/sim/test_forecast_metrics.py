"""The simulator records how well the learned load forecast did: the JSON's ``forecast`` object,
checked against errors recomputed here from the world's load."""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.sim import simulate_site

EXAMPLE = Path(__file__).parents[2] / "examples" / "leaf-uk-v2g.toml"


def test_forecast_error_is_in_the_results() -> None:
    site = load_site(EXAMPLE)
    start = datetime(2026, 3, 2, tzinfo=ZoneInfo(site.location.timezone))
    result, _, world = simulate_site(site, start, 5, ["uncontrolled"], seed=4)
    fc = json.loads(json.dumps(result))["forecast"]
    day = world.steps_per_day
    hourly = world.load_kw[: world.n_sim].reshape(-1, day // 24).mean(axis=1)
    # days 2-5 are scored (day 1 has no history before it), 24 hourly values each
    assert fc["days_scored"] == 4 and fc["horizon_h"] == 24
    actual = hourly[24:120]
    naive = hourly[0:96]  # the day before, hour by hour
    assert fc["baseline_load_mae_kw"] == pytest.approx(np.abs(naive - actual).mean(), abs=1e-4)
    assert fc["baseline_load_bias_kw"] == pytest.approx((naive - actual).mean(), abs=1e-4)
    learned = np.concatenate([world.load_forecasts[r][:24] for r in range(day, 5 * day, day)])
    assert fc["load_mae_kw"] == pytest.approx(np.abs(learned - actual).mean(), abs=1e-4)
    assert fc["load_bias_kw"] == pytest.approx((learned - actual).mean(), abs=1e-4)
    assert fc["load_model"].startswith("statsforecast")
    pv = world.pv_kw[: world.n_sim].reshape(-1, day // 24).mean(axis=1)
    assert fc["baseline_pv_mae_kw"] == pytest.approx(np.abs(pv[0:96] - pv[24:120]).mean(), abs=1e-4)
    assert fc["pv_mae_kw"] >= 0 and np.isfinite(fc["pv_bias_kw"])


def test_a_period_too_short_to_score_says_so() -> None:
    site = load_site(EXAMPLE)
    start = datetime(2026, 3, 2, tzinfo=ZoneInfo(site.location.timezone))
    result, _, _ = simulate_site(site, start, 1, ["uncontrolled"], seed=4)
    assert result["forecast"]["days_scored"] == 0
    assert result["forecast"]["load_mae_kw"] is None
    assert result["forecast"]["pv_mae_kw"] is None


def test_the_series_scored_are_in_the_json_and_give_its_errors() -> None:
    site = load_site(EXAMPLE)
    start = datetime(2026, 5, 4, tzinfo=ZoneInfo(site.location.timezone))
    result, _, world = simulate_site(site, start, 6, ["uncontrolled"], seed=2)
    fc = json.loads(json.dumps(result))["forecast"]
    series = fc["series"]
    day = world.steps_per_day
    assert series["step_h"] == 1 and series["start"] == world.grid.starts()[day].isoformat()
    for key, flows in (("load", world.load_kw), ("pv", world.pv_kw)):
        s = {name: np.asarray(v) for name, v in series[f"{key}_kw"].items()}
        assert all(v.size == 5 * 24 for v in s.values())  # days 2-6, hour by hour
        # What happened, and yesterday repeated, straight from the world's 5-minute flows.
        hourly = flows[: world.n_sim].reshape(-1, day // 24).mean(axis=1)
        assert s["actual"] == pytest.approx(hourly[24:], abs=1e-4)
        assert s["baseline"] == pytest.approx(hourly[:-24], abs=1e-4)
        # The errors in the JSON are those of its own series.
        for who, prefix in (("forecast", ""), ("baseline", "baseline_")):
            err = s[who] - s["actual"]
            assert fc[f"{prefix}{key}_mae_kw"] == pytest.approx(np.abs(err).mean(), abs=1e-4)
            assert fc[f"{prefix}{key}_bias_kw"] == pytest.approx(err.mean(), abs=1e-4)
    # The PV forecast is the clear sky times the day's learned index, hour of day by hour of day.
    clear = world.clearsky_pv_kw[: world.n_sim].reshape(-1, day // 24).mean(axis=1)
    index = np.concatenate([world.pv_indices[r] for r in range(day, 6 * day, day)])
    assert series["pv_kw"]["forecast"] == pytest.approx(clear[24:] * index, abs=1e-4)
    assert fc["pv_model"].startswith("clear-sky PV") and "yesterday" in fc["pv_baseline"]
