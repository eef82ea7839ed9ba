"""Which devices are at fault, and why: read faults come fresh from every tick's snapshot (and
stale data), write faults last until the device takes a write again. Each start and end of a
fault is one event; software errors also log their traceback, once per device and kind."""

from __future__ import annotations

import logging
from datetime import datetime

from voltbridge.control.events import EventLog
from voltbridge.control.io import Snapshot
from voltbridge.core.status import EventCode, EventKind

log = logging.getLogger("voltbridge.control")


class FaultBook:
    """The faults of one home's devices (see the module docstring)."""

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.read: dict[str, str] = {}
        self.write: dict[str, str] = {}
        self._bugs_logged: set[tuple[str, str]] = set()

    def has(self, name: str) -> bool:
        """Whether ``name`` is at fault now (its data cannot be used or it refuses writes)."""
        return name in self.read or name in self.write

    def all(self) -> dict[str, str]:
        """Every fault now, by device: why, in words."""
        return {**self.write, **self.read}

    def add(self, name: str, why: str) -> bool:
        """A write to ``name`` failed; True when this starts a fault (the caller records it)."""
        new = not self.has(name)
        self.write[name] = why
        return new

    def wrote(self, name: str) -> None:
        """A write to ``name`` succeeded: a write fault ends."""
        if self.write.pop(name, None) is not None and name not in self.read:
            self.events.emit(
                EventKind.FAULT,
                EventCode.DEVICE_RECOVERED,
                f"{name}: takes commands again",
                device=name,
            )

    def note(
        self, snap: Snapshot, now: datetime, stale_after_s: float, grid_stale_after_s: float
    ) -> set[str]:
        """Take this tick's read faults (and stale data) from ``snap``; return the devices that
        answer again with fresh data."""
        stale = dict(snap.faults)
        for name, m in snap.storages.items():
            if m is None:
                continue
            age = (now - m.at).total_seconds()
            if age > stale_after_s:
                stale[name] = f"stale data: last reading {age:.0f} s old"
            elif -age > stale_after_s:  # the guard refuses it too: say why
                stale[name] = f"clock mismatch: reading dated {-age:.0f} s in the future"
        if snap.grid is not None:
            age = (now - snap.grid.at).total_seconds()
            if age > grid_stale_after_s:
                stale["meter"] = f"stale data: last reading {age:.0f} s old"
            elif -age > grid_stale_after_s:  # the grid-state machine cannot judge it either
                stale["meter"] = f"clock mismatch: reading dated {-age:.0f} s in the future"
        for name, err in snap.bugs.items():
            kind = type(err).__name__
            if (name, kind) not in self._bugs_logged:
                self._bugs_logged.add((name, kind))
                log.error("driver error reading %s", name, exc_info=err)
        for name, why in stale.items():
            if not self.has(name):
                bug = name in snap.bugs
                self.events.emit(
                    EventKind.FAULT,
                    EventCode.SOFTWARE_FAULT if bug else EventCode.DEVICE_FAULT,
                    f"{name}: {why}" + ("; please report it" if bug else ""),
                    device=name,
                )
        recovered = set(self.read) - set(stale)
        for name in sorted(recovered):
            self.write.pop(name, None)
            self.events.emit(
                EventKind.FAULT,
                EventCode.DEVICE_RECOVERED,
                f"{name}: answering again with fresh data",
                device=name,
            )
        self.read = stale
        return recovered
