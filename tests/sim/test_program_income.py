"""Program income in `voltbridge simulate`: every strategy has `program_income` and
`event_delivered_kwh`; the ELRP payment is recomputed here from the trace and the 10-of-10 rule
written out independently; programs steer only the planning strategies, and taking part pays."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from voltbridge.config import Site, parse_site
from voltbridge.sim import simulate_site
from voltbridge.sim.types import SimTrace

EXAMPLE = Path(__file__).parents[2] / "src/voltbridge/examples/ev9-california.toml"
TZ = ZoneInfo("America/Los_Angeles")
START = datetime(2026, 7, 6, tzinfo=TZ)
DAYS = 8
STRATEGIES = ["uncontrolled", "smart-charge", "optimal"]


def site(programs: list[dict[str, Any]] | None) -> Site:
    with EXAMPLE.open("rb") as handle:
        raw = tomllib.load(handle)
    assert raw["programs"] == [{"id": "elrp"}], "the shipped example takes part in ELRP"
    if programs is None:
        raw.pop("programs")
    else:
        raw["programs"] = programs
    return parse_site(raw, EXAMPLE)


# ELRP with events called often, so that 8 days of July see several.
OFTEN = [{"id": "elrp", "definition": {"limits": {"typical_events_per_year": 150.0}}}]


def elrp_income(trace: SimTrace, events: list[dict[str, Any]]) -> tuple[float, float]:
    """(payment [USD], delivered [kWh]) by the ELRP rule written out again: 10 most recent
    earlier weekdays (weekend: 4 weekend days) without an event, their mean over the window,
    scaled by actual / baseline use over the 3 hours ending 1 hour before the event (held
    within 0.6-1.4), delivered = baseline - metered net import, never below 0, 2 USD/kWh."""
    index = pd.to_datetime(trace.grid.edges_s[:-1], unit="s", utc=True).tz_convert(TZ)
    kw = pd.Series(trace.grid_kw, index=index)
    dt_h = pd.Series(trace.grid.dt_h, index=index)
    event_dates = {datetime.fromisoformat(e["start"]).astimezone(TZ).date() for e in events}
    paid = delivered_total = 0.0
    for e in events:
        start = datetime.fromisoformat(e["start"]).astimezone(TZ)
        end = start + timedelta(hours=e["hours"])
        window = (index >= start) & (index < end)
        times = [t.time() for t in index[window]]
        weekend = start.weekday() >= 5
        wanted = 4 if weekend else 10
        rows: list[np.ndarray] = []
        used: list[date] = []
        day = start.date() - timedelta(days=1)
        while len(rows) < wanted and day >= index[0].date():
            if (day.weekday() >= 5) == weekend and day not in event_dates:
                values = [kw.get(pd.Timestamp(datetime.combine(day, t), tz=TZ)) for t in times]
                if all(v is not None for v in values):
                    rows.append(np.array(values, dtype=float))
                    used.append(day)
            day -= timedelta(days=1)
        if rows:
            base = np.mean(rows, axis=0)
            before_start, before_end = start - timedelta(hours=4), start - timedelta(hours=1)
            today = (index >= before_start) & (index < before_end)
            before_times = [t.time() for t in index[today]]
            ref = np.mean(
                [
                    [kw[pd.Timestamp(datetime.combine(d, t), tz=TZ)] for t in before_times]
                    for d in used
                ]
            )
            ratio = 1.0 if ref <= 1e-9 else float(np.clip(kw[today].mean() / ref, 0.6, 1.4))
            base = base * ratio
        else:
            base = np.zeros(int(window.sum()))
        delivered = float(np.sum((base - kw[window].to_numpy()) * dt_h[window].to_numpy()))
        delivered = max(0.0, delivered)
        delivered_total += delivered
        paid += 2.0 * delivered
    return paid, delivered_total


def test_elrp_income_matches_an_independent_settlement() -> None:
    result, traces, _ = simulate_site(site(OFTEN), START, DAYS, STRATEGIES, seed=5)
    events = result["program_events"]
    assert len(events) >= 3, "the test needs several events"
    for e in events:
        local = datetime.fromisoformat(e["start"]).astimezone(TZ)
        assert local.hour >= 16 and local.hour + e["hours"] <= 21
        # only events inside the simulated period are drawn
        assert local >= START and local + timedelta(hours=e["hours"]) <= START + timedelta(DAYS)
    for name, trace in traces.items():
        row = result["strategies"][name]
        paid, delivered = elrp_income(trace, events)
        assert row["program_income"] == pytest.approx(paid, abs=1e-6), name
        assert row["event_delivered_kwh"] == pytest.approx(delivered, abs=1e-6), name
        assert row["net_cost_after_programs"] == pytest.approx(row["net_cost"] - paid)
    assert "events" in result["programs_note"]


def test_programs_steer_only_the_planners_and_taking_part_pays() -> None:
    """Without programs every figure is 0; with them the rule strategies do exactly as before
    (they know no program), while ``optimal`` and ``oracle`` plan with the events' payments:
    their cost net of program income falls below their cost without programs, and ``optimal``
    earns more in events than charging as usual does."""
    strategies = [*STRATEGIES, "oracle"]
    without, _, _ = simulate_site(site(None), START, DAYS, strategies, seed=5)
    with_elrp, _, _ = simulate_site(site(OFTEN), START, DAYS, strategies, seed=5)
    added = {"program_income", "event_delivered_kwh", "net_cost_after_programs", "programs"}
    for name in strategies:
        bare, paid = without["strategies"][name], with_elrp["strategies"][name]
        assert bare["program_income"] == 0.0 and bare["event_delivered_kwh"] == 0.0
        assert bare["programs"] == {}
        if name in ("uncontrolled", "smart-charge"):
            assert {k: v for k, v in paid.items() if k not in added} == {
                k: v for k, v in bare.items() if k not in added
            }
        else:
            assert paid["net_cost_after_programs"] < bare["net_cost"], name
    rows = with_elrp["strategies"]
    assert rows["optimal"]["program_income"] > rows["uncontrolled"]["program_income"]
    assert without["program_events"] == []
    assert "No utility program" in without["programs_note"]


def test_the_report_shows_program_income_on_its_own() -> None:
    from voltbridge.sim.report import summary_table

    html = summary_table({"optimal": {"bill": 100.0, "program_income": 12.5}}, "USD", "optimal")
    assert "paid by grid programs [USD]" in html and "<td>12.50</td>" in html


def test_optimal_deaf_to_the_programs_is_optimal_without_them() -> None:
    """`optimal-no-programs` on a site with ELRP does exactly what `optimal` does on the same
    site without ELRP (the same world, no event heard), so the report can say what taking part is
    worth against the same period without it."""
    without, _, _ = simulate_site(site(None), START, DAYS, ["optimal"], seed=5)
    with_elrp, _, _ = simulate_site(
        site(OFTEN), START, DAYS, ["optimal", "optimal-no-programs"], seed=5
    )
    added = {"program_income", "event_delivered_kwh", "net_cost_after_programs", "programs"}
    deaf = with_elrp["strategies"]["optimal-no-programs"]
    bare = without["strategies"]["optimal"]
    assert {k: v for k, v in deaf.items() if k not in added} == {
        k: v for k, v in bare.items() if k not in added
    }
    heard = with_elrp["strategies"]["optimal"]
    worth = bare["net_cost"] - heard["net_cost_after_programs"]
    assert worth > 0
    assert f"taking part is worth {worth:.2f} USD" in with_elrp["programs_note"]
