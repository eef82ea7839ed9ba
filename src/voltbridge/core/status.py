"""What the controller shows and records at every tick: the live status, events, and the recorder protocol.

These are value types shared by ``control`` (which makes them), ``store`` (which records them)
and ``api``/``web`` (which show them). Signs follow ARCHITECTURE.md: power is positive into a
device from the home's AC bus, grid power is positive for import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from voltbridge.core.types import GridState


class Mode(StrEnum):
    """What the household asked the controller to do."""

    AUTO = "auto"
    """Follow the plan, absorbing what it did not foresee."""
    CHARGE_NOW = "charge-now"
    """Charge the cars at full power up to their target; the home battery follows the plan."""
    BACKUP_ONLY = "backup-only"
    """Never discharge on grid; storages only cover the house during an outage."""
    V2L = "v2l"
    """The car feeds loads directly (vehicle-to-load), not connected to the house or the grid."""
    OFF = "off"
    """Every charger and battery on its safe default (0 kW)."""


def soc_pct(soc_kwh: float | None, capacity_kwh: float) -> float | None:
    """State of charge [%] from stored energy and capacity [kWh]; None when unknown.

    >>> soc_pct(30.0, 60.0)
    50.0
    """
    if soc_kwh is None or capacity_kwh <= 0:
        return None
    return 100.0 * soc_kwh / capacity_kwh


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class VehicleStatus:
    """One car as the household sees it.

    Attributes:
        name: the vehicle's name from the site file.
        plugged_in: whether it is connected to its charger; None when the charger does not answer.
        soc_kwh: stored energy [kWh]; None when unknown (not plugged in, or no reading).
        capacity_kwh: usable capacity [kWh].
        power_kw: measured AC power [kW], + charging, - discharging; None when unknown.
        setpoint_kw: the last (guarded) setpoint sent [kW].
        range_km: distance it can drive on everything it holds [km]; None when SoC unknown.
        for_driving_kwh: the part of ``soc_kwh`` kept for driving (the mobility reserve, or the
            next trip's need if larger) [kWh].
        reserved_for_backup_kwh: the part of ``soc_kwh`` above that kept for the house in an
            outage (its share of the backup reserve) [kWh].
        mobility_reserve_kwh: the SoC the house and grid never use [kWh] (lowered in an outage
            only by the user).
        departure: the next departure (aware), or None.
        target_soc_pct: SoC wanted at departure [%].
    """

    name: str
    plugged_in: bool | None
    soc_kwh: float | None
    capacity_kwh: float
    power_kw: float | None = 0.0
    setpoint_kw: float = 0.0
    range_km: float | None = None
    for_driving_kwh: float = 0.0
    reserved_for_backup_kwh: float = 0.0
    mobility_reserve_kwh: float = 0.0
    departure: datetime | None = None
    target_soc_pct: float = 0.0

    @property
    def soc_pct(self) -> float | None:
        """State of charge [%]; None when unknown."""
        return soc_pct(self.soc_kwh, self.capacity_kwh)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as in ``GET /api/status``."""
        return {
            "soc_kwh": self.soc_kwh,
            "soc_pct": self.soc_pct,
            "capacity_kwh": self.capacity_kwh,
            "range_km": self.range_km,
            "for_driving_kwh": self.for_driving_kwh,
            "reserved_for_backup_kwh": self.reserved_for_backup_kwh,
            "mobility_reserve_kwh": self.mobility_reserve_kwh,
            "plugged_in": self.plugged_in,
            "departure": _iso(self.departure),
            "target_soc_pct": self.target_soc_pct,
            "power_kw": self.power_kw,
            "setpoint_kw": self.setpoint_kw,
        }


@dataclass(frozen=True)
class BatteryStatus:
    """The home battery: stored energy [kWh], capacity [kWh], power [kW] (+ charging), floor [kWh];
    None where unknown (the battery does not answer)."""

    soc_kwh: float | None
    capacity_kwh: float
    power_kw: float | None = 0.0
    setpoint_kw: float = 0.0
    reserve_kwh: float = 0.0

    @property
    def soc_pct(self) -> float | None:
        """State of charge [%]; None when unknown."""
        return soc_pct(self.soc_kwh, self.capacity_kwh)

    def to_dict(self) -> dict[str, Any]:
        return {
            "soc_kwh": self.soc_kwh,
            "soc_pct": self.soc_pct,
            "capacity_kwh": self.capacity_kwh,
            "power_kw": self.power_kw,
            "setpoint_kw": self.setpoint_kw,
            "reserve_kwh": self.reserve_kwh,
        }


@dataclass(frozen=True)
class PowerFlows:
    """Measured power at one instant [kW]: grid + import, PV and load >= 0, storages + charging.

    None is unknown (the device is silent or its data stale): never shown or counted as 0.
    """

    grid_kw: float | None = 0.0
    pv_kw: float | None = 0.0
    load_kw: float | None = 0.0
    battery_kw: float | None = 0.0
    vehicles_kw: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grid": self.grid_kw,
            "pv": self.pv_kw,
            "load": self.load_kw,
            "battery": self.battery_kw,
            "vehicles": dict(self.vehicles_kw),
        }


@dataclass(frozen=True)
class StormWatchStatus:
    """Storm watch as the dashboard shows it: off, or on for one announced outage.

    Attributes:
        active: whether storm watch is on (the storages fill to their targets and hold them).
        outage_id: the announced outage it is on for, or None.
        start: the announced start (aware, UTC), or None.
        end: the announced end at the latest (aware, UTC), or None.
        target_kwh: the state of charge held per storage at home [kWh] (each car's departure
            target, the battery's maximum).
        announced: how many announced outages are not over yet.
    """

    active: bool = False
    outage_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    target_kwh: dict[str, float] = field(default_factory=dict)
    announced: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "outage_id": self.outage_id,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "target_kwh": dict(self.target_kwh),
            "announced": self.announced,
        }


@dataclass(frozen=True)
class ControlStatus:
    """Everything the dashboard shows live, made by the controller at every tick.

    Attributes:
        at: when it was made (aware, UTC).
        grid_state: on grid, islanded or restoring; unknown when no fresh grid data shows it.
        mode: the household's mode.
        v2g_allowed: whether the cars may export to the grid now.
        power: measured flows [kW].
        backup_hours: hours the essential circuits can run from storage alone above the
            reserves [h]: what the household can count on (a cloudy outage, a night).
        backup_hours_with_sun: the same counting the PV forecast of the plan being followed
            (the sun refills the storage) [h]; None when there is no plan to take it from.
            Always at least ``backup_hours``; shown beside it, never in its place.
        vehicles: per car.
        battery: the home battery, or None.
        circuits: each switchable circuit, True when powered.
        restoring_remaining_s: time left of the enter-service wait [s]; 0 on grid, None islanded.
        faults: devices that are stale or do not answer, in words.
        decision: the last decision in words ("discharging 5.2 kW: peak price ...").
        plan_created: when the plan being followed was made, or None.
        price_import: import price now [currency/kWh], or None when unknown.
        price_export: export price now [currency/kWh], or None when unknown.
        baseline_grid_kw: grid power the home would draw now with uncontrolled charging (each
            car charging at full power from plug-in until full or its target, no storage
            discharging) [kW].
        baseline_cost_per_h: what that baseline costs per hour from now, like with like
            [currency/h]: the house at today's prices, and of the baseline cars' charging only
            the kWh the real cars have also charged, at the prices the baseline drew them
            (``voltbridge.control.baseline``); the store integrates it to show the savings.
            None (older statuses): the store prices ``baseline_grid_kw`` instead.
        storm_watch: storm watch on or off, with its outage and targets.
    """

    at: datetime
    grid_state: GridState
    mode: Mode
    v2g_allowed: bool
    power: PowerFlows
    backup_hours: float
    backup_hours_with_sun: float | None = None
    vehicles: dict[str, VehicleStatus] = field(default_factory=dict)
    battery: BatteryStatus | None = None
    circuits: dict[str, bool] = field(default_factory=dict)
    restoring_remaining_s: float | None = 0.0
    faults: tuple[str, ...] = ()
    decision: str = ""
    plan_created: datetime | None = None
    price_import: float | None = None
    price_export: float | None = None
    baseline_grid_kw: float = 0.0
    baseline_cost_per_h: float | None = None
    storm_watch: StormWatchStatus = field(default_factory=StormWatchStatus)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the body of ``GET /api/status``."""
        return {
            "at": _iso(self.at),
            "grid_state": self.grid_state.value,
            "mode": self.mode.value,
            "v2g_allowed": self.v2g_allowed,
            "power_kw": self.power.to_dict(),
            "backup_hours": self.backup_hours,
            "backup_hours_with_sun": self.backup_hours_with_sun,
            "vehicles": {name: v.to_dict() for name, v in self.vehicles.items()},
            "battery": None if self.battery is None else self.battery.to_dict(),
            "circuits": dict(self.circuits),
            "restoring_remaining_s": self.restoring_remaining_s,
            "faults": list(self.faults),
            "decision": self.decision,
            "plan_created": _iso(self.plan_created),
            "price_import": self.price_import,
            "price_export": self.price_export,
            "baseline_grid_kw": self.baseline_grid_kw,
            "baseline_cost_per_h": self.baseline_cost_per_h,
            "storm_watch": self.storm_watch.to_dict(),
        }


class EventCode(StrEnum):
    """What exactly an event says, for programs (the message is for people): the controller and
    the fault campaign key on this, never on the text. Stored in the event's ``data["code"]``."""

    DEVICE_FAULT = "device-fault"
    DEVICE_RECOVERED = "device-recovered"
    DEVICE_WAITING = "device-waiting"
    SOFTWARE_FAULT = "software-fault"
    WRITE_FAILED = "write-failed"
    SETTINGS = "settings"
    STOPPED = "stopped"
    RECONCILED = "reconciled"
    GRID = "grid"
    GUARD = "guard"
    PLAN = "plan"
    PLAN_FAILED = "plan-failed"
    PLUG = "plug"
    SHED = "shed"
    RESTORED = "restored"
    CANNOT_ISLAND = "cannot-island"
    SWITCH_REOPENED = "switch-reopened"
    RESERVE_REACHED = "reserve-reached"
    CLOCK_BACK = "clock-back"
    TICK_FAILED = "tick-failed"
    PROGRAM_EVENT = "program-event"
    STORM_WATCH = "storm-watch"


_CODES = frozenset(c.value for c in EventCode)


class EventKind(StrEnum):
    """What an event is about."""

    GRID = "grid"
    """A grid-state transition (outage start, restoring, reconnected)."""
    MODE = "mode"
    """The household changed the mode or a setting."""
    FAULT = "fault"
    """A device went stale or silent, or came back."""
    GUARD = "guard"
    """The safety guard reduced a command."""
    PLAN = "plan"
    """A new plan (and why it was made)."""
    PLUG = "plug"
    """A car was plugged in or out."""
    SHED = "shed"
    """Circuits were shed or restored."""
    PROGRAM = "program"
    """A utility program's grid event: received, answered, cancelled, delivered."""
    WARNING = "warning"
    """Something the household should know (reserve reached in an outage, ...)."""


@dataclass(frozen=True)
class ControlEvent:
    """One thing that happened, with why, for the event list and the store.

    Attributes:
        at: when (aware, UTC).
        kind: what it is about.
        message: one sentence a household understands.
        device: the device or vehicle concerned, if any.
        data: machine-readable details (JSON-ready values only).
    """

    at: datetime
    kind: EventKind
    message: str
    device: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> EventCode | None:
        """What the event says, typed (``data["code"]``), or None for an event without one."""
        value = self.data.get("code")
        return EventCode(value) if isinstance(value, str) and value in _CODES else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": _iso(self.at),
            "kind": self.kind.value,
            "message": self.message,
            "device": self.device,
            "data": dict(self.data),
        }


class Recorder(Protocol):
    """Where the controller records what it saw and did (the SQLite store, or nothing).

    Called from the control loop at every tick, so implementations must be quick (buffer and
    commit in batches) and must not raise for storage trouble they can retry.
    """

    def record_status(self, status: ControlStatus) -> None:
        """One tick's status (telemetry)."""
        ...

    def record_event(self, event: ControlEvent) -> None:
        """One event."""
        ...

    def record_plan(self, at: datetime, plan: dict[str, Any]) -> None:
        """A new plan, as ``voltbridge.planner.export.plan_to_dict`` makes it."""
        ...


class NullRecorder:
    """Records nothing (simulation, tests)."""

    def record_status(self, status: ControlStatus) -> None:
        pass

    def record_event(self, event: ControlEvent) -> None:
        pass

    def record_plan(self, at: datetime, plan: dict[str, Any]) -> None:
        pass
