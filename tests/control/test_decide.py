"""DecideInput: a tick's inputs as one typed value; only a switch read open this tick counts as
open, so an unknown switch never lets a storage power the house off the grid."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from tests.control.harness import CAR, site
from voltbridge.control.decide import DecideInput, backup_floors, decide
from voltbridge.control.guard import StorageLimits
from voltbridge.control.io import Snapshot
from voltbridge.control.island import IslandStorage
from voltbridge.core.types import GridState, Measurement

T0 = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)


def inp(transfer_closed: bool | None, grid_state: GridState = GridState.ISLANDED) -> DecideInput:
    snap = Snapshot(
        storages={CAR: Measurement(CAR, T0, 0.0, soc_kwh=40.0)},
        plugged_in={CAR: True},
        transfer_closed=transfer_closed,
    )
    return DecideInput(
        site=site(),
        settings=site().defaults,
        snap=snap,
        now=T0,
        grid_state=grid_state,
        has_transfer=True,
        plan=None,
        load_kw=2.0,
        pv_kw=0.0,
        dt_h=2 / 3600,
        circuits={},
    )


@pytest.mark.parametrize(("closed", "open_"), [(False, True), (True, False), (None, False)])
def test_only_a_switch_read_open_counts_as_open(closed: bool | None, open_: bool) -> None:
    assert inp(closed).transfer_open is open_


def test_defaults_and_frozen() -> None:
    i = inp(False)
    assert (i.reconnected_s, i.ramp_s, i.stale_after_s, dict(i.budgets)) == (None, 300.0, 30.0, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        i.load_kw = 3.0  # type: ignore[misc]


def test_islanded_with_the_switch_state_unknown_nothing_discharges() -> None:
    d = decide(inp(None))
    assert d.setpoints == {CAR: 0.0} and d.islanded
    assert d.cannot_island == "transfer switch not confirmed open: storages stay at 0 kW"
    # read open: the car covers the house's 2 kW
    opened = decide(inp(False))
    assert opened.setpoints[CAR] == pytest.approx(-2.0) and opened.cannot_island == ""


def test_backup_floors_keep_the_reserve_as_a_total_over_the_storages_at_home() -> None:
    """4 kWh above its floor in the battery (eta 0.9: 3.6 kWh AC) and 10 kWh in the car (eta
    0.9: 9 kWh AC), 8 kWh AC wanted: the battery may go down to where the car alone covers it
    (it does: floor unchanged); the car to where battery + car make 8 kWh: 8 - 3.6 = 4.4 kWh AC
    of its own, 4.4 / 0.9 kWh above its reserve."""
    lim = {
        "battery": StorageLimits("battery", 5.0, 5.0, 10.0, soc_floor_kwh=1.0),
        "ev": StorageLimits("ev", 7.0, 7.0, 60.0, soc_floor_kwh=12.0),
        "away": StorageLimits("away", 7.0, 7.0, 60.0, soc_floor_kwh=12.0),
    }
    isl = [
        IslandStorage("battery", "battery", True, 5.0, 1.0, 10.0, 5.0, 5.0, 0.9),
        IslandStorage("ev", "vehicle", True, 22.0, 12.0, 60.0, 7.0, 7.0, 0.9),
        IslandStorage("away", "vehicle", False, 50.0, 12.0, 60.0, 7.0, 7.0, 0.9),
    ]
    out = backup_floors(lim, isl, 8.0)
    assert out["battery"].soc_floor_kwh == 1.0
    assert out["ev"].soc_floor_kwh == pytest.approx(12.0 + (8.0 - 3.6) / 0.9)
    assert out["away"].soc_floor_kwh == 12.0  # not at home: holds nothing for the house
    short = backup_floors(lim, isl, 20.0)  # more than both hold: neither discharges
    assert short["battery"].soc_floor_kwh > 5.0 and short["ev"].soc_floor_kwh > 22.0
    assert backup_floors(lim, isl, 0.0) == lim
