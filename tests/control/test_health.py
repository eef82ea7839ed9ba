"""The health checks: each one's pass/fail on hand-made inputs, and a real controller's checks
as it ticks, loses its plan and has a device go silent (virtual clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voltbridge.control.health import health_checks

T0 = datetime(2026, 7, 14, 20, 0, tzinfo=UTC)


def checks(**change: object) -> dict[str, tuple[bool, str]]:
    args: dict[str, object] = {
        "now": T0,
        "last_tick": T0 - timedelta(seconds=2),
        "tick_s": 1.0,
        "faults": {},
        "devices": 3,
        "recording": True,
        "plan_at": T0 - timedelta(minutes=10),
        "plan_stale_s": 3600.0,
    }
    args.update(change)
    return {k: (c.ok, c.detail) for k, c in health_checks(**args).items()}  # type: ignore[arg-type]


def test_all_well() -> None:
    got = checks()
    assert all(ok for ok, _ in got.values()), got
    assert got["loop"][1] == "last tick 2 s ago (every 1 s)"


def test_each_check_fails_on_its_own() -> None:
    assert checks(last_tick=T0 - timedelta(seconds=3.5))["loop"][0] is False
    assert checks(last_tick=None)["loop"] == (False, "the control loop has not ticked yet")
    devices = checks(faults={"ev9": "does not answer"})["devices"]
    assert devices == (False, "1 of 3 devices do not answer or are stale")
    assert "ev9" not in devices[1]  # nothing of the household in a public answer
    assert checks(recording=False)["store"] == (False, "recording fails")
    assert checks(recording=None)["store"] == (True, "no store configured")
    assert checks(plan_at=None)["plan"][0] is False
    assert checks(plan_at=T0 - timedelta(hours=2))["plan"][0] is False


def test_a_real_controller_reports_its_health() -> None:
    from tests.control.harness import rig

    r = rig()
    before = r.controller.health()
    assert before["loop"].ok is False and before["plan"].ok is False
    r.run(60)
    after = r.controller.health()
    assert all(c.ok for c in after.values()), after
    r.clock.advance(10 * r.tick_s)  # the loop stops ticking
    assert r.controller.health()["loop"].ok is False
