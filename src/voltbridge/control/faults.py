"""Which devices are at fault, and why: read faults come fresh from every tick's snapshot (and
stale data), write faults last until the device takes a write again. Each start and end of a
fault is one event; software errors also log their traceback, once per device and kind.

At start a device may not answer yet (an OCPP charger connects to us when it is ready): a device
that has failed every read since the first tick is *waiting*, not at fault, for ``grace_s`` of
the controller's clock. It says "waiting for the charger" once (its data is still not used and it
gets no command), and "connected" when it first answers; after the grace period it is a fault
like any other. A device that has answered once is at fault at once when it stops."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from voltbridge.control.events import EventLog
from voltbridge.control.io import Snapshot
from voltbridge.core.status import EventCode, EventKind

log = logging.getLogger("voltbridge.control")


class FaultBook:
    """The faults of one home's devices (see the module docstring)."""

    def __init__(self, events: EventLog, grace_s: float = 0.0) -> None:
        if grace_s < 0:
            raise ValueError(f"grace_s is {grace_s}; it must be >= 0 [s]")
        self.events = events
        self.grace = timedelta(seconds=grace_s)
        self.read: dict[str, str] = {}
        self.write: dict[str, str] = {}
        self._bugs_logged: set[tuple[str, str]] = set()
        self._started: datetime | None = None
        self._silent: set[str] | None = None
        """Devices that have failed every read since the first tick (None before it)."""
        self.waiting: set[str] = set()
        """Devices said to be waiting (never answered, within the grace period)."""

    def has(self, name: str) -> bool:
        """Whether ``name`` is at fault now (its data cannot be used or it refuses writes)."""
        return name in self.read or name in self.write

    def all(self) -> dict[str, str]:
        """Every fault now, by device: why, in words."""
        return {**self.write, **self.read}

    def add(self, name: str, why: str) -> bool:
        """A write to ``name`` failed; True when this starts a fault (the caller records it).
        A waiting device is expected to refuse: that is no fault of its own."""
        if name in self.waiting:
            return False
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
        if self._started is None:
            self._started, self._silent = now, set(stale)
        assert self._silent is not None
        self._silent &= set(stale)  # a device that answered once is no longer silent
        in_grace = now - self._started < self.grace
        read: dict[str, str] = {}
        for name, why in stale.items():
            if in_grace and name in self._silent and name not in snap.bugs:
                read[name] = f"waiting for {what(name)} to connect"
                if name not in self.waiting:
                    self.waiting.add(name)
                    self.events.emit(
                        EventKind.FAULT,
                        EventCode.DEVICE_WAITING,
                        f"{name}: waiting for {what(name)} to connect",
                        device=name,
                    )
                continue
            read[name] = why
            if not self.has(name) or name in self.waiting:
                self.waiting.discard(name)
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
            first = name in self.waiting
            self.waiting.discard(name)
            self.events.emit(
                EventKind.FAULT,
                EventCode.DEVICE_RECOVERED,
                f"{name}: connected" if first else f"{name}: answering again with fresh data",
                device=name,
            )
        self.read = read
        return recovered


def what(name: str) -> str:
    """The device ``name`` in words; a name that is none of the home's fixed devices is a car's,
    read through its charger."""
    return FIXED_DEVICES.get(name, "the charger")


FIXED_DEVICES = {
    "meter": "the meter",
    "grid sensor": "the grid sensor",
    "load meter": "the load meter",
    "pv": "the PV inverter",
    "battery": "the battery",
    "relay": "the relay",
    "transfer switch": "the transfer switch",
}
