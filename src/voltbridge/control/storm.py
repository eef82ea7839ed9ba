"""Storm watch at home: the announced outages the controller knows, and what they hold.

An announcement (from the API, the simulator, or later an OpenADR event or a feed) goes into the
controller's :class:`StormWatch`. From ``ON_AHEAD_H`` before the announced start (or from the
announcement, when it comes later) until the announced end, storm watch is on: the plan fills
car and battery before the start (``planner/from_site.py``), and the controller never
discharges them below their targets on grid (no V2H or V2G for savings; importing to fill is
allowed). The outage itself, when it comes, is the grid-state machine's as always: off grid the
floors are the outage floors, unchanged. Every announcement, cancellation, start and end of
storm watch is an event in the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from voltbridge.control.events import EventLog
from voltbridge.control.guard import StorageLimits
from voltbridge.control.settings import Settings
from voltbridge.control.site_model import ControlSite
from voltbridge.core.status import EventCode, EventKind, StormWatchStatus
from voltbridge.core.timegrid import ensure_utc
from voltbridge.programs.events import MAX_OUTAGE as MAX_OUTAGE
from voltbridge.programs.events import AnnouncedOutage as AnnouncedOutage
from voltbridge.programs.events import EventError as EventError
from voltbridge.programs.storm import DEFAULT_LEAD_H, StormBook
from voltbridge.programs.storm import StormError as StormError

# (AnnouncedOutage, EventError, StormError and MAX_OUTAGE are re-exported for the API, which
# reaches programs through control only: ARCHITECTURE.md)

ON_AHEAD_H = 48.0
"""Storm watch is on from this long before an announced start [h]: the plan looks 48 h ahead,
so it starts filling from then; an outage announced further ahead waits (the cars keep earning
and serving the house until then)."""


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def hold_targets_kwh(
    site: ControlSite, settings: Settings, plugged_in: Mapping[str, bool | None]
) -> dict[str, float]:
    """The SoC storm watch holds per storage at home [kWh]: each plugged-in car's departure
    target (as the household set it), the home battery's maximum SoC; the same targets the
    plan fills to (``planner.from_site.storm_target_kwh``)."""
    out: dict[str, float] = {}
    for v in site.vehicles:
        if plugged_in.get(v.name):
            out[v.name] = min(v.target_kwh(settings.vehicles.get(v.name)), v.capacity_kwh)
    if site.battery is not None:
        out["battery"] = site.battery.max_soc_kwh
    return out


def hold_floors(
    limits: Mapping[str, StorageLimits], targets_kwh: Mapping[str, float]
) -> dict[str, StorageLimits]:
    """``limits`` with each held storage's SoC floor raised to its target [kWh] (never above
    its capacity): the guard then refuses any discharge below it."""
    out = dict(limits)
    for name, target in targets_kwh.items():
        lim = limits.get(name)
        if lim is None:
            continue
        floor = min(max(lim.soc_floor_kwh, target), lim.capacity_kwh)
        out[name] = replace(lim, soc_floor_kwh=floor)
    return out


def within_floors(
    sp: Mapping[str, float],
    reasons: Mapping[str, str],
    limits: Mapping[str, StorageLimits],
    soc_kwh: Mapping[str, float],
    targets_kwh: Mapping[str, float],
    dt_h: float,
) -> tuple[dict[str, float], dict[str, str]]:
    """Discharge setpoints [kW] of held storages trimmed to what stays above their floors this
    tick, so that the decision says why (the guard would trim them too, as an intervention)."""
    out, why = dict(sp), dict(reasons)
    for name, p in sp.items():
        lim = limits.get(name)
        if p >= 0 or name not in targets_kwh or lim is None or name not in soc_kwh:
            continue
        allowed_kw = max(soc_kwh[name] - lim.soc_floor_kwh, 0.0) * lim.eta_discharge / dt_h
        if -p > allowed_kw:
            out[name] = -allowed_kw
            why[name] = f"storm watch: holding {lim.soc_floor_kwh:.1f} kWh for the announced outage"
    return out, why


class StormWatch:
    """The controller's announced outages and storm watch's state (see the module docstring).

    ``lead_h``: the plan holds the target from this long before the announced start [h].
    """

    def __init__(self, log: EventLog, lead_h: float = DEFAULT_LEAD_H) -> None:
        self.log, self.lead_h = log, lead_h
        self.book = StormBook()
        self._on: str | None = None
        self._changed: str | None = None

    def announced(self, now: datetime) -> tuple[AnnouncedOutage, ...]:
        """The announced outages not over at ``now``, by start."""
        return tuple(self.book.current(now))

    def announce(self, outage: AnnouncedOutage, now: datetime, source: str) -> AnnouncedOutage:
        """Take an announcement at ``now`` (StormError for a past or too distant window), record
        it and ask for a re-plan; the outage as kept (``announced_at`` set to ``now`` when the
        sender gave none)."""
        if outage.announced_at is None:
            outage = replace(outage, announced_at=ensure_utc(now))
        old = self.book.announce(outage, now)
        what = "updated" if old is not None else "announced"
        self.log.emit(
            EventKind.MODE,
            EventCode.STORM_WATCH,
            f"outage {what} by {source}: expected {_iso(outage.start)} for up to "
            f"{outage.hours:g} h; storm watch fills car and battery before it",
            data={
                "action": what,
                "source": source,
                "outage_id": outage.outage_id,
                "start": _iso(outage.start),
                "end": _iso(outage.end),
            },
        )
        self._changed = f"outage {outage.outage_id} {what}"
        return outage

    def cancel(self, outage_id: str, now: datetime, source: str) -> AnnouncedOutage:
        """Forget an announced outage (StormError when unknown); storm watch for it ends now."""
        outage = self.book.cancel(outage_id)
        self.log.emit(
            EventKind.MODE,
            EventCode.STORM_WATCH,
            f"announced outage {outage_id} cancelled by {source}"
            + ("; storm watch off" if self._on == outage_id else ""),
            data={"action": "cancelled", "source": source, "outage_id": outage_id},
        )
        if self._on == outage_id:
            self._on = None
        self._changed = f"outage {outage_id} cancelled"
        return outage

    def active(self, now: datetime) -> AnnouncedOutage | None:
        """The outage storm watch is on for at ``now``, or None."""
        first = self.book.watching(now)
        if first is None or now < first.start - timedelta(hours=ON_AHEAD_H):
            return None
        return first

    def step(self, now: datetime) -> str | None:
        """Once a tick: drop windows that have passed and record storm watch going on or off;
        why a re-plan is due (an announcement, a cancellation, a window passed), or None."""
        why, self._changed = self._changed, None
        for gone in self.book.prune(now):
            why = why or f"announced outage {gone.outage_id} over"
        on = self.active(now)
        on_id = None if on is None else on.outage_id
        if on_id != self._on:
            if self._on is not None:
                self.log.emit(
                    EventKind.WARNING,
                    EventCode.STORM_WATCH,
                    f"storm watch off: the window of outage {self._on} has passed",
                    data={"action": "off", "outage_id": self._on},
                )
            if on is not None:
                self.log.emit(
                    EventKind.WARNING,
                    EventCode.STORM_WATCH,
                    f"storm watch on for outage {on.outage_id} ({_iso(on.start)} to "
                    f"{_iso(on.end)}): filling car and battery and holding them",
                    data={
                        "action": "on",
                        "outage_id": on.outage_id,
                        "start": _iso(on.start),
                        "end": _iso(on.end),
                    },
                )
            self._on = on_id
        return why

    def targets(
        self,
        now: datetime,
        site: ControlSite,
        settings: Settings,
        plugged_in: Mapping[str, bool | None],
    ) -> dict[str, float]:
        """The SoC to hold per storage now [kWh]; empty while storm watch is off."""
        if self.active(now) is None:
            return {}
        return hold_targets_kwh(site, settings, plugged_in)

    def status(self, now: datetime, targets_kwh: Mapping[str, float]) -> StormWatchStatus:
        """Storm watch for the dashboard at ``now``."""
        on = self.active(now)
        count = len(self.book.current(now))
        if on is None:
            return StormWatchStatus(announced=count)
        return StormWatchStatus(
            active=True,
            outage_id=on.outage_id,
            start=on.start,
            end=on.end,
            target_kwh=dict(targets_kwh),
            announced=count,
        )
