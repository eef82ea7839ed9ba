"""Backup comes first: over outage scenarios from a few hours to three days, ``optimal`` enters
every outage with at least ``backup_reserve_h`` of essential load at home and serves at least as
much essential load as ``uncontrolled`` (a house that does nothing clever, whose backup hardware
powers the whole house down to the car's outage reserve).

Past ``backup_reserve_h`` it is the outage reserve that keeps ``optimal`` level: ``uncontrolled``
fills the truck on arrival at the evening peak price and enters an evening outage 17 kWh
fuller; in 72 h (three commutes) ``optimal`` reaches the mobility reserve first, and its
essential circuits then go on down to the outage reserve while the others are shed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.sim.context import storage_params
from voltbridge.sim.outages import parse_outage
from voltbridge.sim.simulate import simulate_site

EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"
START = datetime(2026, 7, 10, tzinfo=UTC)

SCENARIOS = [
    ("f150-outage-sonoma", "2026-07-12T17:00/12h", 5),  # evening peak, truck home
    ("f150-outage-sonoma", "2026-07-13T05:00/12h", 5),  # the truck leaves mid-outage
    ("f150-outage-sonoma", "2026-07-13T17:00/24h", 5),  # a day, through the next commute
    # three days, three commutes: the truck reaches its mobility reserve on the third evening
    ("f150-outage-sonoma", "2026-07-14T17:00/72h", 8),
    ("ev9-california", "2026-07-12T18:00/6h", 5),
    ("ev9-california", "2026-07-13T19:00/48h", 7),  # two days, two commutes
    ("sigen-dynamic-germany", "2026-07-12T19:00/3h", 5),  # car and home battery
]
"""(example, outage in local time, days simulated from ``START``)."""


@pytest.mark.parametrize(("example", "outage", "days"), SCENARIOS)
def test_optimal_enters_with_the_reserve_and_serves_no_less(
    example: str, outage: str, days: int
) -> None:
    site = load_site(EXAMPLES / f"{example}.toml")
    o = parse_outage(outage, site.location.timezone)
    strategies = ["uncontrolled", "optimal"]
    summary, traces, world = simulate_site(site, START, days, strategies, outages=[o])
    served = {k: v["outages"]["essential_served_kwh"] for k, v in summary["strategies"].items()}
    assert served["optimal"] >= served["uncontrolled"] - 1e-6, served
    # the reserve at the outage's first step, from the trace: energy above each storage's
    # reserve, at home, delivered at its efficiency
    tr, params = traces["optimal"], storage_params(world)
    k = int(np.flatnonzero(~tr.grid_up.astype(bool))[0])
    held = sum(
        max(float(s.soc_kwh[k]) - p.reserve_kwh, 0.0) * p.eta
        for s, p in zip(tr.storages, params, strict=True)
        if s.plugged_in[k]
    )
    need = site.preferences.backup_reserve_h * site.essential_kw
    if any(s.kind == "vehicle" and s.plugged_in[k] for s in tr.storages):
        assert held >= need - 0.05, (held, need)
