"""A demo home for API and dashboard tests: a fake controller handle, a real plan, an in-memory store."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from voltbridge.config import HomeBattery, load_site
from voltbridge.control.events import EventLog
from voltbridge.control.health import Check
from voltbridge.control.program_events import EventBook
from voltbridge.control.settings import Settings, SettingsUpdate, apply_update
from voltbridge.control.storm import StormWatch
from voltbridge.core.clock import Clock, VirtualClock
from voltbridge.core.status import (
    BatteryStatus,
    ControlEvent,
    ControlStatus,
    EventKind,
    Mode,
    NullRecorder,
    PowerFlows,
    VehicleStatus,
)
from voltbridge.core.timegrid import TimeGrid
from voltbridge.core.types import GridState, Plan
from voltbridge.forecast import forecast_site
from voltbridge.planner import Planner
from voltbridge.planner.from_site import plan_request
from voltbridge.programs.events import AnnouncedOutage

EXAMPLE = Path(__file__).resolve().parents[2] / "src/voltbridge/examples/ev9-california.toml"
NOW = datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
"""Noon in Sacramento: the demo home's "now"."""
PASSWORD = "test-only password 7f3a"
"""The password the tests configure (tests only; the app has no default password)."""


@cache
def demo_plan() -> Plan:
    """The planner's real plan for the EV9 home of the examples, with a 13.5 kWh battery added."""
    site = load_site(EXAMPLE)
    site = site.model_copy(
        update={"battery": HomeBattery(usable_kwh=13.5, max_charge_kw=5.0, max_discharge_kw=5.0)}
    )
    grid = TimeGrid.regular(NOW, 48, 15)
    request = plan_request(site, grid, forecast_site(site, grid), {"ev9": 62.0, "battery": 70.0})
    return replace(Planner().plan(request), created=NOW)


def demo_status(
    at: datetime = NOW,
    soc_pct: float = 62.0,
    grid_state: GridState = GridState.ON_GRID,
    mode: Mode = Mode.AUTO,
) -> ControlStatus:
    """What the controller shows at noon: PV covers the house, the car and the battery charge."""
    capacity = 99.8
    soc = capacity * soc_pct / 100
    car_kw, battery_kw, pv_kw, load_kw = 3.1, 1.5, 6.0, 1.2
    return ControlStatus(
        at=at,
        grid_state=grid_state,
        mode=mode,
        v2g_allowed=False,
        power=PowerFlows(
            grid_kw=round(load_kw + car_kw + battery_kw - pv_kw, 3),
            pv_kw=pv_kw,
            load_kw=load_kw,
            battery_kw=battery_kw,
            vehicles_kw={"ev9": car_kw},
        ),
        backup_hours=11.5,
        backup_hours_with_sun=30.0,
        vehicles={
            "ev9": VehicleStatus(
                name="ev9",
                plugged_in=True,
                soc_kwh=soc,
                capacity_kwh=capacity,
                power_kw=car_kw,
                setpoint_kw=car_kw,
                range_km=round(soc / 0.26, 1),
                for_driving_kwh=24.95,
                reserved_for_backup_kwh=3.0,
                mobility_reserve_kwh=24.95,
                departure=datetime(2026, 7, 2, 14, 45, tzinfo=UTC),
                target_soc_pct=80.0,
            )
        },
        battery=BatteryStatus(
            soc_kwh=9.45,
            capacity_kwh=13.5,
            power_kw=battery_kw,
            setpoint_kw=battery_kw,
            reserve_kwh=1.35,
        ),
        circuits={
            "fridge": True,
            "lights-and-router": True,
            "furnace-fan": True,
            "air-conditioner": grid_state is GridState.ON_GRID,
        },
        restoring_remaining_s=0.0 if grid_state is GridState.ON_GRID else None,
        decision="charging ev9 at 3.1 kW from surplus PV",
        plan_created=NOW,
        price_import=0.31,
        price_export=0.04,
        baseline_grid_kw=5.4,
    )


def demo_event(at: datetime = NOW, message: str = "ev9 plugged in") -> ControlEvent:
    return ControlEvent(at=at, kind=EventKind.PLUG, message=message, device="ev9")


@dataclass(frozen=True)
class DemoCar:
    """The EV9 as the site file sets it: a 25 % mobility reserve, 80 % at departure."""

    name: str = "ev9"
    mobility_reserve_pct: float = 25.0
    target_soc_pct: float = 80.0


class FakeHandle:
    """Satisfies ``ControlHandle``; remembers every settings change and can push to subscribers.

    Settings are checked as the controller checks them, on ``clock`` (the demo's "now").
    """

    def __init__(
        self, status: ControlStatus | None, plan: Plan | None, clock: Clock | None = None
    ) -> None:
        self._status = status
        self._plan = plan
        self.clock: Clock = clock or VirtualClock(NOW)
        self._settings = Settings(backup_reserve_h=6.0)
        self.updates: list[tuple[SettingsUpdate, str]] = []
        self.queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = []
        self._lock = threading.Lock()
        self.programs = EventBook(EventLog(self.clock, NullRecorder()))
        self.checks: dict[str, Check] = {"loop": Check(True, "last tick 1 s ago (every 1 s)")}
        self.storm = StormWatch(EventLog(self.clock, NullRecorder()))

    def health(self) -> dict[str, Check]:
        return self.checks

    @property
    def status(self) -> ControlStatus | None:
        return self._status

    @property
    def plan(self) -> Plan | None:
        return self._plan

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def vehicle_names(self) -> list[str]:
        return ["ev9"]

    def apply_settings(self, update: SettingsUpdate, source: str) -> Settings:
        self._settings = apply_update(self._settings, update, [DemoCar()], self.clock.now())
        self.updates.append((update, source))
        return self._settings

    def announce_outage(self, outage: AnnouncedOutage, source: str) -> AnnouncedOutage:
        return self.storm.announce(outage, self.clock.now(), source)

    def cancel_outage(self, outage_id: str, source: str) -> AnnouncedOutage:
        return self.storm.cancel(outage_id, self.clock.now(), source)

    def announced_outages(self) -> list[AnnouncedOutage]:
        return list(self.storm.announced(self.clock.now()))

    def subscribe(self) -> asyncio.Queue[ControlStatus | ControlEvent]:
        queue: asyncio.Queue[ControlStatus | ControlEvent] = asyncio.Queue(maxsize=64)
        with self._lock:
            self.queues.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ControlStatus | ControlEvent]) -> None:
        with self._lock:
            self.queues = [(lp, q) for lp, q in self.queues if q is not queue]

    def publish(self, item: ControlStatus | ControlEvent) -> None:
        """Hand ``item`` to every subscriber, from any thread (as the controller would)."""
        if isinstance(item, ControlStatus):
            self._status = item
        with self._lock:
            targets = list(self.queues)
        for loop, queue in targets:
            loop.call_soon_threadsafe(queue.put_nowait, item)


@dataclass
class FakeStore:
    """Satisfies ``StoreReader`` from canned rows; remembers the arguments of each call."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def history(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        self.calls.append(("history", {"start": start, "end": end, "resolution_s": resolution_s}))
        if resolution_s > (end - start).total_seconds():
            raise ValueError(f"resolution {resolution_s} s is longer than the range")
        rows: list[dict[str, Any]] = []
        at = start
        while at < end and len(rows) < 500:
            rows.append(
                {
                    "at": at.isoformat().replace("+00:00", "Z"),
                    "grid_kw": -0.2,
                    "pv_kw": 6.0,
                    "load_kw": 1.2,
                    "battery_kw": 1.5,
                    "battery_soc_kwh": 9.45,
                    "vehicles": {"ev9": {"kw": 3.1, "soc_kwh": 61.9, "plugged_in": True}},
                    "grid_state": "on_grid",
                    "clock_stepped": False,
                }
            )
            at += timedelta(seconds=resolution_s)
        return rows

    def events(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        self.calls.append(("events", {"start": start, "end": end, "kind": kind, "limit": limit}))
        rows = [
            {
                "id": 2,
                "at": "2026-07-01T18:30:00Z",
                "kind": "plan",
                "message": "new plan: price update",
                "device": None,
                "data": {},
            },
            {
                "id": 1,
                "at": "2026-07-01T18:00:00Z",
                "kind": "plug",
                "message": "ev9 plugged in",
                "device": "ev9",
                "data": {},
            },
        ]
        return [r for r in rows if kind is None or r["kind"] == kind][:limit]

    def sessions(
        self, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        self.calls.append(("sessions", {"start": start, "end": end, "limit": limit}))
        return [
            {
                "id": 1,
                "vehicle": "ev9",
                "start": "2026-06-30T01:00:00Z",
                "end": "2026-06-30T14:00:00Z",
                "charged_kwh": 31.2,
                "discharged_kwh": 12.4,
                "cost": 4.1,
                "value": 6.3,
            }
        ][:limit]

    def money(self, start: datetime, end: datetime) -> dict[str, Any]:
        self.calls.append(("money", {"start": start, "end": end}))
        return {
            "import_cost": 3.2,
            "export_revenue": 0.4,
            "net_cost": 2.8,
            "baseline_cost": 5.1,
            "savings": 2.3,
            "import_kwh": 10.3,
            "export_kwh": 9.5,
        }

    def latest_plan(self) -> dict[str, Any] | None:
        return None


class FakeMonotonic:
    """A monotonic clock moved by hand [s]."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
