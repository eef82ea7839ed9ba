"""The household's figures recomputed from a small simulation's step flows, by a plain loop
independent of ``sim/metrics.py``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.sim.outages import parse_outage
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


def test_outage_unserved_counts_what_was_shed_and_backup_says_its_basis() -> None:
    """A 72 h outage with the truck out on weekdays: the controller sheds essential circuits at
    the truck's floor. What it shed counts as unserved; the essential part is reported apart."""
    site = load_site(EXAMPLES / "f150-outage-sonoma.toml")
    tz = ZoneInfo(site.location.timezone)
    # Tuesday to Friday evening, three commutes: the truck reaches its floor on the third night
    outage = parse_outage("2026-07-14T17:00/72h", site.location.timezone)
    summary, traces, _ = simulate_site(
        site, datetime(2026, 7, 10, tzinfo=tz), 8, ["uncontrolled", "optimal"], outages=[outage]
    )
    for name, tr in traces.items():
        row = summary["strategies"][name]
        shed = np.zeros(tr.grid.n) if tr.shed_kw is None else tr.shed_kw
        ess_lost = all_lost = shed_total = 0.0
        for k in range(tr.grid.n):
            h = float(tr.grid.edges_s[k + 1] - tr.grid.edges_s[k]) / 3600.0
            demand, ess = float(tr.demand_kw[k]), float(tr.essential_kw[k])
            on = demand - float(shed[k])  # demand on circuits left on
            ess_on = min(ess, on)
            dark = float(tr.unserved_kw[k])  # of the demand left on
            ess_lost += ((ess - ess_on) + (dark * ess_on / on if on > 1e-12 else 0.0)) * h
            all_lost += (float(shed[k]) + dark) * h
            shed_total += float(shed[k]) * h
        assert row["unserved_essential_kwh"] == pytest.approx(ess_lost, abs=1e-6)
        assert row["unserved_kwh"] == pytest.approx(all_lost, abs=1e-6)
        assert row["shed_kwh"] == pytest.approx(shed_total, abs=1e-6)
        assert "PV not counted" in row["backup_hours_basis"]
    opt = summary["strategies"]["optimal"]
    assert opt["shed_kwh"] > 1.0  # the case at issue: shed load used to be left out
    assert opt["unserved_kwh"] >= opt["shed_kwh"]
