"""Grid outages for the simulator: parsed from the command line or drawn at random, and as a mask."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from voltbridge.core.timegrid import TimeGrid, ensure_utc
from voltbridge.sim.types import Outage

BoolArray = npt.NDArray[np.bool_]

HOURS_PER_YEAR = 8760.0
"""A year for outage rates: 365 days [h]."""

FORMS = (
    "START/DURATION, e.g. '2026-01-14T17:00/8h', '2026-01-14T17:00-08:00/90m', "
    "'2026-01-14T17:00/1h30m' or '2026-01-14T17:00/2d'; announced ahead with @NOTICE, "
    "e.g. '2026-01-14T17:00/48h@24h'"
)

ANNOUNCED_SHARE = 0.5
"""Share of drawn outages that are announced ahead [-]. The examples' outage risks are those of
areas with Public Safety Power Shutoffs, which are announced; storms and equipment failures are
not. Half and half is an assumption, stated in the README; give ``--outage ...@NOTICE`` to set
each outage's notice yourself."""

NOTICE_H = (24.0, 48.0)
"""An announced drawn outage's notice is uniform between these [h]: the 24-48 h ahead at which
California's utilities notify customers of a Public Safety Power Shutoff (CPUC ESRB-8 and its
2020 guidelines ask for 48-72 h and 24-48 h notices; the later one is the one customers act on)."""
_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"^(?:({_NUMBER})d)?(?:({_NUMBER})h)?(?:({_NUMBER})m)?$")


def _duration(text: str) -> timedelta | None:
    """Days, hours and minutes (``8h``, ``90m``, ``1h30m``, ``2d``, ``1.5h``); None if not one."""
    match = _DURATION.match(text.lower())
    if not text or match is None:
        return None
    days, hours, minutes = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def parse_outage(text: str, timezone: str) -> Outage:
    """An outage from ``START/DURATION``, announced ahead with ``START/DURATION@NOTICE``.

    START is an ISO 8601 date-time, with a UTC offset (``2026-01-14T17:00-08:00``, ``...Z``) or
    without one, then read as local time in ``timezone`` (an IANA name). DURATION is days, hours
    and minutes in that order, each optional, e.g. ``8h``, ``90m``, ``1h30m``, ``2d``, ``1.5h``.
    NOTICE, written the same way, is how long before START the outage is announced (storm
    watch); without it the outage comes unannounced.

    >>> o = parse_outage("2026-01-14T17:00/1h30m", "America/Los_Angeles")
    >>> o.start.isoformat(), o.hours, o.notice_h
    ('2026-01-15T01:00:00+00:00', 1.5, None)
    >>> parse_outage("2026-01-14T17:00/2d@24h", "America/Los_Angeles").notice_h
    24.0
    """
    body, at, notice_text = text.strip().partition("@")
    notice_h = None
    if at:
        notice = _duration(notice_text.strip())
        if notice is None:
            raise ValueError(
                f"outage {text!r}: notice {notice_text!r} is not understood; write days, hours "
                f"and minutes such as '24h' or '2d'. Accepted: {FORMS}"
            )
        notice_h = notice.total_seconds() / 3600.0
    start_text, slash, duration_text = body.strip().rpartition("/")
    if not slash or not start_text:
        raise ValueError(f"outage {text!r} is not of the form {FORMS}")
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        raise ValueError(
            f"outage {text!r}: start {start_text!r} is not an ISO 8601 date-time; "
            f"write YYYY-MM-DDTHH:MM with an optional UTC offset. Accepted: {FORMS}"
        ) from None
    duration = _duration(duration_text)
    if duration is None:
        raise ValueError(
            f"outage {text!r}: duration {duration_text!r} is not understood; write days, hours "
            f"and minutes such as '8h', '90m', '1h30m' or '2d'. Accepted: {FORMS}"
        )
    if duration <= timedelta(0):
        raise ValueError(f"outage {text!r}: duration {duration_text!r} must be longer than zero")
    if start.tzinfo is None:
        try:
            start = start.replace(tzinfo=ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"outage {text!r}: unknown timezone {timezone!r}; use an IANA name "
                "such as 'America/Los_Angeles', or give START with a UTC offset"
            ) from None
    start = start.astimezone(UTC)
    return Outage(start, start + duration, notice_h)


def draw_notices(outages: Sequence[Outage], rng: np.random.Generator) -> list[Outage]:
    """``outages`` with a notice drawn for each: announced with probability
    ``ANNOUNCED_SHARE``, then ``notice_h`` uniform on ``NOTICE_H``; unannounced otherwise.
    Two draws per outage whatever the outcome, so one outage's draw never shifts another's."""
    out = []
    for o in outages:
        announced, u = float(rng.random()), float(rng.random())
        lo, hi = NOTICE_H
        notice = round(lo + (hi - lo) * u, 2) if announced < ANNOUNCED_SHARE else None
        out.append(replace(o, notice_h=notice))
    return out


def draw_outages(
    start: datetime,
    end: datetime,
    per_year: float,
    mean_hours: float,
    rng: np.random.Generator,
) -> list[Outage]:
    """Random outages on [``start``, ``end``): Poisson arrivals, exponential durations.

    ``per_year`` [1/year of 365 days] is the arrival rate, ``mean_hours`` [h] the mean duration.
    Times are whole seconds. An outage that arrives while the grid is already down extends that
    outage instead (one outage from the first start to the later end), so the result is sorted and
    non-overlapping; the last is cut at ``end``. The same ``rng`` state gives the same outages.
    """
    t0, t1 = ensure_utc(start).timestamp(), ensure_utc(end).timestamp()
    if t1 <= t0:
        raise ValueError(f"end {end.isoformat()} must be after start {start.isoformat()}")
    if not per_year >= 0:
        raise ValueError(f"per_year must be zero or more, got {per_year}")
    if not mean_hours > 0:
        raise ValueError(f"mean_hours must be positive, got {mean_hours}")
    if per_year == 0:
        return []
    mean_gap_s = HOURS_PER_YEAR * 3600.0 / per_year
    spans: list[tuple[float, float]] = []
    t = t0
    while True:
        t += float(rng.exponential(mean_gap_s))
        if t >= t1:
            break
        a = float(round(t))
        b = min(float(round(t + float(rng.exponential(mean_hours * 3600.0)))), t1)
        if b <= a or a < t0:
            continue
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return [
        Outage(datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)) for a, b in spans
    ]


def outage_mask(outages: Sequence[Outage], grid: TimeGrid) -> BoolArray:
    """True for each step of ``grid`` in which the grid is absent for any part of the step."""
    edges = grid.edges_s.astype(np.float64)
    mask = np.zeros(grid.n, dtype=bool)
    for outage in outages:
        a, b = outage.start.timestamp(), outage.end.timestamp()
        lo = max(int(np.searchsorted(edges, a, side="right")) - 1, 0)
        hi = min(int(np.searchsorted(edges, b, side="left")), grid.n)
        mask[lo:hi] |= np.minimum(edges[lo + 1 : hi + 1], b) > np.maximum(edges[lo:hi], a)
    return mask
