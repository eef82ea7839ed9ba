"""Conversions between the store's columns and Python values: epoch milliseconds, ISO-8601 text, grid-state codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voltbridge.core.timegrid import ensure_utc
from voltbridge.core.types import GridState

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_MS = 60_000
QUARTER_HOUR_MS = 900_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

GRID_STATE_CODES: dict[GridState, int] = {
    GridState.ON_GRID: 0,
    GridState.RESTORING: 1,
    GridState.ISLANDED: 2,
    GridState.UNKNOWN: 3,
}
"""Grid states as stored, ordered by severity so that ``MAX`` over a bucket gives its worst state."""

GRID_STATES: dict[int, GridState] = {code: state for state, code in GRID_STATE_CODES.items()}


def to_ms(at: datetime) -> int:
    """Milliseconds since 1970-01-01 UTC (floored); naive datetimes are refused with ValueError.

    >>> to_ms(datetime(1970, 1, 1, 0, 1, tzinfo=UTC))
    60000
    """
    return (ensure_utc(at) - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of an epoch time [ms]."""
    return EPOCH + timedelta(milliseconds=ms)


def iso(ms: int) -> str:
    """ISO-8601 text with ``Z`` of an epoch time [ms], as the API shows times.

    >>> iso(90_000)
    '1970-01-01T00:01:30Z'
    """
    return from_ms(ms).isoformat().replace("+00:00", "Z")


def floor_to(ms: int, period_ms: int) -> int:
    """Start of the ``period_ms`` bucket (aligned on the epoch) holding ``ms``."""
    return ms - ms % period_ms


def ceil_to(ms: int, period_ms: int) -> int:
    """The first bucket boundary at or after ``ms``."""
    return -((-ms) // period_ms) * period_ms
