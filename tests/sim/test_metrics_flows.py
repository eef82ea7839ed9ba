"""The household's figures recomputed from a small simulation's step flows, by a plain loop
independent of ``sim/metrics.py``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from voltbridge.config import load_site
from voltbridge.sim.simulate import simulate_site

EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"


def test_self_use_counts_only_the_pv_that_was_exported() -> None:
    """A V2G car that exports more than the PV made must not drive self-use to 0 %: per step,
    export is PV only up to the PV left after the house."""
    site = load_site(EXAMPLES / "leaf-uk-v2g.toml")
    start = datetime(2026, 3, 2, tzinfo=ZoneInfo(site.location.timezone))
    summary, traces, _ = simulate_site(site, start, 3, ["optimal"])
    row, tr = summary["strategies"]["optimal"], traces["optimal"]
    pv = exported_pv = 0.0
    for k in range(tr.grid.n):
        h = float(tr.grid.edges_s[k + 1] - tr.grid.edges_s[k]) / 3600.0
        used, load, grid = float(tr.pv_used_kw[k]), float(tr.load_kw[k]), float(tr.grid_kw[k])
        pv += used * h
        if grid < 0:
            exported_pv += min(-grid, max(used - load, 0.0)) * h
    assert row["export_kwh"] > exported_pv + 1.0  # the car exported too: the case at issue
    expected = 100.0 * (pv - exported_pv) / pv
    assert abs(row["self_consumption_pct"] - expected) < 1e-6
    assert row["self_consumption_pct"] > 0.0
