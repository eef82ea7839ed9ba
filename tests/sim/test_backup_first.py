"""Backup comes first: over outage scenarios from a few hours to three days, ``optimal`` enters
every outage with at least ``backup_reserve_h`` of essential load at home and serves at least as
much essential load as ``uncontrolled`` (a house that does nothing clever, whose backup hardware
powers the whole house down to the car's outage reserve).

Past ``backup_reserve_h`` the car's outage reserve helps both alike: the essential circuits may
use the car below its mobility reserve. It does not close the gap of a 72 h outage with three
commutes on the F-150: ``uncontrolled`` fills the truck on arrival at the evening peak price and
enters an evening outage 17 kWh fuller; the trips are made either way (charged away when the
truck is short), so that gap stays to the end, and it is larger than the band between the two
reserves (13 kWh). Closing it means charging at the peak like ``uncontrolled`` every evening of
the year; that scenario is kept here as a known failure.

Announced ahead (storm watch, 24 h notice), every scenario must serve at least as much as
``uncontrolled``, the 72 h one included: the plan fills the truck before the start and the
controller holds it, so ``optimal`` enters each announced outage at least as full.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.sim.context import storage_params
from voltbridge.sim.outages import parse_outage
from voltbridge.sim.simulate import simulate_site
from voltbridge.sim.types import SimTrace
from voltbridge.sim.world import World

EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"
START = datetime(2026, 7, 10, tzinfo=UTC)

TRUCK_SHORT = pytest.mark.xfail(
    strict=True,
    reason=(
        "72 h with three commutes: optimal enters 17 kWh below uncontrolled (no charging at the "
        "evening peak) and reaches the outage reserve on the third night (44.1 vs 50.4 kWh)"
    ),
)

SCENARIOS = [
    ("f150-outage-sonoma", "2026-07-12T17:00/12h", 5),  # evening peak, truck home
    ("f150-outage-sonoma", "2026-07-13T05:00/12h", 5),  # the truck leaves mid-outage
    ("f150-outage-sonoma", "2026-07-13T17:00/24h", 5),  # a day, through the next commute
    ("f150-outage-sonoma", "2026-07-14T17:00/72h", 8),  # three days, three commutes
    ("ev9-california", "2026-07-12T18:00/6h", 5),
    ("ev9-california", "2026-07-13T19:00/48h", 7),  # two days, two commutes
    ("sigen-dynamic-germany", "2026-07-12T19:00/3h", 5),  # car and home battery
]
"""(example, outage in local time, days simulated from ``START``)."""

FAILS_TO_SERVE = {("f150-outage-sonoma", "2026-07-14T17:00/72h", 8): TRUCK_SHORT}

NOTICE = "@24h"
ANNOUNCED = [(example, outage + NOTICE, days) for example, outage, days in SCENARIOS]
"""Every scenario again, announced 24 h ahead (the issue's judging rule: no known failure)."""


@functools.cache
def simulated(
    example: str, outage: str, days: int
) -> tuple[dict[str, Any], dict[str, SimTrace], World]:
    """``uncontrolled`` and ``optimal`` through one outage (each scenario simulated once)."""
    site = load_site(EXAMPLES / f"{example}.toml")
    o = parse_outage(outage, site.location.timezone)
    return simulate_site(site, START, days, ["uncontrolled", "optimal"], outages=[o])


@pytest.mark.parametrize(
    ("example", "outage", "days"),
    [pytest.param(*sc, marks=FAILS_TO_SERVE.get(sc, ())) for sc in SCENARIOS],
)
def test_optimal_serves_no_less(example: str, outage: str, days: int) -> None:
    summary, _, _ = simulated(example, outage, days)
    served = {k: v["outages"]["essential_served_kwh"] for k, v in summary["strategies"].items()}
    assert served["optimal"] >= served["uncontrolled"] - 1e-6, served


@pytest.mark.parametrize(("example", "outage", "days"), ANNOUNCED)
def test_optimal_serves_no_less_in_an_announced_outage(
    example: str, outage: str, days: int
) -> None:
    summary, _, _ = simulated(example, outage, days)
    served = {k: v["outages"]["essential_served_kwh"] for k, v in summary["strategies"].items()}
    assert served["optimal"] >= served["uncontrolled"] - 1e-6, served


def held_at_start(trace: SimTrace, world: World) -> float:
    """Energy above each storage's outage floor at the outage's first step, at home, delivered
    at its efficiency [kWh]: what the house can draw on, read from the trace."""
    k = int(np.flatnonzero(~trace.grid_up.astype(bool))[0])
    return sum(
        max(float(s.soc_kwh[k]) - (p.outage_floor_kwh or p.reserve_kwh), 0.0) * p.eta
        for s, p in zip(trace.storages, storage_params(world), strict=True)
        if s.plugged_in[k]
    )


@pytest.mark.parametrize(("example", "outage", "days"), ANNOUNCED)
def test_optimal_enters_an_announced_outage_at_least_as_full(
    example: str, outage: str, days: int
) -> None:
    _, traces, world = simulated(example, outage, days)
    optimal, uncontrolled = (held_at_start(traces[k], world) for k in ("optimal", "uncontrolled"))
    assert optimal >= uncontrolled - 0.05, (optimal, uncontrolled)
    # and the announcement reached the controller: it enters fuller than unannounced
    _, unannounced, _ = simulated(example, outage.removesuffix(NOTICE), days)
    assert optimal >= held_at_start(unannounced["optimal"], world) - 0.05


@pytest.mark.parametrize(("example", "outage", "days"), SCENARIOS + ANNOUNCED)
def test_optimal_enters_with_the_reserve(example: str, outage: str, days: int) -> None:
    _, traces, world = simulated(example, outage, days)
    site = world.site
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
