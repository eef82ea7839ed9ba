"""``optimal``'s re-plan inputs made once a day and sliced (``sim/plan_inputs.py``) are, to the
last bit, the request built from scratch at the same step: the forecasts of the past
(``past_forecast``), the prices known then (rebuilt here from the publication rule), their means
on the plan grid (``step_means``) and ``plan_request`` resolving the site anew. Checked at
re-plan times across midnight, across the 13:00 price publication, off the quarter hour, at the
period's end, with a day revisited and with the household's settings changing the site."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.control.plan_source import PlanState, measured_forecast, site_with_settings
from voltbridge.control.settings import Settings, VehicleSettings
from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.planner.from_site import edge_indices, plan_request, site_constants
from voltbridge.planner.request import PlanRequest
from voltbridge.sim.context import Context, initial_soc, plant_models, storage_params
from voltbridge.sim.forecasting import past_forecast, sim_planning_grid
from voltbridge.sim.physics import Plant
from voltbridge.sim.plan_inputs import SimPlanInputs, stacked_step_means
from voltbridge.sim.planned import site_prior_load
from voltbridge.sim.world import World, build_world
from voltbridge.tariffs import coverage_warnings
from voltbridge.tariffs.series import load_series

EXAMPLES = Path(__file__).parents[2] / "examples"
# sigen: day-ahead prices published at 13:00 Berlin (a forecast beyond); ev9: time-of-use
STARTS = {"sigen-dynamic-germany": "2024-04-01", "ev9-california": "2026-01-05"}
# local re-plan times on the 3 simulated days: the first step, a morning, either side of the
# 13:00 publication, either side of midnight, off the quarter hour, the period's last hours and
# step; then a day revisited (re-plans need not come in order)
TIMES = [
    (0, "00:00"),
    (0, "09:15"),
    (0, "12:55"),
    (0, "13:00"),
    (0, "13:05"),
    (0, "23:55"),
    (1, "00:00"),
    (1, "00:10"),
    (1, "12:45"),
    (1, "13:15"),
    (2, "07:35"),
    (2, "22:00"),
    (2, "23:55"),
    (0, "18:20"),
]
DAYS = 3


def context(world: World) -> Context:
    params = storage_params(world)
    plant = Plant(
        plant_models(world, params),
        initial_soc(world, params),
        world.n_sim,
        world.dt_h[: world.n_sim],
        world.site.grid.import_cap_kw,
        world.site.grid.export_cap_kw,
    )
    return Context(world, params, plant)


def scratch_known_prices(ctx: Context, t: int, steps: int) -> tuple[FloatArray, FloatArray]:
    """Prices known at step t, rebuilt: day-ahead prices are published at 13:00 local for the
    next day; beyond, each step takes the hour of the publication's forecast its midpoint lies
    in (the hourly forecast itself from ``Context.forecast_beyond``, the values' one source)."""
    w = ctx.world
    zone = ZoneInfo(w.site.location.timezone)
    local = datetime.fromtimestamp(int(w.grid.edges_s[t]), UTC).astimezone(zone)
    ahead_days = 2 if local.hour >= 13 else 1
    end = datetime.combine(local.date() + timedelta(days=ahead_days), time(), zone)
    until = min(w.grid.step_at(end), w.grid.n)
    out = []
    for side, prices, schedule in (
        ("import", w.price_import, w.site.tariff.import_),
        ("export", w.price_export, w.site.tariff.export),
    ):
        known = prices[t : t + steps]
        if until < t + known.size and schedule.series is not None:
            forecast = ctx.forecast_beyond(side, prices, until)
            ahead_s = w.grid.mid_s[until : t + known.size] - w.grid.edges_s[until]
            hours = np.minimum((ahead_s // 3600).astype(np.int64), forecast.size - 1)
            known = np.concatenate((prices[t:until], forecast[hours]))
        out.append(known)
    return out[0], out[1]


def scratch_request(ctx: Context, t: int, state: PlanState, prior: FloatArray) -> PlanRequest:
    """The request as ``SimPlanSource`` built it per re-plan before the daily series."""
    w = ctx.world
    grid = sim_planning_grid(w, t)
    span = int(np.searchsorted(w.grid.edges_s, grid.edges_s[-1])) - t
    imp, exp = scratch_known_prices(ctx, t, span)
    edges = w.grid.edges_s[t : t + span + 1]
    forecast = measured_forecast(
        past_forecast(w, t, grid, prior), grid, state.plugged_in, state.settings
    )
    return plan_request(
        site_with_settings(w.site, state.settings),
        grid,
        forecast,
        state.soc_pct,
        price_import=step_means(edges, imp, grid),
        price_export=step_means(edges, exp, grid),
    )


def assert_identical(a: Any, b: Any, where: str = "request") -> None:
    """Every field equal, arrays to the bit (shape, dtype and values)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_identical(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        assert a.shape == b.shape and np.array_equal(a, b), where
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


def state_at(world: World, t: int, settings: Settings, soc_pct: float) -> PlanState:
    names = [vw.name for vw in world.vehicles]
    soc = {name: soc_pct for name in names} | {"battery": 100.0 - soc_pct}
    plugged = {vw.name: bool(vw.plugged_in[t]) != (t % 2 == 1) for vw in world.vehicles}
    now = datetime.fromtimestamp(int(world.grid.edges_s[t]), UTC)
    return PlanState(now, soc, plugged, settings)


def settings_at(world: World, k: int) -> Settings:
    """The site file's preferences, or (every third re-plan) a household that allows V2G, sets a
    departure 20 hours ahead and a target: the site object then changes between re-plans."""
    prefs = world.site.preferences
    if k % 3 != 2:
        return Settings(v2g_allowed=prefs.v2g_allowed, backup_reserve_h=prefs.backup_reserve_h)
    return Settings(
        v2g_allowed=not prefs.v2g_allowed,
        backup_reserve_h=prefs.backup_reserve_h,
        vehicles={
            vw.name: VehicleSettings(
                departure=world.grid.start + timedelta(hours=20 + 24 * (k % DAYS)),
                target_soc_pct=85.0,
            )
            for vw in world.vehicles
        },
    )


@pytest.fixture(scope="module", params=sorted(STARTS))
def world(request: pytest.FixtureRequest) -> World:
    site = load_site(EXAMPLES / f"{request.param}.toml")
    start = datetime.fromisoformat(STARTS[request.param])
    return build_world(site, start.replace(tzinfo=ZoneInfo(site.location.timezone)), DAYS)


def replan_steps(world: World) -> list[int]:
    zone = ZoneInfo(world.site.location.timezone)
    day0 = world.grid.start.astimezone(zone).date()
    steps = [
        world.grid.step_at(datetime.combine(day0 + timedelta(days=d), time.fromisoformat(hm), zone))
        for d, hm in TIMES
    ]
    steps.insert(-1, world.n_sim - 1)  # a plan of one world step
    assert all(0 <= t < world.n_sim for t in steps)
    return steps


def test_sliced_inputs_are_the_requests_built_from_scratch(world: World) -> None:
    fast_ctx, scratch_ctx = context(world), context(world)
    prior = site_prior_load(scratch_ctx)
    inputs = SimPlanInputs(fast_ctx, prior)
    for k, t in enumerate(replan_steps(world)):
        state = state_at(world, t, settings_at(world, k), soc_pct=30.0 + 5 * k)
        fast = inputs.request(t, state)
        assert_identical(fast, scratch_request(scratch_ctx, t, state, prior), f"step {t}")
    # the same publications were forecast (here the two whose plans reach past them)
    assert fast_ctx.price_forecasts.keys() == scratch_ctx.price_forecasts.keys()
    if world.site.tariff.import_.series is not None:
        assert len(fast_ctx.price_forecasts) == 2


def test_sliced_inputs_never_read_the_future(world: World) -> None:
    """As ``past_forecast`` (``test_simulate.py``): what happens from step t on, measured PV and
    load, whether the cars are home later and what they drive, changes no request at t."""
    prior = site_prior_load(context(world))
    for t in replan_steps(world)[1::3]:
        state = state_at(world, t, settings_at(world, 0), soc_pct=50.0)
        honest = SimPlanInputs(context(world), prior).request(t, state)
        poisoned = copy.deepcopy(world)
        poisoned.load_forecasts.clear()
        poisoned.pv_indices.clear()
        poisoned.pv_kw[t:] = np.nan
        poisoned.load_kw[t:] = np.nan
        for vw in poisoned.vehicles:
            vw.plugged_in[t + 1 :] = ~vw.plugged_in[t + 1 :]
            vw.driving_kwh[t:] = np.nan
        assert_identical(SimPlanInputs(context(poisoned), prior).request(t, state), honest)


def test_stacked_step_means_equal_step_means_off_the_sample_edges() -> None:
    """Plan edges between sample edges take the interpolated path; each row stays the one-row
    ``step_means`` to the bit (values of very different size, so rounding would show)."""
    rng = np.random.default_rng(3)
    samples = np.arange(0, 7200 + 1, 300, dtype=np.int64)
    values = rng.uniform(-1, 1, (3, samples.size - 1)) * np.array([[1e-3], [1.0], [1e4]])
    for edges in ([100, 700, 2000, 7000], [0, 300, 900, 4500, 7200], [10, 20]):
        grid = TimeGrid(np.array(edges, dtype=np.int64))
        got = stacked_step_means(samples, values, grid)
        for row in range(3):
            assert np.array_equal(got[row], step_means(samples, values[row], grid))
    with pytest.raises(ValueError, match="cover"):
        stacked_step_means(samples, values, TimeGrid(np.array([0, 7500], dtype=np.int64)))


def test_plan_request_resolves_a_site_anew_when_given_another_sites_constants(
    world: World,
) -> None:
    """Constants are used only for the very site object they were made from: the household's
    settings make a new site (here V2G flipped and a departure target), whose limits differ."""
    t = replan_steps(world)[3]
    grid = sim_planning_grid(world, t)
    forecast = past_forecast(world, t, grid, site_prior_load(context(world)))
    changed = site_with_settings(world.site, settings_at(world, 2))
    assert changed is not world.site
    stale = site_constants(world.site)
    got = plan_request(changed, grid, forecast, {}, constants=stale)
    assert_identical(got, plan_request(changed, grid, forecast, {}))
    assert_identical(
        plan_request(world.site, grid, forecast, {}, constants=stale),
        plan_request(world.site, grid, forecast, {}),
    )


def test_site_constants_coverage_warnings_are_the_tariffs() -> None:
    """The price series' coverage read once says the same as reading the series per plan:
    nothing inside it, the fallback or repetition sentence for a plan reaching past either end."""
    site = load_site(EXAMPLES / "sigen-dynamic-germany.toml")
    constants = site_constants(site)
    spec = constants.tariff.import_.series
    assert spec is not None and (spec.repeat or spec.fallback_rate is not None)
    data = load_series(spec.file)
    first, end = int(data.starts_s[0]), data.end_s
    said = []
    for lo, hi in (
        (first, first + 86400),
        (first + 3600, end),
        (first - 3600, first + 86400),
        (end - 86400, end + 900),
        (end + 86400, end + 3 * 86400),
        (first - 86400, end + 86400),
    ):
        grid = TimeGrid(np.array([lo, (lo + hi) // 2, hi], dtype=np.int64))
        got = constants.coverage_warnings(grid)
        assert got == coverage_warnings(constants.tariff, grid), (lo, hi)
        said.append(bool(got))
    assert said == [False, False, True, True, True, True]


def test_edge_indices_are_the_grids_edge_index() -> None:
    """Departures' edges found in one search are ``TimeGrid.edge_index`` of each: before the
    grid, on an edge, inside a step, on the last edge and after it."""
    grid = TimeGrid(np.array([3600, 4500, 5400, 9000], dtype=np.int64))
    moments = [
        datetime.fromtimestamp(s, UTC) for s in (0, 3600, 3601, 4499, 4500, 8999, 9000, 90000)
    ]
    moments.append(datetime.fromtimestamp(5000, ZoneInfo("Europe/Berlin")))  # any zone
    assert edge_indices(grid, moments) == [grid.edge_index(m) for m in moments]
    assert edge_indices(grid, moments) == [0, 0, 0, 0, 1, 2, 3, 3, 1]
    assert edge_indices(grid, []) == []
    with pytest.raises(ValueError, match="timezone"):
        edge_indices(grid, [datetime(2026, 1, 1)])
