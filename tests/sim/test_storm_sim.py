"""Announced outages in the simulator: drawn ones keep their times and get seeded notices, and
the simulated controller hears of each at its start minus its notice, through the path the API
takes at home (``Controller.announce_outage``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from voltbridge.config import load_site
from voltbridge.core.status import EventCode
from voltbridge.sim.controlled import ControlledOptimal
from voltbridge.sim.outages import draw_outages, parse_outage
from voltbridge.sim.runner import run
from voltbridge.sim.world import build_world

F150 = Path(__file__).parents[2] / "src/voltbridge/examples/f150-outage-sonoma.toml"
START = datetime(2026, 7, 10, tzinfo=UTC)


def test_drawn_outages_keep_their_times_and_get_seeded_notices() -> None:
    site = load_site(F150)
    site = site.model_copy(update={"outages": site.outages.model_copy(update={"per_year": 60.0})})
    world = build_world(site, START, 120, seed=3)
    # the outages' own stream is the one of before notices existed: the same windows
    outage_rng = np.random.default_rng(3).spawn(1 + len(site.vehicles))[0]
    grid_start = world.grid.start
    plain = draw_outages(grid_start, START + timedelta(days=120), 60.0, 14.0, outage_rng)
    assert [(o.start, o.end) for o in world.outages] == [(o.start, o.end) for o in plain]
    notices = [o.notice_h for o in world.outages]
    assert any(n is None for n in notices) and any(n is not None for n in notices)
    assert all(24.0 <= n <= 48.0 for n in notices if n is not None)
    assert notices == [o.notice_h for o in build_world(site, START, 120, seed=3).outages]


def test_the_simulated_controller_hears_of_the_outage_at_its_notice() -> None:
    site = load_site(F150)
    outage = parse_outage("2026-07-11T10:00/3h@20h", site.location.timezone)
    world = build_world(site, START, 2, outages=[outage])
    strategy = ControlledOptimal()
    trace = run(world, strategy)
    assert strategy.controller is not None
    said = [e for e in strategy.controller.events if e.code is EventCode.STORM_WATCH]
    assert [e.data["action"] for e in said] == ["announced", "on", "off"]
    announced_at = outage.start - timedelta(hours=20)
    step_s = 3600 * float(world.dt_h[0])
    assert announced_at <= said[0].at < announced_at + timedelta(seconds=step_s)
    assert said[0].data["start"] == "2026-07-11T17:00:00Z"
    # storm watch is on from the announcement (the window is less than 48 h ahead)
    assert said[1].at == said[0].at
    assert said[2].at >= outage.end
    assert not trace.grid_up.all()
