"""Grid-state machine: loss, islanding, the enter-service wait, flapping, staleness and export."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.control.fakes import FAST_ENOUGH
from voltbridge.control import GridLimits, GridReading, GridStateMachine
from voltbridge.core.types import GridState

T0 = datetime(2026, 1, 1, tzinfo=UTC)
US = GridLimits(nominal_voltage_v=240.0, nominal_frequency_hz=60.0)  # normal 220.08-252 V
EU = GridLimits(nominal_voltage_v=230.0, nominal_frequency_hz=50.0)


def good(s: float, v: float = 240.0, f: float = 60.0) -> GridReading:
    return GridReading(at=T0 + timedelta(seconds=s), voltage_v=v, frequency_hz=f)


def machine(state: GridState = GridState.ON_GRID, limits: GridLimits = US) -> GridStateMachine:
    return GridStateMachine(limits, state)


def run(m: GridStateMachine, readings: list[GridReading]) -> list[tuple[GridState, str]]:
    return [(e.new, e.reason) for r in readings for e in m.update(r)]


@pytest.mark.parametrize(
    ("reading", "reason"),
    [
        (good(1, v=0.0), "grid voltage 0.0 V below 0.88 pu (211 V)"),
        (good(1, v=265.0), "grid voltage 265.0 V above 1.1 pu (264 V)"),
        (good(1, f=58.4), "grid frequency 58.40 Hz below 58.5 Hz"),
        (good(1, f=61.3), "grid frequency 61.30 Hz above 61.2 Hz"),
        (GridReading(at=T0 + timedelta(seconds=1), relay_closed=False), "grid relay open"),
    ],
)
def test_loss_islands_with_a_reason_naming_value_and_limit(
    reading: GridReading, reason: str
) -> None:
    m = machine()
    m.update(good(0))
    [event] = m.update(reading)
    assert (event.old, event.new, event.reason, event.at) == (
        GridState.ON_GRID,
        GridState.ISLANDED,
        reason,
        reading.at,
    )
    assert not m.grid_connected and not m.grid_export_allowed


def test_abnormal_but_not_lost_stays_on_grid() -> None:
    m = machine()
    assert run(m, [good(0, v=215.0), good(1, f=59.0), good(2, v=262.0)]) == []
    assert m.state is GridState.ON_GRID


def test_stays_islanded_while_out_then_restores_after_the_full_delay() -> None:
    m = machine()
    run(m, [good(0, v=0.0)] + [good(s, v=0.0, f=0.0) for s in range(1, 600)])
    assert m.restoring_remaining_s(T0) is None  # islanded: the wait has not started
    assert run(m, [good(600)]) == [
        (GridState.RESTORING, "grid within enter-service limits; reconnecting after 300 s")
    ]
    assert m.restoring_remaining_s(T0 + timedelta(seconds=700)) == pytest.approx(200.0)
    assert run(m, [good(s) for s in range(601, 900)]) == []
    assert m.state is GridState.RESTORING and not m.grid_export_allowed
    assert run(m, [good(900)]) == [(GridState.ON_GRID, "grid back within limits for 300 s")]
    assert m.grid_connected and m.grid_export_allowed and m.restoring_remaining_s(T0) == 0.0


def test_a_drop_during_restoring_goes_back_to_islanded_and_restarts_the_wait() -> None:
    m = machine(GridState.ISLANDED)
    run(m, [good(s) for s in range(0, 299)])  # grid returns 1 s short of the deadline...
    assert run(m, [good(299, v=215.0)]) == [  # ...then sags below the enter-service range
        (
            GridState.ISLANDED,
            "grid voltage 215.0 V below 0.917 pu (220 V); enter-service wait restarts",
        )
    ]
    run(m, [good(s) for s in range(300, 599)])
    assert m.state is GridState.RESTORING
    assert run(m, [good(600)]) == [(GridState.ON_GRID, "grid back within limits for 300 s")]


def test_flapping_every_30_s_for_an_hour_never_reconnects() -> None:
    m = machine()
    for s in range(3600):
        m.update(good(s, v=240.0 if (s // 30) % 2 else 0.0))
        assert m.state is not GridState.ON_GRID and not m.grid_export_allowed


def test_50_hz_limits() -> None:
    assert run(machine(limits=EU), [good(0, 230.0, 50.0), good(1, 230.0, 48.4)]) == [
        (GridState.ISLANDED, "grid frequency 48.40 Hz below 48.5 Hz")
    ]
    assert (
        run(machine(limits=EU), [good(0, 230.0, 51.3)])[0][1]
        == "grid frequency 51.30 Hz above 51.2 Hz"
    )
    m = machine(GridState.ISLANDED, EU)
    assert run(m, [good(0, 230.0, 50.2)]) == []  # above 50.1 Hz: not yet normal
    run(m, [good(s, 230.0, 49.5 if s < 301 else 50.1) for s in range(1, 302)])
    assert m.state is GridState.ON_GRID


def test_a_gap_in_watching_the_grid_restarts_the_enter_service_wait() -> None:
    # a clock jump or a stalled loop: 290 s unseen are not 290 s of normal grid
    m = machine(GridState.ISLANDED)
    run(m, [good(0), good(5), good(295), good(300), good(305)])
    assert m.state is GridState.RESTORING
    run(m, [good(s) for s in range(306, 596)])
    assert m.state is GridState.ON_GRID  # 300 s watched from 295 s
    with pytest.raises(ValueError, match="50 or 60"):
        GridLimits(230.0, 55.0)


def test_a_loss_read_right_after_the_clock_steps_back_islands_at_once() -> None:
    # an NTP step of -1280 s: the readings that follow are dated on the new time line and
    # are fresh; judging them against the old one would call them 21 minutes old (stale)
    # and leave the home joined to a dead grid until the clock caught up (bench/faults.py)
    m = machine()
    run(m, [good(s) for s in range(2000, 2301)])
    assert m.grid_export_allowed
    assert m.update(good(1022)) == []  # the step itself: normal, fresh, not yet islanded
    assert not m.sensor_stale
    assert not m.grid_export_allowed  # not seen normal across the step: the wait restarts
    assert run(m, [good(1024, v=0.0)]) == [
        (GridState.ISLANDED, "grid voltage 0.0 V below 0.88 pu (211 V)")
    ]


def test_a_clock_step_back_restarts_the_enter_service_wait() -> None:
    m = machine(GridState.ISLANDED)
    run(m, [good(s) for s in range(1000, 1290)])
    assert m.state is GridState.RESTORING
    run(m, [good(s) for s in range(500, 790)])  # 290 + 290 s, across a step of -790 s
    assert m.state is GridState.RESTORING  # never 300 s seen normal on one time line
    run(m, [good(s) for s in range(790, 801)])
    assert m.state is GridState.ON_GRID


def test_a_reading_dated_in_the_future_is_stale_not_fresh() -> None:
    m = machine(GridState.ISLANDED)
    run(m, [good(s) for s in range(0, 100)])
    assert m.state is GridState.RESTORING
    events = m.update(good(200), now=T0 + timedelta(seconds=101))  # 99 s ahead of the host
    assert m.sensor_stale
    assert [(e.new, e.reason) for e in events] == [
        (
            GridState.ISLANDED,
            "grid data dated 99 s in the future (clock mismatch); enter-service wait restarts",
        )
    ]


def test_stale_or_empty_readings_forbid_export_but_do_not_island() -> None:
    m = machine()
    run(m, [good(s) for s in range(0, 301)])
    assert m.grid_export_allowed and not m.sensor_stale
    assert m.update(good(300), now=T0 + timedelta(seconds=320)) == []  # 20 s old, limit 10 s
    assert m.state is GridState.ON_GRID and m.sensor_stale and not m.grid_export_allowed
    assert m.update(GridReading(at=T0 + timedelta(seconds=321))) == []
    assert m.sensor_stale and not m.grid_export_allowed
    m.update(good(322))  # fresh again, but normal for only 0 s
    assert not m.sensor_stale and not m.grid_export_allowed


def test_stale_data_while_restoring_restarts_the_wait() -> None:
    m = machine(GridState.ISLANDED)
    run(m, [good(s) for s in range(0, 200)])
    assert run(m, [GridReading(at=T0 + timedelta(seconds=200))]) == [
        (GridState.ISLANDED, "no grid data; enter-service wait restarts")
    ]


def test_zero_delay_restores_at_once_and_naive_times_are_refused() -> None:
    m = machine(GridState.ISLANDED, GridLimits(240.0, 60.0, enter_service_delay_s=0.0))
    assert [new for new, _ in run(m, [good(0)])] == [GridState.RESTORING, GridState.ON_GRID]
    with pytest.raises(ValueError, match="no timezone"):
        GridReading(at=datetime(2026, 1, 1), voltage_v=240.0)


# A reading as (seconds since the previous one, voltage [V], frequency [Hz], relay, age [s]); mostly normal.
NORMAL = st.tuples(st.floats(220.5, 251.5), st.floats(59.55, 60.05), st.sampled_from([None, True]))
ANY = st.tuples(
    st.one_of(st.none(), st.floats(0, 300)),
    st.one_of(st.none(), st.floats(55, 65)),
    st.sampled_from([None, True, False]),
)
STEP = st.tuples(
    st.floats(0, 120), st.one_of(NORMAL, NORMAL, NORMAL, ANY), st.sampled_from([0.0] * 9 + [30.0])
)


@FAST_ENOUGH
@given(st.sampled_from(list(GridState)), st.lists(STEP, max_size=40))
def test_export_only_after_a_full_delay_of_normal_fresh_readings(
    start: GridState,
    steps: list[tuple[float, tuple[float | None, float | None, bool | None], float]],
) -> None:
    m, now, normal_since, exported = machine(start), T0, None, 0
    for dt, (v, f, relay), age in steps:
        now += timedelta(seconds=dt)
        m.update(GridReading(now - timedelta(seconds=age), v, f, relay), now=now)
        normal = (
            age <= 10.0
            and (v, f, relay) != (None, None, None)
            and relay is not False
            and (v is None or 0.917 * 240 <= v <= 1.05 * 240)
            and (f is None or 59.5 <= f <= 60.1)
        )
        if dt > 10.0:  # unwatched longer than the stale limit: not seen normal all along
            normal_since = None
        normal_since = (normal_since or now) if normal else None
        held_300_s = normal_since is not None and (now - normal_since).total_seconds() >= 300.0
        assert m.grid_export_allowed == (m.state is GridState.ON_GRID and held_300_s)
        exported += m.grid_export_allowed
        assert m.grid_connected == (m.state is GridState.ON_GRID)
    event(f"export allowed at some step: {exported > 0}")


def test_shown_state_is_unknown_only_on_grid_without_fresh_data() -> None:
    m = machine()
    shown = [m.shown_state]  # nothing read yet: the grid is not shown there
    for reading in (
        good(0),
        GridReading(at=T0 + timedelta(seconds=1)),  # an empty reading: a silent meter
        good(2),
        good(3, v=0.0),  # lost: islanded
        GridReading(at=T0 + timedelta(seconds=4)),  # islanded and silent: still islanded
        good(5),  # restoring
    ):
        m.update(reading)
        shown.append(m.shown_state)
    assert shown == [
        GridState.UNKNOWN,
        GridState.ON_GRID,
        GridState.UNKNOWN,
        GridState.ON_GRID,
        GridState.ISLANDED,
        GridState.ISLANDED,
        GridState.RESTORING,
    ]


def test_resume_islanded_starts_the_full_enter_service_wait_again() -> None:
    m = machine()
    run(m, [good(s) for s in range(0, 400)])  # normal for 400 s before the restart
    event = m.resume_islanded(T0 + timedelta(seconds=400), "transfer switch found open")
    assert (event.old, event.new, event.reason, event.at) == (
        GridState.ON_GRID,
        GridState.ISLANDED,
        "transfer switch found open",
        T0 + timedelta(seconds=400),
    )
    assert m.state is GridState.ISLANDED and not m.grid_connected and not m.grid_export_allowed
    assert run(m, [good(401)]) == [
        (GridState.RESTORING, "grid within enter-service limits; reconnecting after 300 s")
    ]
    assert run(m, [good(s) for s in range(402, 701)]) == []  # 299 s of the 300 s
    assert run(m, [good(701)]) == [(GridState.ON_GRID, "grid back within limits for 300 s")]


def test_resume_islanded_takes_an_aware_time_in_utc() -> None:
    local = datetime(2026, 1, 1, 4, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert machine().resume_islanded(local, "found open").at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match="no timezone"):
        machine().resume_islanded(datetime(2026, 1, 1), "found open")
