"""bench/simulate.py: per-run figures from a child, the breakdown adds up, the JSON line's keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from simulate import EXAMPLES, TARGETS, Stopwatch, child, summary_figures


def test_stopwatch_keeps_results_and_counts_every_call() -> None:
    class Thing:
        def twice(self, x: int) -> int:
            return 2 * x

    watch = Stopwatch()
    watch.wrap(Thing, "twice", "twice")
    assert [Thing().twice(i) for i in range(3)] == [0, 2, 4]
    assert watch.seconds["twice"] > 0.0


def test_one_day_of_optimal_reports_plans_rss_and_a_breakdown_that_adds_up() -> None:
    out = child(EXAMPLES / "ev9-california.toml", 1, "optimal")
    assert out["strategy"] == "optimal"
    assert out["steps"] == 288
    assert out["plans"] >= 96  # every 15 minutes at least
    assert out["peak_rss_mb"] > 0
    parts = out["breakdown"]
    assert set(parts) == {"planner_s", "plan_inputs_s", "controller_tick_s", "simulator_s"}
    assert all(v >= 0 for v in parts.values())
    assert sum(parts.values()) == pytest.approx(out["run_s"], abs=0.01)


def test_json_line_holds_each_target_at_its_worst_example_and_says_when_scaled() -> None:
    per_site = {
        "a": {"optimal_year_s": 10.0, "all_strategies_year_s": 50.0, "peak_rss_mb": 300.0},
        "b": {"optimal_year_s": 20.0, "all_strategies_year_s": 40.0, "peak_rss_mb": 200.0},
    }
    fig = summary_figures(per_site, 30)
    assert set(TARGETS) <= set(fig)
    assert (fig["optimal_year_s"], fig["all_strategies_year_s"], fig["peak_rss_mb"]) == (
        20.0,
        50.0,
        300.0,
    )
    assert fig["scaled_from_days"] == 30
    assert fig["machine"]
    assert "scaled_from_days" not in summary_figures(per_site, 365)
