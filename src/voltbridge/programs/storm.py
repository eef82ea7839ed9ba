"""Storm watch: from announced outages to the stored energy to hold, and the book of announcements.

An announced outage (a utility's Public Safety Power Shutoff notice, the household's own "outage
expected at 14:00 for up to 48 h") asks the storages to be full before it starts and to stay full
until it is over. The planner takes that as a backup requirement per time-grid edge
(:func:`storm_requirement_kwh`); the controller holds it (``control/storm.py``). The window begins
``lead_h`` before the announced start, because an announced start is a forecast: a utility may
cut the lines early when the wind comes early.

What "full" means is decided by the caller, which knows the storages (``planner/from_site.py``:
each car up to its departure target, the home battery up to its maximum SoC, never above what the
site allows). Layer 1 and 2 only: no I/O, no clock, no logging.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from voltbridge.core.timegrid import FloatArray, TimeGrid, ensure_utc
from voltbridge.programs.events import AnnouncedOutage

DEFAULT_LEAD_H = 1.0
"""Storm watch holds the target from this long before the announced start [h]: an announced
start is a forecast, and PSPS de-energisations have come earlier than notified when the wind
arrived early; an hour also covers a plan grid's hourly steps beyond its first hours."""


def watch_start(outage: AnnouncedOutage, lead_h: float) -> datetime:
    """When the target must be reached: ``lead_h`` [h] before the announced start (UTC)."""
    return outage.start - timedelta(hours=lead_h)


def current(outages: Iterable[AnnouncedOutage], now: datetime) -> list[AnnouncedOutage]:
    """The outages not yet over at ``now`` (a window that has passed ends storm watch), by start.

    >>> from datetime import UTC
    >>> a = AnnouncedOutage("a", datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 7, 1, 14, tzinfo=UTC))
    >>> [o.outage_id for o in current([a], datetime(2026, 7, 1, 13, tzinfo=UTC))]
    ['a']
    >>> current([a], datetime(2026, 7, 1, 14, tzinfo=UTC))
    []
    """
    at = ensure_utc(now)
    return sorted((o for o in outages if o.end > at), key=lambda o: (o.start, o.outage_id))


def storm_requirement_kwh(
    outages: Sequence[AnnouncedOutage],
    grid: TimeGrid,
    target_kwh: float | FloatArray,
    lead_h: float = DEFAULT_LEAD_H,
) -> FloatArray | None:
    """Stored energy to hold at each edge of ``grid`` for storm watch [kWh], length ``n + 1``;
    None when no announced window reaches the grid.

    ``req[k] = target[k]`` when edge ``k`` lies in ``[S - lead, E)`` for an outage ``[S, E)``,
    or is the last edge at or before ``S - lead`` (so that a window starting inside a long step
    is full at that step's start, never later), and 0 elsewhere. ``target_kwh``: the energy to
    hold above the storages' reserves [kWh], one figure or one per edge (the storages at home
    differ from edge to edge).

    >>> from datetime import UTC
    >>> g = TimeGrid.regular(datetime(2026, 7, 1, 10, tzinfo=UTC), 6, 60)
    >>> o = AnnouncedOutage("psps", datetime(2026, 7, 1, 13, 30, tzinfo=UTC),
    ...                     datetime(2026, 7, 1, 15, tzinfo=UTC))
    >>> storm_requirement_kwh([o], g, 50.0, lead_h=1.0).tolist()
    [0.0, 0.0, 50.0, 50.0, 50.0, 0.0, 0.0]
    """
    if not lead_h >= 0.0:
        raise ValueError(f"lead_h must be >= 0 [h], got {lead_h}")
    n = grid.n
    target = np.broadcast_to(np.asarray(target_kwh, dtype=np.float64), (n + 1,))
    if not np.all(target >= 0.0):
        raise ValueError("target_kwh must be >= 0 [kWh] at every edge")
    edges = grid.edges_s
    on = np.zeros(n + 1, dtype=bool)
    for o in outages:
        a = watch_start(o, lead_h).timestamp()
        b = o.end.timestamp()
        if b <= edges[0] or a >= edges[-1]:
            continue
        first = max(int(np.searchsorted(edges, a, side="right")) - 1, 0)
        last = int(np.searchsorted(edges, b, side="left"))  # first edge at or after the end
        on[first:last] = True
    if not on.any():
        return None
    out: FloatArray = np.where(on, target, 0.0)
    return out


class StormError(ValueError):
    """An announcement or cancellation that cannot be taken; the message says why."""


@dataclass
class StormBook:
    """The announced outages a home knows of: announce, cancel, and what is in force at a time.

    An announcement whose id is already known replaces it (a utility updating its notice); one
    that overlaps another is kept beside it (the requirement covers both windows). Past windows
    are dropped by :meth:`prune`. ``max_ahead``: the furthest start accepted (a slip of the year
    would otherwise hold the storages full for nothing, or never).
    """

    max_ahead: timedelta = timedelta(days=14)
    outages: dict[str, AnnouncedOutage] = field(default_factory=dict)

    def announce(self, outage: AnnouncedOutage, now: datetime) -> AnnouncedOutage | None:
        """Take ``outage`` at ``now``; the one it replaces (same id), or None.

        Raises :class:`StormError` for a window already over at ``now``, or one that starts more
        than ``max_ahead`` after ``now``."""
        at = ensure_utc(now)
        if outage.end <= at:
            raise StormError(
                f"outage {outage.outage_id!r}: its window ended at {_iso(outage.end)}, before "
                f"now ({_iso(at)}); announce an outage that is still to come"
            )
        if outage.start - at > self.max_ahead:
            raise StormError(
                f"outage {outage.outage_id!r}: start {_iso(outage.start)} is more than "
                f"{self.max_ahead.days} days ahead; check the date"
            )
        old = self.outages.get(outage.outage_id)
        self.outages[outage.outage_id] = outage
        return old

    def cancel(self, outage_id: str) -> AnnouncedOutage:
        """Forget ``outage_id`` (the household or the utility called it off); the outage
        cancelled. Raises :class:`StormError` when no such outage is known."""
        try:
            return self.outages.pop(outage_id)
        except KeyError:
            known = ", ".join(sorted(self.outages)) or "none"
            raise StormError(f"no announced outage {outage_id!r}; known: {known}") from None

    def prune(self, now: datetime) -> list[AnnouncedOutage]:
        """Drop the outages whose window is over at ``now``; those dropped."""
        gone = [o for o in self.outages.values() if o.end <= ensure_utc(now)]
        for o in gone:
            del self.outages[o.outage_id]
        return gone

    def current(self, now: datetime) -> list[AnnouncedOutage]:
        """The outages not over at ``now``, by start."""
        return current(self.outages.values(), now)

    def watching(self, now: datetime) -> AnnouncedOutage | None:
        """The outage storm watch is on for at ``now`` (the earliest not over), or None."""
        ahead = self.current(now)
        return ahead[0] if ahead else None


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
