"""Planner, controller and simulator read one resolution of a car's limits and agree on it.

Each of the three is built from the same site the way it is at run time (the planner's storage,
the controller's per-tick limits from ``decide``, the simulator's strategy parameters), and every
value is compared: discharge power, export, SoC floor, departure target and warranty budget.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voltbridge.config import Site, parse_site, resolve_vehicles
from voltbridge.config.vehicle_limits import site_car_limits
from voltbridge.control.decide import _storages
from voltbridge.control.io import Snapshot
from voltbridge.control.site_model import control_site
from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import Measurement
from voltbridge.forecast.trips import Availability
from voltbridge.planner.from_site import vehicle_storage
from voltbridge.sim.context import plant_models, storage_params
from voltbridge.sim.world import build_world

EXAMPLES = Path(__file__).parents[2] / "src" / "voltbridge" / "examples"
START = datetime(2026, 3, 2, tzinfo=UTC)
HOURS = 24


def leaf_site(
    car: dict[str, Any],
    charger: dict[str, Any],
    v2g_allowed: bool,
    prefs: dict[str, Any] | None = None,
) -> Site:
    """The Bristol example with one custom car and charger (export policy "any")."""
    raw = tomllib.loads((EXAMPLES / "leaf-uk-v2g.toml").read_text())
    base_car = {
        "name": "car",
        "usable_kwh": 60.0,
        "consumption_kwh_per_km": 0.17,
        "max_charge_kw": 7.0,
        "max_discharge_kw": 6.0,
        "chemistry": "nmc",
        "connector": "chademo",
        "v2x_protocols": ["chademo"],
        "initial_soc_pct": 60,
        "trips": [{"days": ["tue"], "depart": "08:00", "return": "18:00", "km": 40}],
    }
    base_charger = {
        "current": "dc",
        "max_charge_kw": 7.4,
        "max_discharge_kw": 7.4,
        "efficiency": 0.9,
        "connector": "chademo",
        "v2x_protocols": ["chademo"],
    }
    raw["vehicles"] = [{**base_car, **car, "charger": {**base_charger, **charger}}]
    raw["preferences"] = {
        **raw["preferences"],
        "mobility_reserve_pct": 20,
        "v2g_allowed": v2g_allowed,
        **(prefs or {}),
    }
    return parse_site(raw, EXAMPLES / "leaf-uk-v2g.toml")


WARRANTY = {"warranty_discharge_limit_kwh": 8760.0, "warranty_years": 10.0}
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], bool]] = {
    # V2G only (no V2H), the household has V2G off: the car may not discharge at all
    "v2g-only, v2g off": (
        {"v2h": False, "v2g": True, "discharge_floor_pct": 30.0, **WARRANTY},
        {"v2h": False, "v2g": True},
        False,
    ),
    "v2g-only, v2g on": (
        {"v2h": False, "v2g": True, "discharge_floor_pct": 30.0, **WARRANTY},
        {"v2h": False, "v2g": True},
        True,
    ),
    "v2h and v2g, v2g off": (
        {"v2h": True, "v2g": True, "discharge_floor_pct": 10.0, "mobility_reserve_pct": 25.0},
        {"v2h": True, "v2g": True},
        False,
    ),
    # a one-way charger: the maker's discharge floor says nothing about this car
    "one-way charger": (
        {"v2h": True, "v2g": True, "discharge_floor_pct": 40.0, "departure_soc_pct": 90.0},
        {"v2h": False, "v2g": False, "max_discharge_kw": 0.0},
        False,
    ),
}


def three_views(site: Site) -> dict[str, dict[str, object]]:
    """The car's values as the planner, the controller and the simulator use them."""
    rv = resolve_vehicles(site)[0]
    grid = TimeGrid.regular(START, HOURS, 60)
    plugged = np.ones(grid.n, dtype=bool)
    avail = Availability(plugged, np.zeros(grid.n), (START + timedelta(hours=12),))
    spec = vehicle_storage(site, rv, avail, grid, 50.0)
    planner: dict[str, object] = {
        "max_discharge_kw": float(spec.max_discharge_kw[0]),
        "can_export": spec.can_export,
        "floor_kwh": float(spec.reserve_kwh[0]),
        "target_kwh": spec.departures[0].target_kwh,
        "budget_kwh_per_h": (  # one whole day's allowance a window (nothing counted yet)
            max(w.stored_kwh for w in spec.budget_windows) / 24.0 if spec.budget_windows else None
        ),
    }
    csite = control_site(site)
    v = csite.vehicles[0]
    snap = Snapshot(
        storages={v.name: Measurement(v.name, START, power_kw=0.0, soc_kwh=30.0)},
        plugged_in={v.name: True},
    )
    track, _, limits = _storages(csite, csite.defaults, snap, False, 30.0, {})
    lim = limits[v.name]
    controller: dict[str, object] = {
        "max_discharge_kw": lim.max_discharge_kw,
        "can_export": lim.can_export,
        "floor_kwh": lim.soc_floor_kwh,
        "target_kwh": track[0].target_kwh,
        "budget_kwh_per_h": v.discharge_budget_kwh_per_h if lim.max_discharge_kw > 0 else None,
    }
    p = storage_params(build_world(site, START, 1, seed=0))[0]
    simulator: dict[str, object] = {
        "max_discharge_kw": p.max_discharge_kw,
        "can_export": p.can_export,
        "floor_kwh": p.reserve_kwh,
        "target_kwh": p.target_kwh,
        "budget_kwh_per_h": getattr(p, "discharge_budget_kwh_per_h", "absent"),
    }
    return {"planner": planner, "controller": controller, "simulator": simulator}


@pytest.mark.parametrize("case", CASES)
def test_planner_controller_and_simulator_agree(case: str) -> None:
    car, charger, v2g = CASES[case]
    site = leaf_site(car, charger, v2g)
    views = three_views(site)
    for key in views["planner"]:
        seen = {who: views[who][key] for who in views}
        values = list(seen.values())
        assert all(x == pytest.approx(values[0]) for x in values), f"{key}: {seen}"
    # and they all equal the one resolution, computed here by hand
    lim = site_car_limits(site)[0]
    assert views["planner"]["floor_kwh"] == pytest.approx(lim.reserve_kwh)
    assert views["planner"]["max_discharge_kw"] == pytest.approx(lim.max_discharge_kw)


def test_hand_computed_values() -> None:
    """The rules written out: V2G-only with V2G off may not discharge, so neither the maker's
    floor nor the warranty budget applies; with V2G on both do."""
    off = site_car_limits(leaf_site(*CASES["v2g-only, v2g off"]))[0]
    assert off.max_discharge_kw == 0.0
    assert off.reserve_kwh == pytest.approx(0.20 * 60.0)
    assert off.discharge_budget_kwh_per_h is None
    on = site_car_limits(leaf_site(*CASES["v2g-only, v2g on"]))[0]
    assert on.max_discharge_kw == 6.0
    assert on.reserve_kwh == pytest.approx(0.30 * 60.0)
    assert on.discharge_budget_kwh_per_h == pytest.approx(8760.0 / (10 * 8760.0))
    one_way = site_car_limits(leaf_site(*CASES["one-way charger"]))[0]
    assert one_way.reserve_kwh == pytest.approx(0.20 * 60.0)
    assert one_way.target_kwh == pytest.approx(0.90 * 60.0)


OUTAGE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], float]] = {
    # (car, household preferences, outage floor [%]); the mobility reserve is 20 %
    "unset: 10 %": ({}, {}, 10.0),
    "the maker's floor is kept": ({"discharge_floor_pct": 15.0}, {}, 15.0),
    "the household's": ({}, {"outage_reserve_pct": 5.0}, 5.0),
    "the car's over the household's": (
        {"outage_reserve_pct": 12.0},
        {"outage_reserve_pct": 5.0},
        12.0,
    ),
    "unset, mobility reserve below 10 %": ({"mobility_reserve_pct": 8.0}, {}, 8.0),
    "kept at the mobility reserve": ({}, {"outage_reserve_pct": 20.0}, 20.0),
}


@pytest.mark.parametrize("case", OUTAGE_CASES)
def test_outage_floor_resolved_once_and_read_by_controller_and_simulator(case: str) -> None:
    """In an outage the essential circuits may use a car below its mobility reserve, down to
    its outage reserve: the controller islanded (the guard's floor and the island's floor for
    the essentials) and the simulator's backup hardware read the same value; the whole house
    still stops at the mobility reserve."""
    car, prefs, pct = OUTAGE_CASES[case]
    site = leaf_site({**car, "v2h": True}, {"v2h": True}, False, prefs)
    lim = site_car_limits(site)[0]
    assert lim.outage_floor_kwh == pytest.approx(pct / 100 * 60.0)
    csite = control_site(site)
    v = csite.vehicles[0]
    snap = Snapshot(
        storages={v.name: Measurement(v.name, START, power_kw=0.0, soc_kwh=30.0)},
        plugged_in={v.name: True},
    )
    _, island, limits = _storages(csite, csite.defaults, snap, True, 30.0, {})
    assert limits[v.name].soc_floor_kwh == pytest.approx(lim.outage_floor_kwh)
    assert island[0].floor_kwh == pytest.approx(lim.outage_floor_kwh)
    assert island[0].reserve_kwh == pytest.approx(lim.reserve_kwh)
    # on grid nothing changes: the mobility reserve is the floor
    _, _, on_grid = _storages(csite, csite.defaults, snap, False, 30.0, {})
    assert on_grid[v.name].soc_floor_kwh == pytest.approx(lim.reserve_kwh)
    world = build_world(site, START, 1, seed=0)
    p = storage_params(world)[0]
    assert p.outage_floor_kwh == pytest.approx(lim.outage_floor_kwh)
    assert plant_models(world, [p])[0].outage_floor_kwh == pytest.approx(lim.outage_floor_kwh)


@pytest.mark.parametrize(
    ("car", "prefs", "field"),
    [
        ({}, {"outage_reserve_pct": 30.0}, "preferences.outage_reserve_pct"),
        ({"outage_reserve_pct": 25.0}, {}, "vehicles.car.outage_reserve_pct"),
        ({"mobility_reserve_pct": 10.0}, {"outage_reserve_pct": 15.0}, "preferences."),
    ],
)
def test_an_outage_reserve_above_the_mobility_reserve_is_refused(
    car: dict[str, Any], prefs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        leaf_site({**car, "v2h": True}, {"v2h": True}, False, prefs)
