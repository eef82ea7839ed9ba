"""DecideInput: a tick's inputs as one typed value; only a switch read open this tick counts as
open, so an unknown switch never lets a storage power the house off the grid."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from tests.control.harness import CAR, site
from voltbridge.control.decide import DecideInput, decide
from voltbridge.control.io import Snapshot
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
