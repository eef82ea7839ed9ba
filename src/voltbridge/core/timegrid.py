"""The time grid every vector in voltbridge lives on: step starts in UTC and step lengths in hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def ensure_utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime; naive datetimes are refused.

    >>> ensure_utc(datetime(2026, 1, 1, 12, tzinfo=UTC)).isoformat()
    '2026-01-01T12:00:00+00:00'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime {moment.isoformat()} has no timezone; give one (e.g. +00:00)")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class TimeGrid:
    """Contiguous time steps.

    Attributes:
        edges_s: step boundaries [s since the Unix epoch, UTC], length ``n + 1``, strictly increasing.
    """

    edges_s: IntArray

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges_s, dtype=np.int64)
        if edges.ndim != 1 or edges.size < 2:
            raise ValueError("a time grid needs at least one step (two edges)")
        if np.any(np.diff(edges) <= 0):
            raise ValueError("time grid edges must be strictly increasing")
        edges.setflags(write=False)
        object.__setattr__(self, "edges_s", edges)
        dt_h = np.diff(edges).astype(np.float64) / 3600.0
        dt_h.setflags(write=False)
        object.__setattr__(self, "_dt_h", dt_h)

    @classmethod
    def regular(
        cls,
        start: datetime,
        hours: float,
        step_minutes: int = 15,
        *,
        align: bool = True,
    ) -> TimeGrid:
        """Steps of ``step_minutes`` covering ``hours`` from ``start``.

        With ``align`` the first step is shortened so that every later step starts on a multiple
        of ``step_minutes`` (UTC), as a controller re-planning mid-step needs. The grid ends at
        ``start + hours``; the last step is shortened if needed.

        >>> g = TimeGrid.regular(datetime(2026, 1, 1, 12, 5, tzinfo=UTC), 1, 15)
        >>> [round(float(h), 4) for h in g.dt_h]
        [0.1667, 0.25, 0.25, 0.25, 0.0833]
        """
        if step_minutes <= 0:
            raise ValueError(f"step_minutes must be positive, got {step_minutes}")
        if hours <= 0:
            raise ValueError(f"hours must be positive, got {hours}")
        t0 = int(ensure_utc(start).timestamp())
        t_end = t0 + round(hours * 3600)
        step_s = step_minutes * 60
        first = (t0 // step_s + 1) * step_s if align and t0 % step_s else t0 + step_s
        inner = np.arange(first, t_end, step_s, dtype=np.int64)
        edges = np.concatenate(([t0], inner, [t_end])).astype(np.int64)
        return cls(edges)

    @property
    def n(self) -> int:
        """Number of steps."""
        return int(self.edges_s.size - 1)

    @property
    def dt_h(self) -> FloatArray:
        """Step lengths [h] (read-only)."""
        dt_h: FloatArray = self._dt_h  # type: ignore[attr-defined]
        return dt_h

    @property
    def start(self) -> datetime:
        """Start of the first step (UTC)."""
        return datetime.fromtimestamp(int(self.edges_s[0]), UTC)

    @property
    def end(self) -> datetime:
        """End of the last step (UTC)."""
        return datetime.fromtimestamp(int(self.edges_s[-1]), UTC)

    @property
    def starts_s(self) -> IntArray:
        """Step starts [s since the Unix epoch, UTC]."""
        return self.edges_s[:-1]

    @property
    def mid_s(self) -> FloatArray:
        """Step midpoints [s since the Unix epoch, UTC]."""
        return (self.edges_s[:-1] + self.edges_s[1:]).astype(np.float64) / 2.0

    def starts(self) -> list[datetime]:
        """Step starts as aware UTC datetimes."""
        return [datetime.fromtimestamp(int(s), UTC) for s in self.starts_s]

    def step_at(self, moment: datetime) -> int:
        """Index of the step containing ``moment``; -1 before the grid, ``n`` after it."""
        t = ensure_utc(moment).timestamp()
        return int(np.searchsorted(self.edges_s, t, side="right")) - 1

    def edge_index(self, moment: datetime) -> int:
        """Index of the last edge at or before ``moment`` (0..n); clipped to the grid."""
        t = ensure_utc(moment).timestamp()
        return int(np.clip(np.searchsorted(self.edges_s, t, side="right") - 1, 0, self.n))

    def shifted(self, delta: timedelta) -> TimeGrid:
        """The same steps moved by ``delta``."""
        return TimeGrid(self.edges_s + int(delta.total_seconds()))


def piecewise_mean(
    breakpoints_s: FloatArray | IntArray, values: FloatArray, edges_s: FloatArray | IntArray
) -> FloatArray:
    """Time-weighted mean of a piecewise-constant function over each step [value unit].

    ``values[j]`` holds on ``[breakpoints_s[j], breakpoints_s[j + 1])``; the breakpoints must
    cover the steps given by ``edges_s`` [s]. The cumulative integral is piecewise linear, so
    interpolating it at the step edges is exact.

    >>> piecewise_mean(np.array([0, 1800, 7200]), np.array([1.0, 3.0]), np.array([0, 3600, 7200]))
    array([2., 3.])
    """
    cumulative = np.concatenate(([0.0], np.cumsum(values * np.diff(breakpoints_s))))
    at_edges = np.interp(edges_s, breakpoints_s, cumulative)
    mean = np.diff(at_edges) / np.diff(edges_s)
    # A step inside one segment takes that segment's value as is, free of rounding.
    first = np.searchsorted(breakpoints_s, edges_s[:-1], side="right") - 1
    last = np.searchsorted(breakpoints_s, edges_s[1:], side="left") - 1
    whole = np.clip(first, 0, values.size - 1)
    result: FloatArray = np.where(first == last, values[whole], mean)
    return result


def step_means(
    sample_edges_s: FloatArray | IntArray, values: FloatArray, grid: TimeGrid
) -> FloatArray:
    """Time-weighted mean of a piecewise-constant series over each step of ``grid``.

    ``values[i]`` holds from ``sample_edges_s[i]`` to ``sample_edges_s[i + 1]`` [s since the epoch];
    the samples must cover the grid. Exact for any step length, including a short first step.

    >>> g = TimeGrid(np.array([0, 1800, 5400]))
    >>> step_means(np.array([0, 3600, 7200]), np.array([1.0, 3.0]), g).tolist()
    [1.0, 2.0]
    """
    if sample_edges_s[0] > grid.edges_s[0] or sample_edges_s[-1] < grid.edges_s[-1]:
        raise ValueError("samples do not cover the time grid")
    return piecewise_mean(sample_edges_s, values, grid.edges_s)
