"""DeviceWriter: device errors are write faults, driver bugs are software faults (one traceback a
device and kind), a success ends the fault, the deadband never holds back a command toward zero,
and a device whose data is in fault gets nothing but its safe default."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.control.fakes import FAST_ENOUGH, FakeBattery, FakeCharger, FakeMeter, codes
from voltbridge.control.events import EventLog
from voltbridge.control.faults import FaultBook
from voltbridge.control.io import DeviceSet, Snapshot
from voltbridge.control.writer import DeviceWriter
from voltbridge.core.clock import VirtualClock
from voltbridge.core.status import EventCode, EventKind, NullRecorder
from voltbridge.core.types import Command
from voltbridge.devices.capabilities import DeviceError

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
DEADBAND_KW = 0.05
REWRITE_S = 60.0


class Rig:
    """One writer over a fake charger ``ev`` and a fake battery, on a virtual clock."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        self.clock = VirtualClock(T0)
        self.log = EventLog(self.clock, NullRecorder())
        self.faults = FaultBook(self.log)
        self.ev, self.battery = FakeCharger("ev"), FakeBattery()
        self.devices = DeviceSet(
            meter=FakeMeter(),
            chargers={"ev": self.ev},
            battery=self.battery,
        )
        self.writer = DeviceWriter(
            self.devices, self.faults, self.log, timeout_s, DEADBAND_KW, REWRITE_S
        )

    def write_ev(self, kw: float) -> bool:
        return asyncio.run(self.writer.write("ev", self.ev.set_charge_power(kw), "plan"))

    def send(self, name: str, kw: float, after_s: float = 0.0, force: bool = False) -> None:
        self.clock.advance(after_s)
        now = self.clock.now()
        asyncio.run(self.writer.send(Command(name, now, kw, "plan"), now, force=force))

    def read_fault(self, *names: str) -> None:
        """This tick's snapshot shows ``names`` in a read fault (and every other device fine)."""
        snap = Snapshot(faults={n: "no answer within 5 s" for n in names})
        self.faults.note(snap, self.clock.now(), 30.0, 10.0)


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (DeviceError("refused: Rejected"), "refused: Rejected"),
        (ConnectionError("connection reset"), "connection reset"),
        (TimeoutError(), "TimeoutError"),
        (OSError("host unreachable"), "host unreachable"),
    ],
)
def test_a_device_error_is_one_write_failed_fault_until_a_write_succeeds(
    error: Exception, why: str
) -> None:
    r = Rig()
    r.ev.fail = error
    assert [r.write_ev(-3.0) for _ in range(3)] == [False, False, False]
    [event] = r.log.recent
    assert (event.code, event.kind, event.device) == (EventCode.WRITE_FAILED, EventKind.FAULT, "ev")
    assert event.message == f"ev: write failed (plan): {why}"
    assert r.faults.all() == {"ev": f"write failed: {why}"}
    r.ev.fail = None
    assert r.write_ev(-3.0) is True
    assert r.faults.all() == {} and r.ev.calls == [("set_charge_power", -3.0)] * 4
    assert codes(r.log.recent) == [EventCode.WRITE_FAILED, EventCode.DEVICE_RECOVERED]
    assert r.log.recent[-1].message == "ev: takes commands again"


def test_a_device_that_never_answers_is_a_timeout_fault() -> None:
    r = Rig(timeout_s=0.0)  # the write hangs: it cannot finish within no time at all
    r.ev.hang = True
    assert r.write_ev(-3.0) is False
    assert r.faults.all() == {"ev": "write failed: TimeoutError"}
    assert codes(r.log.recent) == [EventCode.WRITE_FAILED]


@pytest.mark.parametrize("error", [KeyError("setpointL2"), ValueError("bad unit"), TypeError("x")])
def test_a_driver_bug_is_a_software_fault_never_a_device_fault(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    r = Rig()
    r.ev.fail = error
    for _ in range(3):
        assert r.write_ev(-3.0) is False
    [event] = r.log.recent
    kind = type(error).__name__
    assert (event.code, event.device, event.data["exception"]) == (
        EventCode.SOFTWARE_FAULT,
        "ev",
        kind,
    )
    assert event.message == f"ev: software error writing (plan): {kind}: {error}; please report it"
    assert r.faults.all() == {"ev": f"driver error: {kind}: {error}"}
    tracebacks = [rec for rec in caplog.records if rec.exc_info is not None]
    assert len(tracebacks) == 1 and tracebacks[0].getMessage() == "driver error writing ev (plan)"


def test_one_traceback_per_device_and_kind_across_recoveries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = Rig()
    for error in (KeyError("a"), None, KeyError("b"), None, ValueError("c")):
        r.ev.fail = error
        r.write_ev(1.0)
    bug = [c for c in codes(r.log.recent) if c is EventCode.SOFTWARE_FAULT]
    assert len(bug) == 3  # each fault is an event ...
    assert [rec.exc_info[0] for rec in caplog.records if rec.exc_info] == [KeyError, ValueError]
    assert r.log.recent[-1].data["exception"] == "ValueError"  # ... each traceback logged once
    r.ev.fail = None
    assert r.write_ev(1.0) and r.log.recent[-1].message == "ev: takes commands again"


def test_each_storage_gets_its_own_call_and_an_unknown_one_nothing() -> None:
    r = Rig()
    assert asyncio.run(r.writer.storage_power("battery", -2.5, "plan"))
    assert asyncio.run(r.writer.storage_power("ev", 7.2, "plan"))
    assert not asyncio.run(r.writer.storage_power("van", 1.0, "plan"))
    assert r.battery.calls == [("set_battery_power", -2.5)]
    assert r.ev.calls == [("set_charge_power", 7.2)]
    assert r.log.recent == type(r.log.recent)()  # nothing to say


def test_the_deadband_holds_back_small_changes_away_from_zero_only() -> None:
    r = Rig()
    r.send("ev", -3.0)
    r.send("ev", -3.04, after_s=2)  # 0.04 kW more: within the deadband, held back
    r.send("ev", -2.99, after_s=2)  # 0.01 kW less: toward zero, written
    r.send("ev", -2.99, after_s=2)  # unchanged: held back
    r.send("ev", -3.10, after_s=2)  # 0.11 kW more: beyond the deadband, written
    r.send("ev", -3.12, after_s=REWRITE_S)  # a minute on: written again
    r.send("ev", 0.01, after_s=2)  # reversed: written
    r.send("ev", 0.0, after_s=2)  # to zero: written
    r.send("ev", 0.02, after_s=2)  # 0.02 kW away from zero: held back
    r.send("ev", 0.04, after_s=2, force=True)  # the guard reduced it to this: written
    kws = [kw for _, kw in r.ev.calls]
    assert kws == [-3.0, -2.99, -3.10, -3.12, 0.01, 0.0, 0.04]


def test_a_device_that_refused_is_tried_again_every_tick() -> None:
    r = Rig()
    r.ev.fail = DeviceError("busy")
    r.send("ev", -3.0)
    r.send("ev", -3.0, after_s=2)
    r.ev.fail = None
    r.send("ev", -3.0, after_s=2)
    r.send("ev", -3.0, after_s=2)  # taken: the deadband holds again
    assert [kw for _, kw in r.ev.calls] == [-3.0, -3.0, -3.0]
    assert r.writer.sent["ev"] == (-3.0, T0 + timedelta(seconds=4))


def test_a_device_in_a_read_fault_gets_its_safe_default_once() -> None:
    r = Rig()
    r.send("ev", -3.0)
    r.send("battery", 2.0)
    r.read_fault("ev", "battery")
    for _ in range(3):
        r.send("ev", -5.0, after_s=2)
        r.send("battery", 4.0)
    assert r.ev.calls == [("set_charge_power", -3.0), ("safe_default", None)]
    assert r.battery.calls == [("set_battery_power", 2.0), ("set_battery_power", 0.0)]
    assert r.writer.safe == {"ev", "battery"}
    assert r.writer.sent["ev"] == (0.0, T0 + timedelta(seconds=2))


def test_a_safe_default_that_fails_is_tried_again_and_forget_rewrites_at_once() -> None:
    r = Rig()
    r.read_fault("ev")
    r.ev.fail = ConnectionError("reset")
    r.send("ev", -3.0)
    assert "ev" not in r.writer.safe and "ev" not in r.writer.sent
    r.ev.fail = None
    r.send("ev", -3.0, after_s=2)
    assert r.ev.calls == [("safe_default", None)] * 2 and r.writer.safe == {"ev"}
    r.read_fault()  # it answers again: the controller tells the writer
    r.writer.forget("ev")
    r.send("ev", 0.0, after_s=2)  # within the deadband of the 0 kW safe default, but written
    assert r.ev.calls[-1] == ("set_charge_power", 0.0)


def test_a_second_read_fault_after_new_commands_gets_the_safe_default_again() -> None:
    r = Rig()
    r.read_fault("ev")
    r.send("ev", -3.0)
    r.read_fault()  # it answers again (even without ``forget``) and takes a command ...
    r.send("ev", -3.0, after_s=2)
    r.read_fault("ev")  # ... then its data fails again: it must not stay at -3 kW
    r.send("ev", -3.0, after_s=2)
    assert r.ev.calls == [
        ("safe_default", None),
        ("set_charge_power", -3.0),
        ("safe_default", None),
    ]


def test_stop_storages_and_safe_defaults_reach_every_storage() -> None:
    r = Rig()
    asyncio.run(r.writer.stop_storages(T0, "outage"))
    assert r.ev.calls == [("set_charge_power", 0.0)]
    assert r.battery.calls == [("set_battery_power", 0.0)]
    assert r.writer.sent == {"ev": (0.0, T0), "battery": (0.0, T0)}
    r.ev.fail = DeviceError("offline")  # one refusing does not keep the other from its default
    asyncio.run(r.writer.safe_defaults("shutdown"))
    assert r.ev.calls[-1] == ("safe_default", None)
    assert r.battery.calls[-1] == ("set_battery_power", 0.0)
    assert codes(r.log.recent) == [EventCode.WRITE_FAILED]


# One tick: (device, requested power [kW], its data in a read fault?, its write fails?, dt [s])
STEP = st.tuples(
    st.sampled_from(["ev", "battery"]),
    st.one_of(st.sampled_from([0.0, -3.0, 3.0]), st.floats(-11.0, 11.0)),
    st.booleans(),
    st.booleans(),
    st.sampled_from([0.0, 2.0, 30.0, 61.0]),
)


@FAST_ENOUGH
@given(st.lists(STEP, max_size=40))
def test_a_device_in_a_read_fault_is_never_written_anything_but_its_safe_default(
    steps: list[tuple[str, float, bool, bool, float]],
) -> None:
    """Whatever the commands, faults and failures: a device whose data is in fault is written
    only its safe default, and after a send it is on it (or its write failed and is retried)."""
    r = Rig()
    safe = {"ev": ("safe_default", None), "battery": ("set_battery_power", 0.0)}
    for name, kw, fault, fails, dt in steps:
        dev = r.ev if name == "ev" else r.battery
        r.read_fault(*([name] if fault else []))
        dev.fail = DeviceError("refused") if fails else None
        before = len(dev.calls)
        r.send(name, kw, after_s=dt)
        if fault:
            assert all(call == safe[name] for call in dev.calls[before:])
            if not fails:
                assert dev.calls and dev.calls[-1] == safe[name]


@FAST_ENOUGH
@given(
    st.lists(
        st.tuples(st.floats(-11.0, 11.0), st.sampled_from([0.0, 2.0, 61.0]), st.booleans()),
        max_size=40,
    )
)
def test_the_deadband_never_holds_back_a_command_toward_zero_or_beyond_it(
    steps: list[tuple[float, float, bool]],
) -> None:
    r = Rig()
    last: float | None = None  # what the charger last took [kW]
    for kw, dt, force in steps:
        before = len(r.ev.calls)
        r.send("ev", kw, after_s=dt, force=force)
        written = len(r.ev.calls) > before
        if last is not None:
            toward_zero = kw * last < 0 or abs(kw) < abs(last) - 1e-6 or (kw == 0 and last != 0)
            if toward_zero or abs(kw - last) > DEADBAND_KW or (force and kw != last):
                assert written, f"{kw} kW held back after {last} kW"
        else:
            assert written  # the first command always goes out
        if written:
            assert r.ev.calls[-1] == ("set_charge_power", kw)
            last = kw
