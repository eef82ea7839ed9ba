"""Storm watch in the plan: the backup requirement rises to the storm target over an announced
window, and the real planner fills the storages before it at the cheapest steps it can."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from voltbridge.config import HomeBattery, load_site
from voltbridge.core.timegrid import TimeGrid
from voltbridge.forecast import forecast_site
from voltbridge.planner import Planner
from voltbridge.planner.from_site import plan_request
from voltbridge.programs.events import AnnouncedOutage

EV9 = Path(__file__).parents[2] / "src/voltbridge/examples/ev9-california.toml"
NOW = datetime(2026, 7, 4, 21, 0, tzinfo=UTC)  # 14:00 on a Saturday in California: the car is back


def ev9_with_battery():  # type: ignore[no-untyped-def]
    site = load_site(EV9)
    return site.model_copy(
        update={"battery": HomeBattery(usable_kwh=10.0, max_charge_kw=5.0, max_discharge_kw=5.0)}
    )


def test_requirement_is_the_larger_of_backup_and_storm_target_hand_computed() -> None:
    site = ev9_with_battery()
    grid = TimeGrid.regular(NOW, 24, 60)
    fc = forecast_site(site, grid)
    # the outage from NOW+10 h to NOW+14 h, lead 1 h: storm watch at edges 9..13
    o = AnnouncedOutage("psps", NOW + timedelta(hours=10), NOW + timedelta(hours=14))
    plain = plan_request(site, grid, fc, {"ev9": 50.0, "battery": 50.0})
    storm = plan_request(site, grid, fc, {"ev9": 50.0, "battery": 50.0}, announced=[o])
    assert plain.backup_kwh is not None and storm.backup_kwh is not None
    car = next(s for s in storm.storages if s.kind == "vehicle")
    batt = next(s for s in storm.storages if s.kind == "battery")
    # the car's departure target and reserve from the site file (80 % and 25 % of its capacity)
    target = 0.80 * car.capacity_kwh - 0.25 * car.capacity_kwh
    battery = batt.max_soc_kwh - float(batt.reserve_kwh[0])  # 10 - 1 kWh (10 % minimum)
    for k in range(grid.n + 1):
        if 9 <= k <= 13:
            held = car.backup_counts is not None and car.backup_counts[k] > 0
            want = (target if held else 0.0) + battery
            assert storm.backup_kwh[k] == max(plain.backup_kwh[k], want), k
        else:
            assert storm.backup_kwh[k] == plain.backup_kwh[k], k


def test_the_plan_fills_before_the_start_at_the_cheapest_steps() -> None:
    site = load_site(EV9)
    grid = TimeGrid.regular(NOW, 48, 60)
    fc = forecast_site(site, grid)
    start = NOW + timedelta(hours=27)  # Sunday 17:00 local, the evening peak
    o = AnnouncedOutage("psps", start, start + timedelta(hours=24))
    soc = {"ev9": 40.0}
    plain = Planner().plan(plan_request(site, grid, fc, soc))
    storm = Planner().plan(plan_request(site, grid, fc, soc, announced=[o]))
    k_watch = grid.edge_index(start - timedelta(hours=1))
    car, car0 = storm.storage("ev9"), plain.storage("ev9")
    target = 0.80 * car.capacity_kwh
    assert car.plugged_in[:k_watch].all()  # a weekend at home: nothing in the way
    assert float(car.soc_kwh[k_watch]) >= target - 1e-3
    assert float(car0.soc_kwh[k_watch]) < target - 1.0  # the announcement made the difference
    assert storm.slack.get("backup_reserve", 0.0) < 1e-6
    # what the grid gives the car before the watch comes at the cheapest price there is (the
    # rest is PV that would otherwise be exported)
    price = storm.price_import[:k_watch]
    from_grid = (car.power_kw[:k_watch] > 1e-6) & (storm.grid_kw[:k_watch] > 1e-6)
    assert from_grid.any()
    assert float(price[from_grid].max()) <= float(price.min()) + 1e-9
    # held over the window while the car is at home (it still commutes on Monday morning)
    k_end = grid.edge_index(o.end)
    home = np.concatenate(([True], car.plugged_in))[k_watch:k_end]
    assert np.all(car.soc_kwh[k_watch:k_end][home] >= target - 1e-3)
