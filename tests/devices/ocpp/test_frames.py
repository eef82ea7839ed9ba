"""The frame reader, the timestamp parser, the log limiter and the endpoint's receive path, without
a network: whatever the bytes, only ``BadFrame`` comes out, and the endpoint never raises."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbridge.core.clock import VirtualClock
from voltbridge.devices.ocpp.frames import MAX_DEPTH, BadFrame, NonFinite, parse_frame
from voltbridge.devices.ocpp.log_limit import MAX_KEYS, LogLimiter
from voltbridge.devices.ocpp.rpc import OcppEndpoint
from voltbridge.devices.ocpp.schemas import check_payload, parse_time

T0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "code", "message_id", "answer"),
    [
        ("[" * 100_000, "RpcFrameworkError", "-1", True),
        ('{"a": ' * 5000, "RpcFrameworkError", "-1", True),
        (b"\xc3\x28", "RpcFrameworkError", "-1", True),
        ("", "RpcFrameworkError", "-1", True),
        ("null", "RpcFrameworkError", "-1", True),
        ("[true, \"m\", \"Heartbeat\", {}]", "RpcFrameworkError", "-1", True),
        ("[NaN, \"m\", \"Heartbeat\", {}]", "RpcFrameworkError", "-1", True),
        ("[2, \"\", \"Heartbeat\", {}]", "RpcFrameworkError", "-1", True),
        ("[2, \"m\", \"Heartbeat\", {}, 5]", "RpcFrameworkError", "m", True),
        ("[2, \"m\", \"Heartbeat\", null]", "FormatViolation", "m", True),
        ("[7, \"m\"]", "ignored", "-1", False),
        ("[3]", "dropped", "-1", False),
        ("[3, \"m\", {}, 1]", "dropped", "m", False),
        ("[4, \"m\", 1, \"d\", {}]", "dropped", "m", False),
        ("[3, \"m\", " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "]", "dropped", "m", False),
    ],
)  # fmt: skip
def test_unusable_frames_say_how_to_answer(
    raw: Any, code: str, message_id: str, answer: bool
) -> None:
    with pytest.raises(BadFrame) as info:
        parse_frame(raw)
    bad = info.value
    assert (bad.code, bad.message_id, bad.answer) == (code, message_id, answer)


def test_non_finite_numbers_are_kept_as_markers_the_schema_refuses() -> None:
    call = parse_frame('[2, "m", "Heartbeat", {"a": NaN, "b": 1e400, "c": -Infinity, "d": 1.5}]')
    payload = call.payload
    assert all(isinstance(payload[k], NonFinite) for k in "abc") and payload["d"] == 1.5
    meter = {
        "evseId": 1,
        "meterValue": [
            {"timestamp": "2026-03-01T18:00:00Z", "sampledValue": [{"value": payload["a"]}]}
        ],
    }
    with pytest.raises(Exception, match="is not of type 'number'") as info:
        check_payload("2.1", "MeterValues", meter, response=False)
    assert info.value.code == "TypeConstraintViolation"  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
            lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
            max_leaves=40,
        ).map(lambda v: json.dumps(v)),
        st.tuples(st.integers(0, 8), st.text(max_size=40), st.text(max_size=30)).map(
            lambda t: json.dumps([t[0], t[1], t[2], {}])
        ),
    )
)  # fmt: skip
def test_no_input_raises_anything_but_bad_frame(raw: str | bytes) -> None:
    try:
        parse_frame(raw)
    except BadFrame as bad:
        assert bad.message_id == "-1" or len(bad.message_id) <= 36


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T18:00:00Z", T0),
        ("2026-03-01T19:00:00+01:00", T0),
        ("2026-03-01t18:00:00z", T0),
        ("2026-03-01T18:00:00", T0),  # no offset: read as UTC
        ("2026-03-01T18:00:00.123456789Z", T0.replace(microsecond=123456)),
    ],
)
def test_rfc3339_timestamps_parse(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["not-a-time", "2026-02-30T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01 18:00:00Z",
     "2026-03-01", "0000-01-01T00:00:00Z", "2026-03-01T18:00:00+25:00", "x" * 10_000],
)  # fmt: skip
def test_what_is_not_a_moment_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"date-time|range|must be|offset|year"):
        parse_time(text)


def test_the_log_limiter_counts_what_it_drops_per_key_on_the_injected_clock() -> None:
    clock = VirtualClock(T0)
    limit = LogLimiter(clock, burst=2, window_s=10.0)
    assert [limit.admit("a") for _ in range(5)] == [0, 0, None, None, None]
    assert limit.admit("b") == 0  # another key has its own budget
    clock.advance(9.9)
    assert limit.admit("a") is None
    assert limit.drain() == {"a": 4}
    assert limit.drain() == {}
    clock.advance(0.1)
    assert limit.admit("a") == 0  # the 4 were already reported by drain
    for n in range(MAX_KEYS + 10):
        limit.admit(n)
    assert len(limit._windows) == MAX_KEYS


class _Silent:
    """A transport that records what is sent and never answers."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)

    async def recv(self) -> str:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


def test_a_failed_optional_exchange_is_logged_once(ocpp, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="voltbridge.devices.ocpp.rpc")

    async def scenario() -> float:
        end = OcppEndpoint("CP1", _Silent(), "2.1", 10.0, frame_log=LogLimiter(VirtualClock(T0)))
        payload = {"transactionId": "tx", "allowedEnergyTransfer": ["AC_BPT"]}
        for _ in range(3):
            assert await end.request_optional("NotifyAllowedEnergyTransfer", payload) is None
        assert end._pending == {}
        return asyncio.get_running_loop().time()

    # each unanswered request was given up at its answer timeout (10 simulated s), no later
    assert ocpp.run(scenario) == pytest.approx(30.0)
    failed = [
        r for r in caplog.records if "optional NotifyAllowedEnergyTransfer failed" in r.message
    ]
    assert [r.levelno for r in failed] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def test_the_endpoint_answers_every_frame_and_never_raises(ocpp) -> None:
    async def scenario() -> None:
        transport = _Silent()
        end = OcppEndpoint("CP1", transport, "2.1", 1.0, frame_log=LogLimiter(VirtualClock(T0)))
        frames = ["[" * 10000, "{}", '[2, "a", "Heartbeat", {}]', '[2, "b", "Nope", {}]', "[9]"]
        for raw in frames:
            await end.route_message(raw)
        assert [json.loads(t)[:3] for t in transport.sent] == [
            [4, "-1", "RpcFrameworkError"],
            [4, "-1", "RpcFrameworkError"],
            [4, "a", "NotSupported"],  # a known action this bare endpoint has no handler for
            [4, "b", "NotImplemented"],  # an action OCPP 2.1 does not know
        ]  # and type 9 is ignored
        assert end.frames_received == 5

    ocpp.run(scenario)
