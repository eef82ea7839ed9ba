"""Dynamic price series (day-ahead prices from a CSV) integrated exactly over a time grid."""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from voltbridge.core import FloatArray
from voltbridge.core.timegrid import piecewise_mean
from voltbridge.tariffs.errors import TariffError
from voltbridge.tariffs.localclock import IntArray
from voltbridge.tariffs.models import PriceSeries


@dataclass(frozen=True)
class SeriesData:
    """A parsed price series.

    Attributes:
        starts_s: row starts [s since the Unix epoch, UTC], strictly increasing.
        prices: the CSV's ``price`` column [currency/kWh], before adder and multiplier.
        end_s: end of the last row [s, UTC]: its start plus the most common spacing.
    """

    starts_s: IntArray
    prices: FloatArray
    end_s: int


def load_series(file: Path) -> SeriesData:
    """Read a price-series CSV, cached until the file changes; ``TariffError`` if unusable."""
    try:
        stat = file.stat()
    except OSError:
        raise TariffError(
            f"price series file {str(file)!r} not found; relative paths are resolved against the "
            "site file's folder (Tariff.resolve_paths)"
        ) from None
    return _parse(str(file), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _parse(path: str, mtime_ns: int, size: int) -> SeriesData:
    del mtime_ns, size  # part of the cache key only
    starts: list[int] = []
    prices: list[float] = []
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"start", "price"} <= set(reader.fieldnames):
            raise TariffError(f"{path}: the header must name the columns 'start' and 'price'")
        for line, row in enumerate(reader, start=2):
            starts.append(_instant(path, line, row["start"]))
            prices.append(_price(path, line, row["price"]))
    if len(starts) < 2:
        raise TariffError(f"{path}: a price series needs at least two rows")
    starts_s = np.array(starts, dtype=np.int64)
    spacing = np.diff(starts_s)
    if np.any(spacing <= 0):
        line = int(np.flatnonzero(spacing <= 0)[0]) + 3
        raise TariffError(f"{path}:{line}: 'start' must increase from row to row")
    values, counts = np.unique(spacing, return_counts=True)
    end_s = int(starts_s[-1] + values[np.argmax(counts)])
    return SeriesData(starts_s, np.array(prices, dtype=np.float64), end_s)


def _open_text(path: str) -> io.TextIOBase:
    """The CSV as text; gzip-compressed when its name ends in ``.gz``."""
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, newline="", encoding="utf-8")


def repeat_period_s(data: SeriesData) -> int:
    """Period [s] of a repeated series: the whole weeks it covers (``TariffError`` if none)."""
    week_s = 7 * 86400
    period = (data.end_s - int(data.starts_s[0])) // week_s * week_s
    if period == 0:
        raise TariffError("a price series with repeat = true must cover at least one week")
    return period


def _repeated(
    data: SeriesData, values: FloatArray, lo: int, hi: int
) -> tuple[IntArray, FloatArray]:
    """Breakpoints and segment values covering [lo, hi]: the series itself where it has rows, and
    beyond, its last ``repeat_period_s`` seconds shifted by whole periods (weekdays kept)."""
    period = repeat_period_s(data)
    start = int(data.starts_s[0])
    unit_start = data.end_s - period
    row = int(np.searchsorted(data.starts_s, unit_start, side="right")) - 1
    unit_pts = np.concatenate(([unit_start], data.starts_s[row + 1 :]))
    unit_vals = values[row:]
    k_lo = min((lo - unit_start) // period, -1)
    k_hi = max((hi - unit_start) // period, 0)
    shifts = np.arange(k_lo, k_hi + 1, dtype=np.int64) * period
    pts = (unit_pts[None, :] + shifts[:, None]).ravel()
    vals = np.tile(unit_vals, shifts.size)
    # Inside the series (before its repeated part) the real rows apply, not the repetition.
    keep = (pts < start) | (pts >= unit_start)
    own = (data.starts_s >= start) & (data.starts_s < unit_start)
    merged_pts = np.concatenate((pts[keep], data.starts_s[own]))
    merged_vals = np.concatenate((vals[keep], values[own]))
    order = np.argsort(merged_pts, kind="stable")
    end = unit_start + (k_hi + 1) * period
    return np.concatenate((merged_pts[order], [end])), merged_vals[order]


def _instant(path: str, line: int, text: str | None) -> int:
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise TariffError(
            f"{path}:{line}: start {text!r} is not an ISO 8601 time with an offset "
            "(e.g. 2024-03-31T03:00+02:00)"
        )
    return int(moment.timestamp())


def _price(path: str, line: int, text: str | None) -> float:
    try:
        value = float((text or "").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise TariffError(f"{path}:{line}: price {text!r} is not a number")
    return value


def series_mean_prices(spec: PriceSeries, edges_s: IntArray, tz: str | None = None) -> FloatArray:
    """Time-weighted mean retail price ``(price + adder) * multiplier`` per step [currency/kWh].

    Outside the series' coverage it repeats (``repeat``) or the ``fallback_rate`` applies;
    without either a ``TariffError`` names the missing dates (in ``tz`` when given, else UTC).
    """
    data = load_series(spec.file)
    lo, hi = int(edges_s[0]), int(edges_s[-1])
    breakpoints = np.concatenate((data.starts_s, [data.end_s]))
    values = (data.prices + spec.adder) * spec.multiplier
    if spec.repeat and (lo < breakpoints[0] or hi > breakpoints[-1]):
        breakpoints, values = _repeated(data, values, lo, hi)
    elif lo < breakpoints[0] or hi > breakpoints[-1]:
        if spec.fallback_rate is None:
            raise TariffError(_coverage_message(spec.file, data, lo, hi, tz))
        if lo < breakpoints[0]:
            breakpoints = np.concatenate(([lo], breakpoints))
            values = np.concatenate(([spec.fallback_rate], values))
        if hi > breakpoints[-1]:
            breakpoints = np.concatenate((breakpoints, [hi]))
            values = np.concatenate((values, [spec.fallback_rate]))
    first = int(np.searchsorted(breakpoints, lo, side="right")) - 1
    last = int(np.searchsorted(breakpoints, hi, side="left"))
    inside = np.concatenate(([lo], breakpoints[first + 1 : last], [hi]))
    return piecewise_mean(inside, values[first:last], edges_s)


def _coverage_message(file: Path, data: SeriesData, lo: int, hi: int, tz: str | None) -> str:
    zone = ZoneInfo(tz) if tz else UTC

    def when(t: int) -> str:
        return datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d %H:%M")

    missing = []
    if lo < data.starts_s[0]:
        missing.append(f"{when(lo)} to {when(min(hi, int(data.starts_s[0])))}")
    if hi > data.end_s:
        missing.append(f"{when(max(lo, data.end_s))} to {when(hi)}")
    return (
        f"price series {file.name} covers {when(int(data.starts_s[0]))} to {when(data.end_s)} "
        f"({tz or 'UTC'}) but the time grid also needs {' and '.join(missing)}; add those rows "
        "to the CSV or set fallback_rate"
    )
