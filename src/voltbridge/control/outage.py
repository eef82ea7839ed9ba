"""The controller's actions at the edges of an outage: islanding, reconnecting, shedding circuits.

A mixin of ``Controller``: the order of the steps is the safety argument, so it is kept in one
place. Islanding: every storage to 0 kW, then the transfer switch opens, then backup operation.
Reconnecting (after the enter-service delay): storages to 0 kW, backup operation off, the switch
closes, circuits come back, the ramp starts, a lowered outage reserve is cleared.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from voltbridge.control.decide import Decision
from voltbridge.control.io import DeviceSet
from voltbridge.control.settings import Settings
from voltbridge.core.status import EventKind
from voltbridge.devices.capabilities import BackupCapable


class OutageActions:
    """Outage steps over the controller's devices and state (see the module docstring)."""

    devices: DeviceSet
    _sent: dict[str, tuple[float, datetime]]
    _circuits: dict[str, bool]
    _settings: Settings
    _reconnected_at: datetime | None
    _replan_why: str | None
    _islanding_warned: bool
    _reserve_warned: bool
    _plugged: dict[str, bool | None]

    async def _write(self, name: str, call: Coroutine[Any, Any, None], why: str) -> bool:
        raise NotImplementedError

    def _event(
        self,
        kind: EventKind,
        message: str,
        device: str | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        raise NotImplementedError

    async def _island(self, now: datetime) -> None:
        """Outage: stop every storage, open the transfer switch, then backup operation."""
        for name, dev in self.devices.chargers.items():
            await self._write(name, dev.set_charge_power(0.0), "outage: stop before islanding")
            self._sent[name] = (0.0, now)
        if self.devices.battery is not None:
            await self._write("battery", self.devices.battery.set_battery_power(0.0), "outage")
            self._sent["battery"] = (0.0, now)
        if self.devices.transfer is not None:
            await self._write(
                "transfer switch", self.devices.transfer.set_transfer(False), "outage"
            )
        await self._backup_mode(True, "outage: backup operation")
        self._reconnected_at = None
        self._islanding_warned = self._reserve_warned = False

    async def _backup_mode(self, on: bool, why: str) -> None:
        devices: list[tuple[str, object]] = list(self.devices.chargers.items())
        if self.devices.battery is not None:
            devices.append(("battery", self.devices.battery))
        for name, dev in devices:
            if isinstance(dev, BackupCapable):
                await self._write(name, dev.set_backup_mode(on), why)

    async def _reconnect(self, now: datetime) -> None:
        """Grid back for the enter-service delay: storages to 0, backup off, close, restore, ramp."""
        for name, dev in self.devices.chargers.items():
            await self._write(name, dev.set_charge_power(0.0), "reconnecting")
            self._sent[name] = (0.0, now)
        if self.devices.battery is not None:
            await self._write(
                "battery", self.devices.battery.set_battery_power(0.0), "reconnecting"
            )
            self._sent["battery"] = (0.0, now)
        await self._backup_mode(False, "reconnecting")
        if self.devices.transfer is not None:
            await self._write(
                "transfer switch", self.devices.transfer.set_transfer(True), "grid back"
            )
        restored = [c for c, on in self._circuits.items() if not on]
        if self.devices.relay is not None:
            for c in restored:
                await self._write("relay", self.devices.relay.set_circuit(c, True), "grid back")
        self._circuits = dict.fromkeys(self._circuits, True)
        if restored:
            self._event(EventKind.SHED, f"grid back: circuits restored: {', '.join(restored)}")
        cars = {
            n: v.model_copy(update={"outage_reserve_pct": None})
            for n, v in self._settings.vehicles.items()
        }
        self._settings = self._settings.model_copy(update={"vehicles": cars})
        self._reconnected_at = now
        self._replan_why = "grid back"

    async def _apply_circuits(self, decision: Decision, now: datetime) -> None:
        if decision.circuits is None:
            return
        for name, on in decision.circuits.items():
            if self._circuits.get(name, True) == on:
                continue
            if self.devices.relay is not None:
                ok = await self._write(
                    "relay", self.devices.relay.set_circuit(name, on), "shedding"
                )
                if not ok:
                    continue
            self._circuits[name] = on
            why = decision.shed_reasons.get(name, "supply allows it again")
            self._event(
                EventKind.SHED,
                f"circuit {name} {'restored' if on else 'shed'}: {why}",
                device=name,
            )

    def _warn_island(self, decision: Decision, now: datetime) -> None:
        if decision.cannot_island and not self._islanding_warned:
            self._islanding_warned = True
            self._event(EventKind.WARNING, decision.cannot_island)
        if decision.reserve_reached and not self._reserve_warned:
            self._reserve_warned = True
            cars = [n for n, p in self._plugged.items() if p]
            hint = (
                f"; lower the outage reserve of {', '.join(cars)} to keep them on" if cars else ""
            )
            self._event(
                EventKind.WARNING,
                "storage down to its reserve and PV short: essential circuits shed" + hint,
            )
        elif not decision.reserve_reached:
            self._reserve_warned = False
