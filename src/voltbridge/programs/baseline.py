"""Baseline rules: what a household would have drawn in an event window had there been no event.

Delivered energy is the baseline minus the metered net import in the window. These are pure
functions on arrays of metered net import [kW] (import +, export -), one row per past day and one
column per step of the event window; choosing which past days are eligible is
:func:`eligible_days`. Sources of the rules:

- *10 of 10* and *5 of 10* ("X of Y" day matching): CAISO, "Demand Response User Guide" and the
  Business Practice Manual for Metering, section on Customer Load Baselines (the 10-in-10 baseline:
  the average of the same hours on the 10 most recent eligible non-event weekdays; weekends and
  holidays 4 in 4), and the California IOUs' demand response tariffs (e.g. PG&E Capacity Bidding
  Program, Schedule E-CBP), which use the same rule and a "5 of 10" variant averaging the 5 highest
  of the 10 days for weather-sensitive residential load. The *same-day adjustment* (also called
  day-of adjustment) scales the baseline by actual over baseline use in the hours before the event,
  capped (CAISO and PG&E use caps of 20 % to 40 %; the cap is the program's figure).
- *Zero-export*: a fixed baseline of 0 kW, so that only net export counts (export-paying V2G and
  virtual power plant pilots measure delivery at the meter this way).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def zero_export_baseline_kw(steps: int) -> FloatArray:
    """The fixed zero-export baseline: 0 kW at each of ``steps`` steps.

    >>> zero_export_baseline_kw(3)
    array([0., 0., 0.])
    """
    return np.zeros(steps, dtype=np.float64)


def day_matching_baseline_kw(history_kw: FloatArray, days: int, highest: int) -> FloatArray:
    """ "``highest`` of ``days``": the mean per step over the ``highest`` of the last ``days`` rows
    with the largest use in the window [kW].

    Args:
        history_kw: net import [kW] on eligible past days, one row per day, oldest first, one
            column per step of the window.
        days: how many of the most recent rows are looked at (10 for "10 of 10").
        highest: how many of them, those with the most energy in the window, are averaged; on a
            tie the more recent day is taken.

    Fewer rows than ``days`` (a new meter) use what there is; no rows give an empty baseline,
    which callers treat as "no baseline".

    >>> rows = np.array([[1.0, 1.0], [3.0, 3.0], [2.0, 2.0]])
    >>> day_matching_baseline_kw(rows, 10, 10)
    array([2., 2.])
    >>> day_matching_baseline_kw(rows, 10, 2)
    array([2.5, 2.5])
    """
    chosen = selected_rows(history_kw, days, highest)
    if chosen.size == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(history_kw[chosen].mean(axis=0), dtype=np.float64)


def selected_rows(history_kw: FloatArray, days: int, highest: int) -> IntArray:
    """Row indices of ``history_kw`` that "``highest`` of ``days``" averages, in row order.

    >>> selected_rows(np.array([[1.0], [3.0], [2.0], [3.0]]), 3, 2)
    array([1, 3])
    """
    if history_kw.ndim != 2:
        raise ValueError("history_kw must have one row per day and one column per step")
    rows = history_kw.shape[0]
    first = max(0, rows - days) if days > 0 else rows
    recent = np.arange(first, rows, dtype=np.int64)
    if recent.size == 0:
        return recent
    totals = history_kw[recent].sum(axis=1)
    # Largest use first; among equals the more recent (later) row first.
    order = np.lexsort((-recent, -totals))[: max(1, highest)]
    return np.sort(recent[order])


def ten_of_ten_kw(history_kw: FloatArray) -> FloatArray:
    """ "10 of 10": the mean of the window on the 10 most recent eligible days [kW]."""
    return day_matching_baseline_kw(history_kw, 10, 10)


def five_of_ten_kw(history_kw: FloatArray) -> FloatArray:
    """ "5 of 10": the mean of the 5 highest-use of the 10 most recent eligible days [kW]."""
    return day_matching_baseline_kw(history_kw, 10, 5)


def adjustment_ratio(
    actual_before_kw: FloatArray, baseline_before_kw: FloatArray, cap_pct: float
) -> float:
    """The same-day adjustment factor: actual over baseline mean use in the hours before the
    event, held within ``1 +/- cap_pct / 100`` [-].

    A baseline that is not positive before the event (a PV export hour) gives no ratio to scale
    by: the factor is 1.

    >>> adjustment_ratio(np.array([2.5]), np.array([2.0]), 40.0)
    1.25
    >>> adjustment_ratio(np.array([3.0]), np.array([1.0]), 40.0)
    1.4
    """
    if actual_before_kw.size == 0 or baseline_before_kw.size == 0:
        return 1.0
    base = float(np.mean(baseline_before_kw))
    if base <= 1e-9:
        return 1.0
    ratio = float(np.mean(actual_before_kw)) / base
    cap = cap_pct / 100.0
    return float(np.clip(ratio, 1.0 - cap, 1.0 + cap))


def eligible_days(
    event_day: int,
    candidate_days: IntArray,
    off_days: BoolArray,
    excluded_days: IntArray,
    count: int,
) -> IntArray:
    """The ``count`` most recent eligible days before ``event_day``, oldest first.

    Eligible: before the event's day, not excluded (a day with an event of the program, or one
    without metered data), and of the same kind as the event's day (a working day for a working
    day, a weekend day or holiday for those).

    Args:
        event_day: the event's local day number (days since 1970-01-01).
        candidate_days: local day numbers that could serve, with ``event_day`` among them.
        off_days: per candidate, whether it is a weekend day or holiday.
        excluded_days: day numbers that may not serve.
        count: how many days are wanted.

    >>> days = np.arange(10, 20)
    >>> off = np.isin(days % 7, (2, 3))  # days 16 and 17 are the weekend here
    >>> eligible_days(19, days, off, np.array([18]), 3).tolist()
    [13, 14, 15]
    """
    where = np.flatnonzero(candidate_days == event_day)
    if where.size == 0:
        raise ValueError(f"event day {event_day} is not among the candidate days")
    event_off = bool(off_days[where[0]])
    keep = (
        (candidate_days < event_day)
        & (off_days == event_off)
        & ~np.isin(candidate_days, excluded_days)
    )
    chosen = np.sort(np.unique(candidate_days[keep]))
    return chosen[-count:] if count > 0 else chosen[:0]
