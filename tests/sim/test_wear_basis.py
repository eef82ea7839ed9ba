"""Wear in the simulate JSON: each storage's cost at the planner's prices beside the cell
model's fade, over the period and (for four weeks or more) a year on average over the life."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.battery.calibrate import LIFE_YEARS
from voltbridge.config import load_site
from voltbridge.sim import simulate_site
from voltbridge.sim.context import storage_params
from voltbridge.sim.headline import headline
from voltbridge.sim.simulate import LIFE_FADE_MIN_DAYS

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_per_storage_wear_adds_up_and_the_life_basis_needs_four_weeks() -> None:
    site = load_site(EXAMPLES / "leaf-uk-v2g.toml")
    tz = ZoneInfo(site.location.timezone)
    start = datetime(2026, 3, 2, tzinfo=tz)
    short, _, _ = simulate_site(site, start, 3, ["smart-charge"])
    row = short["strategies"]["smart-charge"]
    assert row["life_fade_pct_per_year"] is None
    assert all(w["life_fade_pct_per_year"] is None for w in row["wear_by_storage"].values())

    result, traces, world = simulate_site(site, start, LIFE_FADE_MIN_DAYS, ["smart-charge"])
    row = result["strategies"]["smart-charge"]
    trace, params = traces["smart-charge"], storage_params(world)
    by = row["wear_by_storage"]
    assert sum(w["ageing_cost"] for w in by.values()) == pytest.approx(row["ageing_cost"])
    for s, p in zip(trace.storages, params, strict=True):
        # the planner's two prices applied by hand to the flows: DC energy out, kWh-h above
        dt = trace.grid.dt_h
        out_dc = sum(max(-float(x), 0.0) / p.eta * h for x, h in zip(s.power_kw, dt, strict=True))
        held = sum(
            max(float(e) - p.wear.calendar_threshold_kwh, 0.0) * h
            for e, h in zip(s.soc_kwh[1:], dt, strict=True)
        )
        expect = p.wear.throughput_per_kwh * out_dc + p.wear.calendar_per_kwh_h * held
        assert by[s.name]["ageing_cost"] == pytest.approx(expect, rel=1e-9)
        life = by[s.name]["life_fade_pct_per_year"]
        assert life is not None and life > 0
        # the models' fade slows with age: four weeks of a new pack, annualised, age it faster
        # than the average year of its life, and the life's total exceeds the first weeks'
        period = by[s.name]["capacity_fade_pct"]
        assert life < period * 365.0 / LIFE_FADE_MIN_DAYS
        assert life * LIFE_YEARS > period
    assert row["life_fade_pct_per_year"] == pytest.approx(
        max(by[s.name]["life_fade_pct_per_year"] for s in trace.storages if s.kind == "vehicle")
    )
    assert np.isfinite(row["net_cost"])


def test_the_headline_compares_fade_over_the_life_when_it_is_known() -> None:
    site = load_site(EXAMPLES / "ev9-california.toml")
    tz = ZoneInfo(site.location.timezone)
    result, traces, world = simulate_site(
        site, datetime(2026, 1, 5, tzinfo=tz), 2, ["uncontrolled", "optimal"]
    )
    st = result["strategies"]
    # a first-weeks fade that says "less" and a life fade that says 10 % more: the life wins
    st["uncontrolled"].update(capacity_fade_pct=0.40, life_fade_pct_per_year=0.20)
    st["optimal"].update(capacity_fade_pct=0.30, life_fade_pct_per_year=0.22)
    text = headline(result, traces, world)
    assert text is not None
    assert "lose about 10 % more capacity over its life" in text
    st["optimal"]["life_fade_pct_per_year"] = None
    text = headline(result, traces, world)
    assert text is not None and "lose about 25 % less capacity;" in text
