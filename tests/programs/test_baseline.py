"""Baseline rules on series small enough to check on paper."""

from __future__ import annotations

import numpy as np
import pytest

from voltbridge.programs import baseline as bl


def test_ten_of_ten_is_the_plain_mean_of_the_last_ten_days() -> None:
    # 12 days, one step each: the first two fall out of "the last 10".
    rows = np.arange(1.0, 13.0).reshape(12, 1)
    assert bl.ten_of_ten_kw(rows).tolist() == [pytest.approx(7.5)]  # mean of 3..12


def test_five_of_ten_takes_the_five_highest_of_the_last_ten() -> None:
    # Last 10 rows are 9, 1, 8, 2, 7, 3, 6, 4, 5, 10: the five highest are 10, 9, 8, 7, 6.
    window = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0, 10.0]
    rows = np.array([[100.0, 100.0], [100.0, 100.0]] + [[v, 2 * v] for v in window])
    assert bl.five_of_ten_kw(rows).tolist() == [pytest.approx(8.0), pytest.approx(16.0)]


def test_ties_take_the_more_recent_day() -> None:
    rows = np.array([[1.0, 0.0], [0.0, 1.0]])  # same energy, different shape
    assert bl.day_matching_baseline_kw(rows, 2, 1).tolist() == [0.0, 1.0]


def test_fewer_days_than_asked_use_what_there_is_and_none_gives_nothing() -> None:
    assert bl.ten_of_ten_kw(np.array([[2.0], [4.0]])).tolist() == [3.0]
    assert bl.ten_of_ten_kw(np.zeros((0, 3))).size == 0


def test_zero_export_baseline_is_zero() -> None:
    assert bl.zero_export_baseline_kw(4).tolist() == [0.0] * 4


def test_adjustment_is_capped_both_ways_and_neutral_without_a_positive_baseline() -> None:
    assert bl.adjustment_ratio(np.array([2.0]), np.array([1.0]), 20.0) == pytest.approx(1.2)
    assert bl.adjustment_ratio(np.array([0.1]), np.array([1.0]), 20.0) == pytest.approx(0.8)
    assert bl.adjustment_ratio(np.array([0.9]), np.array([1.0]), 20.0) == pytest.approx(0.9)
    assert bl.adjustment_ratio(np.array([3.0]), np.array([-1.0]), 20.0) == 1.0


def test_eligible_days_skip_other_kinds_of_day_and_event_days() -> None:
    days = np.arange(0, 12)
    off = np.isin(days, (5, 6))  # a weekend
    assert bl.eligible_days(11, days, off, np.array([2]), 10).tolist() == [0, 1, 3, 4, 7, 8, 9, 10]
    assert bl.eligible_days(6, days, off, np.array([], dtype=np.int64), 4).tolist() == [5]
    with pytest.raises(ValueError, match="not among"):
        bl.eligible_days(20, days, off, np.array([2]), 10)
