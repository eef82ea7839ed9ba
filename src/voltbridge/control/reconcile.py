"""At start, take the house from the state it is really in (a restart never leaves it islanded
on a live grid, nor in backup operation on a closed switch).

- The transfer switch found open: the house is islanded. The grid-state machine starts
  ISLANDED and the islanding steps run again (storages to 0, switch open, backup operation);
  the house reconnects through the usual path, after the enter-service delay on a normal grid,
  or stays islanded while the grid is absent.
- The switch read closed (or no switch) but a storage in backup operation: backup operation
  ends. A switch that cannot be read changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from voltbridge.control.events import EventLog
from voltbridge.control.grid_state import GridStateMachine
from voltbridge.control.io import DeviceSet, Snapshot, guarded_call
from voltbridge.control.outage import OutageSteps
from voltbridge.core.status import EventCode, EventKind
from voltbridge.devices.capabilities import BackupCapable


async def backup_modes(devices: DeviceSet, timeout_s: float) -> dict[str, bool | None]:
    """Whether each storage that has backup operation is in it now (None: it did not answer)."""
    found: list[tuple[str, object]] = list(devices.chargers.items())
    if devices.battery is not None:
        found.append(("battery", devices.battery))
    out: dict[str, bool | None] = {}
    for name, dev in found:
        if isinstance(dev, BackupCapable):
            out[name] = await guarded_call(name, dev.backup_mode, timeout_s, {})
    return out


async def reconcile(
    snap: Snapshot,
    now: datetime,
    devices: DeviceSet,
    grid: GridStateMachine,
    outage: OutageSteps,
    events: EventLog,
    timeout_s: float,
) -> None:
    """Reconcile the controller with the house at start (see the module docstring)."""
    backup = await backup_modes(devices, timeout_s)
    found: dict[str, object] = {"transfer_closed": snap.transfer_closed, "backup_mode": backup}
    if snap.transfer_closed is False:
        event = grid.resume_islanded(
            now, "transfer switch found open at start: the house is islanded"
        )
        events.emit(
            EventKind.GRID,
            EventCode.RECONCILED,
            f"grid {event.old.value} → {event.new.value}: {event.reason}; "
            f"it reconnects after {grid.limits.enter_service_delay_s:g} s of normal grid",
            data={**found, "old": event.old.value, "new": event.new.value},
        )
        await outage.island(now)
    elif any(backup.values()) and (devices.transfer is None or snap.transfer_closed is True):
        # only on a switch read closed: with its state unknown the house may be islanded, and
        # ending backup operation then would black it out
        on = sorted(n for n, b in backup.items() if b)
        events.emit(
            EventKind.GRID,
            EventCode.RECONCILED,
            f"{', '.join(on)} found in backup operation at start on a closed switch: leaving it",
            data=found,
        )
        await outage.backup_mode(False, "start: switch closed")
