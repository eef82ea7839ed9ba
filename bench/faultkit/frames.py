"""Malformed OCPP-J frames of every class, sent to the real central system over a real websocket
on 127.0.0.1, each answer checked against OCPP-J 2.x (Part 4 §4.2-4.3) from outside.

Every frame that has the shape of a request must get exactly one CALLERROR (a BootNotification,
Heartbeat and so on that is valid gets its CALLRESULT), with the frame's own message id when it can
be read and ``"-1"`` when it cannot; a frame shaped as a response gets no answer. Beyond that, per
class: an unknown action gets ``NotImplemented``, a known action the central system does not
handle ``NotSupported``, a payload that breaks its schema one of the constraint codes, a bad date
``FormatViolation`` or ``TypeConstraintViolation``. After every frame the session must stay open
(a batch ends with a valid Heartbeat that must be answered); a session the central system closed
is a violation, and the campaign reconnects and goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass

from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.headers import build_authorization_basic

from voltbridge.core.clock import RealClock
from voltbridge.devices.ocpp.central import CentralSystem
from voltbridge.devices.ocpp.config import CentralSystemConfig, OcppChargerConfig

from .report import Finding, Tally

CHARGER_ID, PASSWORD = "fuzz-1", "fuzz-password-0123456789"
ERROR_CODES = frozenset(
    {
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    }
)
"""The CALLERROR codes of OCPP-J 2.x."""
CONSTRAINT = frozenset(
    {
        "FormatViolation",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "TypeConstraintViolation",
        "ProtocolError",
    }
)
ANSWER_TIMEOUT_S = 10.0
"""Longest wait for one answer [s of real time]: only a guard against a hung session."""
CSMS_TO_CS = (
    "SetChargingProfile",
    "GetVariables",
    "SetVariables",
    "Reset",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ClearChargingProfile",
    "UnlockConnector",
    "ChangeAvailability",
    "GetCompositeSchedule",
    "NotifyAllowedEnergyTransfer",
    "TriggerMessage",
)
"""Actions only a CSMS sends: known to OCPP 2.1, not handled by a central system."""


@dataclass(frozen=True)
class Frame:
    """One malformed frame: its class, the text (or bytes) sent, and what must come back.

    Attributes:
        cls: the class of malformation (the table's ``frames_by_class``).
        raw: what is sent.
        answer: ``"error"`` (a CALLERROR), ``"none"`` (no answer) or ``"any"`` (an answer).
        msg_id: the id the answer must carry.
        codes: acceptable CALLERROR codes (None: any of ``ERROR_CODES``).
        also_id: another id the answer may carry.
    """

    cls: str
    raw: str | bytes
    answer: str
    msg_id: str
    codes: frozenset[str] | None = None
    also_id: str | None = None


def _call(msg_id: str, action: object, payload: object) -> str:
    return json.dumps([2, msg_id, action, payload])


def make_frame(rng: random.Random, n: int) -> Frame:
    """The ``n``-th frame, drawn from ``rng``; classes roughly equally often, huge ones rarely."""
    mid = f"fz{n}"
    cls = rng.choice(
        (
            "non-json",
            "deep-nesting",
            "array-shape",
            "wrong-types",
            "unknown-action",
            "unsupported-action",
            "schema-invalid",
            "bad-date",
            "orphan-response",
            "huge" if rng.random() < 0.05 else "schema-invalid",
        )
    )
    if cls == "non-json":
        raw: str | bytes = rng.choice(
            (
                "",
                "{",
                "[2,",
                "not json at all",
                "[2, 'x', 'Heartbeat', {}]",
                '[2,"a","Heartbeat",{}]]',
                "NaN]",
                "\x00\x01\x02",
                bytes(rng.randrange(128, 256) for _ in range(16)),
                "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(1, 80))),
            )
        )
        return Frame(cls, raw, "error", "-1", frozenset({"RpcFrameworkError", "FormatViolation"}))
    if cls == "deep-nesting":
        depth = rng.randrange(1_000, 20_000)
        raw = rng.choice(("[" * depth, "[" * depth + "]" * depth, '{"a":' * depth))
        return Frame(cls, raw, "error", "-1", frozenset({"RpcFrameworkError", "FormatViolation"}))
    if cls == "array-shape":
        shape = rng.choice(
            (
                [],
                [2],
                [2, mid],
                [2, mid, "Heartbeat"],
                [2, mid, "Heartbeat", {}, {}],
                [7, mid, "Heartbeat", {}],
                [0, mid, "Heartbeat", {}],
                {"messageTypeId": 2},
                "just a string",
                42,
                None,
            )
        )
        if isinstance(shape, list) and shape and shape[0] not in (2, 3, 4):
            # OCPP 2.1 §4.1 (and the 2.0.1 errata): an unknown message type is ignored
            return Frame(cls, json.dumps(shape), "none", "")
        readable = isinstance(shape, list) and len(shape) >= 2
        return Frame(cls, json.dumps(shape), "error", mid if readable else "-1")
    if cls == "wrong-types":
        choice = rng.randrange(6)
        if choice == 0:
            return Frame(cls, json.dumps([2, 12345, "Heartbeat", {}]), "error", "-1")
        if choice == 1:
            return Frame(cls, json.dumps([2, None, "Heartbeat", {}]), "error", "-1")
        if choice == 2:
            return Frame(cls, _call(mid, 42, {}), "error", mid)
        if choice == 3:
            return Frame(cls, _call(mid, "Heartbeat", []), "error", mid)
        if choice == 4:
            return Frame(cls, _call(mid, "Heartbeat", "payload"), "error", mid)
        # not a valid RPC frame: whether its id counts as readable is the receiver's call
        return Frame(cls, json.dumps(["2", mid, "Heartbeat", {}]), "error", mid, also_id="-1")
    if cls == "unknown-action":
        action = rng.choice(
            ("FooBar", "heartbeat", "Heartbeat2", "", "X" * 200, "Boot Notification")
        )
        return Frame(cls, _call(mid, action, {}), "error", mid, frozenset({"NotImplemented"}))
    if cls == "unsupported-action":
        return Frame(
            cls, _call(mid, rng.choice(CSMS_TO_CS), {}), "error", mid, frozenset({"NotSupported"})
        )
    if cls == "schema-invalid":
        action, payload = rng.choice(
            (
                ("BootNotification", {}),
                ("BootNotification", {"reason": "Nope", "chargingStation": {}}),
                (
                    "BootNotification",
                    {"reason": "PowerUp", "chargingStation": {"model": 1, "vendorName": "v"}},
                ),
                ("Heartbeat", {"extra": 1}),
                (
                    "StatusNotification",
                    {
                        "timestamp": "2026-01-01T00:00:00Z",
                        "connectorStatus": "Available",
                        "evseId": "one",
                        "connectorId": 1,
                    },
                ),
                (
                    "StatusNotification",
                    {
                        "connectorStatus": "Sideways",
                        "evseId": 1,
                        "connectorId": 1,
                        "timestamp": "2026-01-01T00:00:00Z",
                    },
                ),
                ("MeterValues", {"evseId": 1}),
                ("MeterValues", {"evseId": 1, "meterValue": "lots"}),
                ("TransactionEvent", {"eventType": "Started"}),
                (
                    "NotifyEVChargingNeeds",
                    {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": 7}},
                ),
                ("Authorize", {"idToken": {"idToken": 5, "type": "ISO14443"}}),
            )
        )
        return Frame(cls, _call(mid, action, payload), "error", mid, CONSTRAINT)
    if cls == "bad-date":
        bad = rng.choice(
            ("not-a-time", "2026-13-45T99:00:00Z", "yesterday", "", "2026-02-30T00:00:00Z")
        )
        action, payload = rng.choice(
            (
                (
                    "StatusNotification",
                    {
                        "timestamp": bad,
                        "connectorStatus": "Available",
                        "evseId": 1,
                        "connectorId": 1,
                    },
                ),
                (
                    "NotifyEVChargingNeeds",
                    {
                        "evseId": 1,
                        "chargingNeeds": {
                            "requestedEnergyTransfer": "AC_BPT",
                            "departureTime": bad,
                        },
                    },
                ),
                (
                    "MeterValues",
                    {
                        "evseId": 1,
                        "meterValue": [{"timestamp": bad, "sampledValue": [{"value": 1.0}]}],
                    },
                ),
            )
        )
        codes = frozenset({"FormatViolation", "TypeConstraintViolation"})
        return Frame(cls, _call(mid, action, payload), "error", mid, codes)
    if cls == "orphan-response":
        raw = rng.choice(
            (
                json.dumps([3, f"nobody-{n}", {}]),
                json.dumps([4, f"nobody-{n}", "GenericError", "", {}]),
                json.dumps([3, f"nobody-{n}"]),
                json.dumps([4, 7]),
            )
        )
        return Frame(cls, raw, "none", "")
    size = rng.randrange(100_000, 900_000)
    payload = {"vendorId": "fuzz", "data": "A" * size}
    return Frame("huge", _call(mid, "DataTransfer", payload), "error", mid)


class FrameLog(logging.Handler):
    """Counts what the central system logs for the malformed frames (lines and bytes)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines = 0
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1
        self.bytes += len(self.format(record))


async def _open(port: int) -> ClientConnection:
    return await connect(
        f"ws://127.0.0.1:{port}/ocpp/{CHARGER_ID}",
        subprotocols=["ocpp2.1"],  # type: ignore[list-item]
        additional_headers={"Authorization": build_authorization_basic(CHARGER_ID, PASSWORD)},
        max_size=None,
        open_timeout=ANSWER_TIMEOUT_S,
    )


def _check(frame: Frame, answer: str | bytes | None) -> str | None:
    """Why ``answer`` is wrong for ``frame``, or None."""
    if frame.answer == "none":
        return None if answer is None else f"answered a response frame: {answer!r:.120}"
    if answer is None:
        return "no answer"
    try:
        got = json.loads(answer)
    except ValueError:
        return f"answer is not JSON: {answer!r:.120}"
    if not isinstance(got, list) or not got:
        return f"answer is not an OCPP-J frame: {got!r:.120}"
    if got[0] == 3 and frame.answer == "error":
        return f"accepted (CALLRESULT {got[2]!r:.80})"
    if got[0] != 4 or len(got) != 5:
        return f"answer is not a CALLERROR: {got!r:.120}"
    code = got[2]
    if got[1] not in (frame.msg_id, frame.also_id):
        return f"CALLERROR id {got[1]!r}, expected {frame.msg_id!r} ({code})"
    if code not in ERROR_CODES:
        return f"CALLERROR code {code!r} is not an OCPP-J 2.x code"
    if frame.codes is not None and code not in frame.codes:
        return f"CALLERROR {code}, expected {' or '.join(sorted(frame.codes))}"
    return None


async def _answers(ws: ClientConnection, probe_id: str) -> list[str | bytes]:
    """Everything answered before the probe's own answer (requests the central system sends on
    its own are left out)."""
    got: list[str | bytes] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S)
        try:
            frame = json.loads(raw)
        except ValueError:
            got.append(raw)
            continue
        if isinstance(frame, list) and frame and frame[0] == 2:
            continue  # the central system's own request
        if isinstance(frame, list) and len(frame) > 1 and frame[1] == probe_id:
            return got
        got.append(raw)


async def _fuzz(port: int, seed: int, n_frames: int, tally: Tally, scenario: int) -> None:
    """Each frame is followed by a valid Heartbeat (the probe): what comes back before the
    probe's answer is the frame's answer, and the probe's answer shows the session still works."""
    rng = random.Random(seed)
    ws = await _open(port)
    for i in range(n_frames):
        frame = make_frame(rng, i)
        tally.malformed_frames += 1
        tally.frames_by_class[frame.cls] += 1
        probe = f"probe-{scenario}-{i}"
        try:
            await ws.send(frame.raw)
            await ws.send(_call(probe, "Heartbeat", {}))
            answers = await _answers(ws, probe)
        except (ConnectionClosed, TimeoutError) as exc:
            what = "closed the session" if isinstance(exc, ConnectionClosed) else "hung the session"
            tally.violation(
                Finding(
                    "frames",
                    scenario,
                    seed,
                    f"{frame.cls}: session lost",
                    float(i),
                    f"{what} ({exc!s:.80}) after {frame.raw[:50]!r}",
                )
            )
            await ws.close()
            ws = await _open(port)
            continue
        if len(answers) > 1:
            why: str | None = f"{len(answers)} answers: {answers!r:.160}"
        else:
            why = _check(frame, answers[0] if answers else None)
        if why is not None:
            tally.violation(
                Finding(
                    "frames",
                    scenario,
                    seed,
                    f"{frame.cls}: wrong answer",
                    float(i),
                    f"{why} to {frame.raw[:60]!r}",
                )
            )
    await ws.close()


def run_frames(seed: int, n_frames: int, sessions: int = 2) -> tuple[Tally, FrameLog]:
    """``n_frames`` malformed frames over ``sessions`` websocket sessions (reconnecting after a
    closed one); the central system's log output is counted, not shown."""
    tally = Tally()
    counter = FrameLog()
    loggers = [logging.getLogger(n) for n in ("voltbridge.devices.ocpp", "ocpp", "websockets")]
    saved = [(lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [counter], False
        lg.setLevel(logging.INFO)

    async def main() -> None:
        config = CentralSystemConfig(
            host="127.0.0.1",
            port=0,
            chargers=[
                OcppChargerConfig(
                    charger_id=CHARGER_ID,
                    password=SecretStr(PASSWORD),
                    max_charge_kw=7.2,
                    max_discharge_kw=7.2,
                )
            ],
        )
        central = CentralSystem(config, RealClock())
        await central.start()
        try:
            per = -(-n_frames // sessions)
            for s in range(sessions):
                tally.scenarios += 1
                n = min(per, n_frames - s * per)
                await _fuzz(central.port, seed * 1000 + s, n, tally, s)
        finally:
            await central.shutdown()

    try:
        asyncio.run(main())
    finally:
        for lg, (handlers, propagate, level) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)
    return tally, counter
