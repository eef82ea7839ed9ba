"""History at raw, 1-minute and 15-minute resolutions against means computed by hand from the statuses fed."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbridge.core.types import GridState
from voltbridge.store import Store

from .builders import T0, at, open_store, status

SEVERITY = {"on_grid": 0, "restoring": 1, "islanded": 2}


def feed_inputs() -> list[dict[str, Any]]:
    """240 statuses 10 s apart (40 minutes) with values that change every step."""
    inputs = []
    for i in range(240):
        cars: dict[str, tuple[bool, float, float | None]] = {
            "ev9": (i < 150, 7.0 - (i % 4) if i < 150 else 0.0, 40 + 0.02 * i if i < 150 else None)
        }
        if 30 <= i < 90:
            cars["leaf"] = (True, -3.0 - (i % 2), None if i % 5 == 0 else 20 - 0.01 * i)
        inputs.append(
            {
                "t_s": 10 * i,
                "grid_kw": (i % 7) - 3.0,
                "pv_kw": 0.01 * i,
                "load_kw": 1.0 + (i % 3),
                "battery_kw": (i % 5) - 2.0,
                "battery_soc_kwh": None if i % 4 == 3 else 5 + 0.01 * i,
                "cars": cars,
                "grid_state": GridState.ISLANDED if 100 <= i < 106 else GridState.ON_GRID,
            }
        )
    return inputs


def by_hand(inputs: list[dict[str, Any]], resolution_s: int) -> list[dict[str, Any]]:
    """The expected rows, computed in plain Python (no SQL)."""
    buckets: dict[int, list[dict[str, Any]]] = {}
    for x in inputs:
        buckets.setdefault(x["t_s"] // resolution_s * resolution_s, []).append(x)
    rows = []
    for b, xs in sorted(buckets.items()):

        def mean(key: str, xs: list[dict[str, Any]] = xs) -> float:
            return float(sum(x[key] for x in xs)) / len(xs)

        socs = [x["battery_soc_kwh"] for x in xs if x["battery_soc_kwh"] is not None]
        vehicles = {}
        for name in ("ev9", "leaf"):
            seen = [x["cars"][name] for x in xs if name in x["cars"]]
            if seen:
                known = [c[2] for c in seen if c[2] is not None]
                vehicles[name] = {
                    "kw": sum(c[1] for c in seen) / len(seen),
                    "soc_kwh": known[-1] if known else None,
                    "plugged_in": seen[-1][0],
                }
        rows.append(
            {
                "at": (T0 + timedelta(seconds=b)).isoformat().replace("+00:00", "Z"),
                "grid_kw": mean("grid_kw"),
                "pv_kw": mean("pv_kw"),
                "load_kw": mean("load_kw"),
                "battery_kw": mean("battery_kw"),
                "battery_soc_kwh": socs[-1] if socs else None,
                "vehicles": vehicles,
                "grid_state": max((x["grid_state"].value for x in xs), key=SEVERITY.__getitem__),
            }
        )
    return rows


def record_all(path: Path, inputs: list[dict[str, Any]], commit_interval_s: float) -> Store:
    store, clock = open_store(path, commit_interval_s=commit_interval_s)
    for x in inputs:
        store.record_status(
            status(
                at(x["t_s"]),
                grid_kw=x["grid_kw"],
                pv_kw=x["pv_kw"],
                load_kw=x["load_kw"],
                battery_kw=x["battery_kw"],
                battery_soc_kwh=x["battery_soc_kwh"],
                cars=x["cars"],
                grid_state=x["grid_state"],
            )
        )
        clock.advance(10)
    store.flush()
    return store


def assert_rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [r["at"] for r in got] == [r["at"] for r in want]
    for g, w in zip(got, want, strict=True):
        for key in ("grid_kw", "pv_kw", "load_kw", "battery_kw", "battery_soc_kwh"):
            assert g[key] == pytest.approx(w[key]), (g["at"], key)
        assert g["grid_state"] == w["grid_state"], g["at"]
        assert g["vehicles"].keys() == w["vehicles"].keys(), g["at"]
        for name, car in w["vehicles"].items():
            assert g["vehicles"][name]["kw"] == pytest.approx(car["kw"]), (g["at"], name)
            assert g["vehicles"][name]["soc_kwh"] == pytest.approx(car["soc_kwh"]), (g["at"], name)
            assert g["vehicles"][name]["plugged_in"] is car["plugged_in"], (g["at"], name)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[float, Store]]:
    """The feed recorded twice: a commit after every status (rollups built from many upserts)
    and one commit at the end (one batch)."""
    folder = tmp_path_factory.mktemp("history")
    stores = {c: record_all(folder / f"{c}.db", feed_inputs(), c) for c in (0.0, 1e9)}
    yield stores
    for store in stores.values():
        store.close()


@pytest.mark.parametrize("commit_interval_s", [0.0, 1e9])
@pytest.mark.parametrize("resolution_s", [10, 30, 90, 60, 300, 900, 3600])
def test_history_equals_hand_computed_means(
    recorded: dict[float, Store], commit_interval_s: float, resolution_s: int
) -> None:
    got = recorded[commit_interval_s].history(at(0), at(2400), resolution_s)
    assert_rows_equal(got, by_hand(feed_inputs(), resolution_s))


def test_history_covers_whole_buckets_overlapping_the_range(recorded: dict[float, Store]) -> None:
    inputs = feed_inputs()
    store = recorded[0.0]
    got = store.history(at(610), at(1210), 300)  # buckets 600, 900 and 1200
    empty = store.history(at(-3600), at(-60), 60)
    late = store.history(at(2300), at(9000), 900)
    assert_rows_equal(
        got,
        [
            r
            for r in by_hand(inputs, 300)
            if r["at"] in {"2026-03-02T00:10:00Z", "2026-03-02T00:15:00Z", "2026-03-02T00:20:00Z"}
        ],
    )
    assert empty == []  # no data: no rows, not zeros
    assert [r["at"] for r in late] == ["2026-03-02T00:30:00Z"]  # buckets without data left out


def test_history_without_battery_or_cars_gives_none(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "h.db")
    with store:
        store.record_status(status(at(0), grid_kw=1.5, load_kw=1.5))
        store.flush()
        (row,) = store.history(at(0), at(60), 60)
    assert row["battery_kw"] is None and row["battery_soc_kwh"] is None
    assert row["vehicles"] == {} and row["grid_kw"] == 1.5 and row["grid_state"] == "on_grid"


@pytest.mark.parametrize(
    ("start", "end", "resolution_s", "words"),
    [
        (at(0), at(60), 0, "resolution_s"),
        (at(0), at(60), 1.5, "resolution_s"),
        (at(60), at(60), 60, "not after"),
        (at(60), at(0), 60, "not after"),
        (datetime(2026, 3, 2), at(60), 60, "timezone"),
        (at(0), at(86400 * 400), 1, "at most 100000"),
    ],
)
def test_history_refuses_bad_requests(
    tmp_path: Path, start: datetime, end: datetime, resolution_s: Any, words: str
) -> None:
    store, _ = open_store(tmp_path / "h.db")
    with store, pytest.raises(ValueError, match=words):
        store.history(start, end, resolution_s)


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 400), st.floats(-20, 20, allow_nan=False)), min_size=1, max_size=60
    ),
    resolution_s=st.sampled_from([60, 120, 900, 1800]),
)
def test_rollup_means_equal_raw_means(steps: list[tuple[int, float]], resolution_s: int) -> None:
    """Any spacing of samples: rollup-served means equal the plain mean of the samples per bucket."""
    t_s = 0
    samples = []
    for dt_s, grid_kw in steps:
        t_s += dt_s
        samples.append((t_s, grid_kw))
    with tempfile.TemporaryDirectory() as folder:
        store, clock = open_store(Path(folder) / "p.db", commit_interval_s=100)
        with store:
            for t_s, grid_kw in samples:
                store.record_status(status(at(t_s), grid_kw=grid_kw))
                clock.advance(37)
            store.flush()
            got = store.history(at(0), at(t_s + 1), resolution_s)
    buckets: dict[int, list[float]] = {}
    for t_s, grid_kw in samples:
        buckets.setdefault(t_s // resolution_s * resolution_s, []).append(grid_kw)
    assert len(got) == len(buckets)
    for row, (b, values) in zip(got, sorted(buckets.items()), strict=True):
        assert row["at"] == at(b).isoformat().replace("+00:00", "Z")
        assert row["grid_kw"] == pytest.approx(sum(values) / len(values), abs=1e-9)
