"""Money: grid power times price integrated by hand, with gaps that are not integrated."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .builders import at, open_store, status


def test_money_with_a_gap(tmp_path: Path) -> None:
    feed = [
        # (t [s], grid kW, import price, export price, baseline kW)
        (0, 4.0, 0.30, 0.05, 10.0),
        (30, -2.0, 0.30, 0.05, 10.0),
        (60, 3.0, 0.40, 0.05, 2.0),
        (90, 3.0, 0.40, 0.05, 2.0),  # then 210 s without data: not integrated
        (300, 6.0, 0.20, None, -1.0),  # export price unknown
        (330, 0.0, 0.20, None, 0.0),  # ends the last interval
    ]
    store, _ = open_store(tmp_path / "m.db")
    with store:
        for t, grid, pi, pe, base in feed:
            store.record_status(
                status(at(t), grid_kw=grid, price_import=pi, price_export=pe, baseline_grid_kw=base)
            )
        store.flush()
        bill = store.money(at(0), at(900))
        first_minute = store.money(at(0), at(60))
    h = 30 / 3600
    import_kwh = (4.0 + 3.0 + 6.0) * h
    import_cost = (4.0 * 0.30 + 3.0 * 0.40 + 6.0 * 0.20) * h
    export_kwh = 2.0 * h
    export_revenue = 2.0 * 0.05 * h
    baseline_cost = (10 * 0.30 + 10 * 0.30 + 2 * 0.40 - 1.0 * 0.0) * h  # unknown price: nothing
    assert bill["import_kwh"] == pytest.approx(import_kwh)
    assert bill["export_kwh"] == pytest.approx(export_kwh)
    assert bill["import_cost"] == pytest.approx(import_cost)
    assert bill["export_revenue"] == pytest.approx(export_revenue)
    assert bill["net_cost"] == pytest.approx(import_cost - export_revenue)
    assert bill["baseline_cost"] == pytest.approx(baseline_cost)
    assert bill["savings"] == pytest.approx(baseline_cost - (import_cost - export_revenue))
    assert first_minute["import_kwh"] == pytest.approx(4.0 * h)
    assert first_minute["export_kwh"] == pytest.approx(2.0 * h)


def test_money_reads_quarter_hours_and_minutes_alike(tmp_path: Path) -> None:
    """A long range is served from 15-minute rows plus edge minutes: the same sum as by hand."""
    store, _ = open_store(tmp_path / "m.db")
    with store:
        for i in range(361):  # 3 hours, 30 s apart; 1 kW more every status, at 0.25 a kWh
            store.record_status(status(at(30 * i), grid_kw=float(i % 11), price_import=0.25))
        store.flush()
        for start_s, end_s in [(0, 10800), (420, 10200), (120, 840), (1800, 5400), (60, 9000)]:
            bill = store.money(at(start_s), at(end_s))
            want_kwh = sum((i % 11) * 30 / 3600 for i in range(360) if start_s <= 30 * i < end_s)
            assert bill["import_kwh"] == pytest.approx(want_kwh), (start_s, end_s)
            assert bill["import_cost"] == pytest.approx(want_kwh * 0.25), (start_s, end_s)


def test_an_interval_across_a_minute_is_split(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "m.db")
    with store:
        store.record_status(status(at(45), grid_kw=3.6, price_import=1.0))
        store.record_status(status(at(95), grid_kw=0.0, price_import=1.0))
        store.flush()
        assert store.money(at(0), at(60))["import_kwh"] == pytest.approx(3.6 * 15 / 3600)
        assert store.money(at(60), at(120))["import_kwh"] == pytest.approx(3.6 * 35 / 3600)


def test_money_refuses_an_empty_range(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "m.db")
    with store, pytest.raises(ValueError, match="not after"):
        store.money(at(60), at(60))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 150),  # seconds to the next status
            st.floats(-10, 10, allow_nan=False),  # grid [kW]
            st.one_of(st.none(), st.floats(0, 1)),  # import price
            st.floats(0, 0.5),  # export price
        ),
        min_size=2,
        max_size=40,
    )
)
def test_money_equals_a_hand_integration(
    steps: list[tuple[int, float, float | None, float]],
) -> None:
    t_s, feed = 0, []
    for dt_s, grid, pi, pe in steps:
        feed.append((t_s, grid, pi, pe))
        t_s += dt_s
    want = {"import_kwh": 0.0, "export_kwh": 0.0, "import_cost": 0.0, "export_revenue": 0.0}
    for (t0, grid, pi, pe), (t1, *_) in itertools.pairwise(feed):
        if t1 - t0 > 60:
            continue  # a gap: missing data, not zero
        h = (t1 - t0) / 3600
        want["import_kwh"] += max(grid, 0) * h
        want["export_kwh"] += max(-grid, 0) * h
        want["import_cost"] += max(grid, 0) * h * (pi or 0.0)
        want["export_revenue"] += max(-grid, 0) * h * pe
    with tempfile.TemporaryDirectory() as folder:
        store, _ = open_store(Path(folder) / "m.db", commit_interval_s=1e9)
        with store:
            for t, grid, pi, pe in feed:
                store.record_status(status(at(t), grid_kw=grid, price_import=pi, price_export=pe))
            store.flush()
            bill = store.money(at(0), at(feed[-1][0] + 3600))
    for key, value in want.items():
        assert bill[key] == pytest.approx(value, abs=1e-9), key
    assert bill["net_cost"] == pytest.approx(want["import_cost"] - want["export_revenue"], abs=1e-9)
