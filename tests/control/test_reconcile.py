"""Start-up reconciliation: a transfer switch found open islands the house again (storages to
0 kW, switch open, backup operation, in that order) and the grid-state machine then waits the
full enter-service delay; backup operation found on a closed switch is ended; a storage whose
mode cannot be read is no reason to act."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.control.fakes import FakeBackupCharger, FakeBattery, FakeMeter, FakeSwitch, codes
from voltbridge.control.events import EventLog
from voltbridge.control.faults import FaultBook
from voltbridge.control.grid_state import GridLimits, GridReading, GridStateMachine
from voltbridge.control.io import DeviceSet, Snapshot
from voltbridge.control.outage import OutageSteps
from voltbridge.control.reconcile import backup_modes, reconcile
from voltbridge.control.writer import DeviceWriter
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventCode, EventKind, NullRecorder
from voltbridge.core.types import GridState

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
DELAY_S = 300.0


class House:
    """A charger with backup operation, a battery without, and (optionally) a transfer switch."""

    def __init__(self, switch_closed: bool | None = True, ev_backup: bool = False) -> None:
        self.journal: list[tuple[str, str, Any]] = []
        self.ev = FakeBackupCharger("ev", backup=ev_backup)
        self.battery = FakeBattery()
        self.switch = None if switch_closed is None else FakeSwitch(switch_closed)
        for dev in (self.ev, self.battery, self.switch):
            if dev is not None:
                dev.journal = self.journal
        self.devices = DeviceSet(
            meter=FakeMeter(),
            chargers={"ev": self.ev},
            battery=self.battery,
            transfer=self.switch,
        )
        self.log = EventLog(VirtualClock(T0), NullRecorder())
        writer = DeviceWriter(self.devices, FaultBook(self.log), self.log, timeout_s=5.0)
        self.outage = OutageSteps(self.devices, writer, self.log, ["fridge"])
        self.grid = GridStateMachine(GridLimits(240.0, 60.0, enter_service_delay_s=DELAY_S))

    def reconcile(self, timeout_s: float = 5.0) -> None:
        closed = None if self.switch is None else self.switch.closed
        snap = Snapshot(transfer_closed=closed)
        asyncio.run(reconcile(snap, T0, self.devices, self.grid, self.outage, self.log, timeout_s))


def normal(after_s: float) -> GridReading:
    return GridReading(T0 + timedelta(seconds=after_s), voltage_v=240.0, frequency_hz=60.0)


def test_a_switch_found_open_islands_the_house_again_in_the_safe_order() -> None:
    h = House(switch_closed=False, ev_backup=True)
    h.reconcile()
    assert h.grid.state is GridState.ISLANDED
    assert h.journal == [
        ("ev", "set_charge_power", 0.0),
        ("battery", "set_battery_power", 0.0),
        ("transfer switch", "set_transfer", False),
        ("ev", "set_backup_mode", True),
    ]
    [event] = h.log.recent
    assert (event.kind, event.code) == (EventKind.GRID, EventCode.RECONCILED)
    assert event.message == (
        "grid on_grid → islanded: transfer switch found open at start: the house is islanded; "
        "it reconnects after 300 s of normal grid"
    )
    assert event.data == {
        "transfer_closed": False,
        "backup_mode": {"ev": True},  # the battery has no backup operation to read
        "old": "on_grid",
        "new": "islanded",
        "code": "reconciled",
    }


def test_after_a_switch_found_open_the_house_reconnects_only_after_the_full_delay() -> None:
    h = House(switch_closed=False)
    h.grid.update(normal(-600))  # the grid was fine long before the restart ...
    h.reconcile()
    assert [e.new for e in h.grid.update(normal(1))] == [GridState.RESTORING]
    for s in range(2, 301):  # ... but the wait starts again after it
        assert h.grid.update(normal(s)) == []
    assert h.grid.restoring_remaining_s(T0 + timedelta(seconds=300)) == 1.0
    assert [e.new for e in h.grid.update(normal(301))] == [GridState.ON_GRID]


def test_backup_operation_on_a_closed_switch_is_ended() -> None:
    h = House(switch_closed=True, ev_backup=True)
    h.reconcile()
    assert h.grid.state is GridState.ON_GRID
    assert h.journal == [("ev", "set_backup_mode", False)] and h.ev.backup is False
    [event] = h.log.recent
    assert event.code is EventCode.RECONCILED
    assert event.message == "ev found in backup operation at start on a closed switch: leaving it"
    assert event.data["backup_mode"] == {"ev": True} and event.data["transfer_closed"] is True


def test_without_a_switch_backup_operation_is_ended_too() -> None:
    h = House(switch_closed=None, ev_backup=True)
    h.reconcile()
    assert h.journal == [("ev", "set_backup_mode", False)]
    assert h.grid.state is GridState.ON_GRID


def test_a_house_found_as_it_should_be_is_left_alone() -> None:
    h = House(switch_closed=True, ev_backup=False)
    h.reconcile()
    assert h.journal == [] and list(h.log.recent) == []
    assert h.grid.state is GridState.ON_GRID


def test_a_mode_that_cannot_be_read_is_unknown_and_no_reason_to_act() -> None:
    h = House(switch_closed=True, ev_backup=True)
    h.ev.backup_error = ConnectionError("reset")
    assert asyncio.run(backup_modes(h.devices, 5.0)) == {"ev": None}
    h.reconcile()
    assert h.journal == [] and codes(h.log.recent) == []


def test_a_switch_that_cannot_be_read_leaves_backup_operation_alone() -> None:
    # the house may be islanded on it: ending backup operation would black it out
    h = House(switch_closed=True, ev_backup=True)
    snap = Snapshot(transfer_closed=None)
    asyncio.run(reconcile(snap, T0, h.devices, h.grid, h.outage, h.log, 5.0))
    assert h.journal == [] and h.ev.backup is True
