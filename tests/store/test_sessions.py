"""Sessions from a plug-in/unplug sequence, with energy and money worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from .builders import at, open_store, status

PI, PE = 0.30, 0.08  # import and export prices [currency/kWh]


def test_session_energy_cost_and_value(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "s.db")
    feed = [
        # (t [s], plugged, car kW, grid kW)
        (0, False, 0.0, 1.0),
        (30, True, 7.0, 8.0),  # plugged in: the session starts here
        (60, True, 7.0, 8.0),
        (90, True, -5.0, -2.0),  # discharging 5 kW, 2 kW of it exported
        (120, True, -5.0, 0.5),  # discharging 5 kW into the house, importing 0.5
        (150, True, 0.0, 1.0),
        (180, False, 0.0, 1.0),  # unplugged: the session ends here
        (210, True, 3.0, 4.0),  # a second session, still open
        (240, True, 3.0, 4.0),
    ]
    with store:
        for t, plugged, kw, grid in feed:
            store.record_status(
                status(
                    at(t),
                    grid_kw=grid,
                    cars={"ev9": (plugged, kw, 50.0)},
                    price_import=PI,
                    price_export=PE,
                )
            )
        store.flush()
        newest, first = store.sessions()
    h = 30 / 3600  # each interval [h]
    charged = 7.0 * h * 2  # [30, 90)
    discharged = 5.0 * h * 2  # [90, 150)
    assert first["vehicle"] == "ev9"
    assert (first["start"], first["end"]) == ("2026-03-02T00:00:30Z", "2026-03-02T00:03:00Z")
    assert first["charged_kwh"] == pytest.approx(charged)
    assert first["discharged_kwh"] == pytest.approx(discharged)
    assert first["cost"] == pytest.approx(charged * PI)
    # [90, 120): 2 kW exported at PE, 3 kW displaced imports at PI; [120, 150): 5 kW at PI
    assert first["value"] == pytest.approx((2 * PE + 3 * PI) * h + 5 * PI * h)
    assert (newest["start"], newest["end"]) == ("2026-03-02T00:03:30Z", None)
    assert newest["charged_kwh"] == pytest.approx(3.0 * h)
    assert newest["id"] != first["id"]


def test_open_session_survives_a_restart_and_closes_later(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store, clock = open_store(path)
    with store:
        for t in (0, 10, 20):
            store.record_status(
                status(at(t), grid_kw=7, cars={"ev9": (True, 7.0, 50.0)}, price_import=PI)
            )
    store, _ = open_store(path, clock)
    with store:
        (open_session,) = store.sessions()
        assert open_session["end"] is None
        # the controller comes back 10 s later: the interval from the last stored status counts
        for t in (30, 40):
            store.record_status(
                status(at(t), grid_kw=7, cars={"ev9": (True, 7.0, 50.0)}, price_import=PI)
            )
        store.record_status(status(at(50), cars={"ev9": (False, 0.0, None)}))
        store.flush()
        (session,) = store.sessions()
    assert session["end"] == "2026-03-02T00:00:50Z"
    assert session["charged_kwh"] == pytest.approx(7.0 * 50 / 3600)
    assert session["cost"] == pytest.approx(7.0 * 50 / 3600 * PI)


def test_unplug_seen_after_a_gap_ends_at_the_last_plugged_status(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "s.db")
    with store:
        store.record_status(status(at(0), cars={"ev9": (True, 7.0, 50.0)}, price_import=PI))
        store.record_status(status(at(20), cars={"ev9": (True, 7.0, 50.0)}, price_import=PI))
        store.record_status(status(at(3600), cars={}))  # an hour without data, the car gone
        store.flush()
        (session,) = store.sessions()
    assert session["end"] == "2026-03-02T00:00:20Z"
    assert session["charged_kwh"] == pytest.approx(7.0 * 20 / 3600)  # the gap is not counted


def test_sessions_filtered_by_time_and_limited(tmp_path: Path) -> None:
    store, _ = open_store(tmp_path / "s.db")
    plugged = [True, True, False, True, False, True]  # sessions [0, 20), [30, 40), [50, open)
    with store:
        for i, p in enumerate(plugged):
            store.record_status(status(at(10 * i), cars={"ev9": (p, 0.0, None)}))
        store.flush()
        assert [s["start"][-3:] for s in store.sessions()] == ["50Z", "30Z", "00Z"]
        assert [s["start"][-3:] for s in store.sessions(start=at(20))] == ["50Z", "30Z"]
        assert [s["start"][-3:] for s in store.sessions(end=at(30))] == ["00Z"]
        assert [s["start"][-3:] for s in store.sessions(start=at(45), end=at(100))] == ["50Z"]
        assert len(store.sessions(limit=1)) == 1
        with pytest.raises(ValueError, match="limit"):
            store.sessions(limit=0)
