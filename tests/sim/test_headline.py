"""The report's first sentence: its figures recomputed from the results, in plain words."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.sim import simulate_site
from voltbridge.sim.headline import headline
from voltbridge.sim.outages import parse_outage

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_a_short_run_with_an_outage_reads_as_the_household_would_say_it() -> None:
    site = load_site(EXAMPLES / "f150-outage-sonoma.toml")
    tz = ZoneInfo(site.location.timezone)
    outage = parse_outage("2026-07-07T18:00/6h", site.location.timezone)
    result, traces, _ = simulate_site(
        site,
        datetime(2026, 7, 6, tzinfo=tz),
        3,
        ["uncontrolled", "optimal"],
        outages=[outage],
    )
    text = result["headline"]
    st = result["strategies"]
    net = {k: st[k]["bill"] + st[k]["ageing_cost"] - st[k]["stored_value"] for k in st}
    saving = net["uncontrolled"] - net["optimal"]
    money = re.search(r"would (save|pay) about ([\d,.]+) USD over these 3 days", text)
    assert money is not None, text
    assert (money.group(1) == "save") == (saving >= 0)
    assert float(money.group(2).replace(",", "")) == pytest.approx(abs(saving), abs=0.5)
    fade = st["optimal"]["capacity_fade_pct"] / st["uncontrolled"]["capacity_fade_pct"] - 1
    if abs(fade) >= 0.01:
        word = "less" if fade < 0 else "more"
        assert f"about {abs(100 * fade):.0f} % {word} capacity" in text
    # the essentials' hours in the outage, recomputed from the trace: grid down, nothing unserved
    # and no essential circuit shed (the example's essentials fit the truck easily)
    trace = traces["optimal"]
    down = ~trace.grid_up
    fully = down & (trace.unserved_kw <= 1e-6)
    hours = float(np.sum(trace.grid.dt_h[fully]))
    outage_text = re.search(r"keep the (.+) on for (\d+) of its 6 hours", text)
    assert outage_text is not None, text
    essentials = [c.name for c in site.circuits if c.essential]
    assert all(name in outage_text.group(1) for name in essentials)
    assert int(outage_text.group(2)) == round(hours)
    assert text.endswith(".")


def test_without_an_outage_the_backup_from_storage_alone_is_named() -> None:
    site = load_site(EXAMPLES / "ev9-california.toml")
    tz = ZoneInfo(site.location.timezone)
    result, traces, world = simulate_site(
        site, datetime(2026, 1, 5, tzinfo=tz), 2, ["uncontrolled", "optimal"]
    )
    hours = result["strategies"]["optimal"]["backup_hours_median"]
    assert "not counting PV) would keep the" in result["headline"]
    assert f"on for about {hours:.0f} hours." in result["headline"]
    # a year is reported as a year, scaled to 365 days
    year = {**result, "days": 365}
    st = result["strategies"]
    saving = sum(
        (1 if k == "uncontrolled" else -1)
        * (st[k]["bill"] + st[k]["ageing_cost"] - st[k]["stored_value"])
        for k in ("uncontrolled", "optimal")
    )
    text = headline(year, traces, world)
    assert text is not None and " a year " in text
    assert f"about {abs(saving):,.0f} USD a year" in text or abs(saving) < 10
    assert headline({**result, "strategies": {"optimal": st["optimal"]}}, traces, world) is None


def test_energy_left_stored_is_valued_at_the_last_days_cheapest_import_price() -> None:
    site = load_site(EXAMPLES / "leaf-uk-v2g.toml")
    tz = ZoneInfo(site.location.timezone)
    result, traces, world = simulate_site(
        site, datetime(2026, 3, 2, tzinfo=tz), 2, ["smart-charge", "optimal"]
    )
    for name, trace in traces.items():
        row = result["strategies"][name]
        # the last 24 h of 5-minute steps, recomputed here
        price = max(0.0, float(world.price_import[trace.grid.n - 288 : trace.grid.n].min()))
        left = sum(float(s.soc_kwh[-1] - s.soc_kwh[0]) for s in trace.storages)
        assert row["stored_value_price"] == pytest.approx(price)
        assert row["stored_value"] == pytest.approx(left * price)
        assert row["net_cost"] == pytest.approx(
            row["bill"] + row["ageing_cost"] - row["stored_value"]
        )
