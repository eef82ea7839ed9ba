"""The controller's actions at the edges of an outage: islanding, reconnecting, shedding circuits.

The order of the steps is the safety argument, so it is kept in one place. Islanding: every
storage to 0 kW, then the transfer switch opens, then backup operation. Reconnecting (after the
enter-service delay): storages to 0 kW, backup operation off, the switch closes, circuits come
back, the ramp starts (the controller then clears a lowered outage reserve and re-plans).
"""

from __future__ import annotations

from datetime import datetime

from voltbridge.control.decide import Decision
from voltbridge.control.events import EventLog
from voltbridge.control.io import DeviceSet
from voltbridge.control.writer import DeviceWriter
from voltbridge.core.status import EventCode, EventKind
from voltbridge.devices.capabilities import BackupCapable


class OutageSteps:
    """Outage steps over one home's devices (see the module docstring).

    Attributes:
        circuits: the state each switchable circuit was last set to (True: on).
        reconnected_at: when the house last went back on the grid (the ramp's start), or None.
    """

    def __init__(
        self, devices: DeviceSet, writer: DeviceWriter, events: EventLog, circuits: list[str]
    ) -> None:
        self.devices, self.writer, self.events = devices, writer, events
        self.circuits: dict[str, bool] = dict.fromkeys(circuits, True)
        self.reconnected_at: datetime | None = None
        self._islanding_warned = False
        self._reserve_warned = False
        self._reopen_warned = False

    async def island(self, now: datetime) -> None:
        """Outage: stop every storage, open the transfer switch, then backup operation.

        Backup (grid-forming) operation starts only once the switch took the command to open:
        forming a grid behind a switch still joined to the utility's lines would energize them.
        A switch that did not open is opened again on later ticks (``keep_open``).
        """
        await self.writer.stop_storages(now, "outage: stop before islanding")
        self.reconnected_at = None
        self._islanding_warned = self._reserve_warned = self._reopen_warned = False
        opened = True
        if self.devices.transfer is not None:
            opened = await self.writer.write(
                "transfer switch", self.devices.transfer.set_transfer(False), "outage"
            )
        if opened:
            await self.backup_mode(True, "outage: backup operation")

    async def keep_open(self, now: datetime, transfer_closed: bool | None) -> bool:
        """Off grid with the transfer switch read closed (its opening failed, or somebody
        closed it by hand): storages to 0 kW, open it again, then backup operation. Returns
        whether an opening was commanded (the caller reads the switch again)."""
        if self.devices.transfer is None or transfer_closed is not True:
            return False
        if not self._reopen_warned:
            self._reopen_warned = True
            self.events.emit(
                EventKind.WARNING,
                EventCode.SWITCH_REOPENED,
                "transfer switch found closed during the outage: opening it again "
                "(storages stay at 0 kW until it reads open)",
                device="transfer switch",
            )
        await self.writer.stop_storages(now, "outage: transfer switch found closed")
        opened = await self.writer.write(
            "transfer switch", self.devices.transfer.set_transfer(False), "outage: reopen"
        )
        if opened:
            await self.backup_mode(True, "outage: backup operation")
        return True

    async def backup_mode(self, on: bool, why: str) -> None:
        """Backup operation on or off for every charger and battery that has one."""
        devices: list[tuple[str, object]] = list(self.devices.chargers.items())
        if self.devices.battery is not None:
            devices.append(("battery", self.devices.battery))
        for name, dev in devices:
            if isinstance(dev, BackupCapable):
                await self.writer.write(name, dev.set_backup_mode(on), why)

    async def reconnect(self, now: datetime) -> None:
        """Grid back for the enter-service delay: storages to 0, backup off, close, restore, ramp."""
        await self.writer.stop_storages(now, "reconnecting")
        await self.backup_mode(False, "reconnecting")
        if self.devices.transfer is not None:
            await self.writer.write(
                "transfer switch", self.devices.transfer.set_transfer(True), "grid back"
            )
        restored = [c for c, on in self.circuits.items() if not on]
        if self.devices.relay is not None:
            for c in restored:
                await self.writer.write(
                    "relay", self.devices.relay.set_circuit(c, True), "grid back"
                )
        self.circuits = dict.fromkeys(self.circuits, True)
        if restored:
            self.events.emit(
                EventKind.SHED,
                EventCode.RESTORED,
                f"grid back: circuits restored: {', '.join(restored)}",
                data={"circuits": restored},
            )
        self.reconnected_at = now

    async def apply_circuits(self, decision: Decision) -> None:
        """Switch the circuits as ``decision`` wants; each change is an event."""
        if decision.circuits is None:
            return
        for name, on in decision.circuits.items():
            if self.circuits.get(name, True) == on:
                continue
            if self.devices.relay is not None:
                ok = await self.writer.write(
                    "relay", self.devices.relay.set_circuit(name, on), "shedding"
                )
                if not ok:
                    continue
            self.circuits[name] = on
            why = decision.shed_reasons.get(name, "supply allows it again")
            self.events.emit(
                EventKind.SHED,
                EventCode.RESTORED if on else EventCode.SHED,
                f"circuit {name} {'restored' if on else 'shed'}: {why}",
                device=name,
                data={"on": on},
            )

    def warn(self, decision: Decision, plugged_cars: list[str]) -> None:
        """Warn once per outage when the house cannot be islanded or the reserve is reached."""
        if decision.cannot_island and not self._islanding_warned:
            self._islanding_warned = True
            self.events.emit(EventKind.WARNING, EventCode.CANNOT_ISLAND, decision.cannot_island)
        if decision.reserve_reached and not self._reserve_warned:
            self._reserve_warned = True
            hint = (
                f"; lower the outage reserve of {', '.join(plugged_cars)} to keep them on"
                if plugged_cars
                else ""
            )
            self.events.emit(
                EventKind.WARNING,
                EventCode.RESERVE_REACHED,
                "storage down to its reserve and PV short: essential circuits shed" + hint,
            )
        elif not decision.reserve_reached:
            self._reserve_warned = False
