"""A household's own measured load: a year of smart-meter readings at 15 minutes or one hour.

Format (one header line, then one row per interval, oldest first)::

    timestamp,kw                      or    timestamp,kwh
    2025-01-01T00:00:00+01:00,0.42          2025-01-01T00:00:00+01:00,0.105

``timestamp`` is the interval's start in ISO 8601 with its UTC offset (``Z`` for UTC); ``kw`` is the
interval's mean power [kW], ``kwh`` the energy metered in it [kWh]. Intervals are all 15 or all 60
minutes, with no gaps, covering at least ``MIN_DAYS`` days. The year is laid on any period by
repeating it every 52 weeks (364 days), so Mondays stay Mondays.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from voltbridge.core.timegrid import FloatArray, IntArray, TimeGrid, step_means

MIN_DAYS = 364
PERIOD_S = 364 * 86400
"""The measured year repeats every 52 weeks, keeping weekdays aligned [s]."""
_INTERVALS_S = (900, 3600)


@dataclass(frozen=True)
class MeasuredLoad:
    """Validated readings.

    Attributes:
        start_s: start of the first interval [s since the Unix epoch, UTC].
        interval_s: length of each interval [s] (900 or 3600).
        kw: mean power of each interval [kW].
    """

    start_s: int
    interval_s: int
    kw: FloatArray

    @property
    def annual_kwh(self) -> float:
        """Energy of the first 52 weeks [kWh]."""
        n = PERIOD_S // self.interval_s
        return float(self.kw[:n].sum()) * self.interval_s / 3600


class MeasuredLoadError(ValueError):
    """A measured load file that cannot be used; the message names the file and line."""


def _parse_time(text: str, where: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MeasuredLoadError(
            f"{where}: timestamp {text!r} is not ISO 8601 (e.g. 2025-01-01T00:00:00+01:00)"
        ) from None
    if moment.utcoffset() is None:
        raise MeasuredLoadError(
            f"{where}: timestamp {text!r} has no UTC offset; add one (+01:00) or Z for UTC"
        )
    return int(moment.timestamp())


def _check_step(step_s: int, times: list[int], where: str) -> None:
    """The interval from the previous row: 15 or 60 minutes, and the same on every row."""
    if len(times) == 1 and step_s not in _INTERVALS_S:
        raise MeasuredLoadError(
            f"{where}: intervals must be 15 or 60 minutes, found {step_s / 60:g} min"
        )
    if len(times) > 1 and step_s != times[1] - times[0]:
        raise MeasuredLoadError(
            f"{where}: expected {(times[1] - times[0]) // 60} min after the previous row, found "
            f"{step_s / 60:g} min (a gap, a duplicate or rows out of order)"
        )


@lru_cache(maxsize=8)
def read_measured_load(path: Path) -> MeasuredLoad:
    """Read and validate a measured load CSV; MeasuredLoadError naming the line otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MeasuredLoadError(f"{path}: cannot read the measured load file ({exc})") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    if len(header) != 2 or header[0] != "timestamp" or header[1] not in ("kw", "kwh"):
        raise MeasuredLoadError(
            f"{path}:1: the header must be 'timestamp,kw' or 'timestamp,kwh', not "
            f"{','.join(header)!r}"
        )
    energy = header[1] == "kwh"
    times: list[int] = []
    values: list[float] = []
    for line, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        where = f"{path}:{line}"
        if len(row) != 2:
            raise MeasuredLoadError(f"{where}: expected 2 columns, found {len(row)}")
        t = _parse_time(row[0], where)
        try:
            value = float(row[1])
        except ValueError:
            raise MeasuredLoadError(f"{where}: {row[1]!r} is not a number") from None
        if not np.isfinite(value) or value < 0:
            raise MeasuredLoadError(f"{where}: {header[1]} must be a number >= 0")
        if times:
            _check_step(t - times[-1], times, where)
        times.append(t)
        values.append(value)
    if len(times) < 2:
        raise MeasuredLoadError(f"{path}: the measured load has fewer than two readings")
    interval = times[1] - times[0]
    days = len(times) * interval / 86400
    if days < MIN_DAYS:
        raise MeasuredLoadError(
            f"{path}: {days:.1f} days of readings; give at least {MIN_DAYS} days (a year)"
        )
    kw = np.asarray(values, dtype=np.float64)
    if energy:
        kw = kw * 3600 / interval
    return MeasuredLoad(times[0], interval, kw)


def measured_load_kw(grid: TimeGrid, path: Path) -> FloatArray:
    """Load from a measured year on ``grid``, mean over each step [kW].

    A moment outside the readings takes the reading a whole number of 52-week periods away, so
    the year repeats with weekdays aligned.
    """
    data = read_measured_load(Path(path))
    step = data.interval_s
    start = grid.edges_s[0] // step * step
    end = -(-grid.edges_s[-1] // step) * step
    edges: IntArray = np.arange(start, end + step, step, dtype=np.int64)
    offset = (edges[:-1] - data.start_s) % PERIOD_S
    return step_means(edges, data.kw[offset // step], grid)
