"""The OCPP-J message layer both ends share: frame routing that no frame can break, and requests
with exact payloads.

Handlers are routed declaratively with the ``ocpp`` package's ``@on`` and get snake_case keyword
arguments, as with its ``ChargePoint``; the receiving side is our own so that:

* every unusable frame is answered as OCPP-J 2.x Part 4 says (see ``frames.parse_frame``) with one
  log line, rate-limited per peer and error code on the injected clock, never a traceback;
* unknown actions get NotImplemented and known but unhandled ones NotSupported (Part 4 §4.3:
  NotImplemented is "Requested Action is not known by receiver", NotSupported "Requested Action
  is recognized but not supported by the receiver"; the package answers them the other way
  round);
* payloads are checked with their ``date-time`` formats (``schemas.check_payload``);
* answers are matched to requests by message id, so an optional exchange can wait for its answer
  without holding up the requests that matter (``request(..., optional=True)``).

``request`` sends a payload whose keys are already the schema's own (camelCase): the package's
snake→camel conversion turns per-phase keys such as ``setpoint_l2`` into ``setpointL2`` where the
2.1 schema wants ``setpoint_L2``, so charging profiles and needs are built with explicit keys.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError, CallResult
from ocpp.routing import create_route_map, on
from websockets.exceptions import ConnectionClosed

from voltbridge.devices.capabilities import DeviceError
from voltbridge.devices.ocpp.frames import BadFrame, parse_frame
from voltbridge.devices.ocpp.log_limit import LogLimiter, suppressed_note
from voltbridge.devices.ocpp.schemas import KNOWN_ACTIONS, check_payload

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

SUBPROTOCOLS: dict[str, str] = {"ocpp2.1": "2.1", "ocpp2.0.1": "2.0.1"}
"""Websocket subprotocol → the OCPP version whose schemas apply, in order of preference."""


def on_action(action: str) -> Callable[[F], F]:
    """``ocpp.routing.on`` with its type kept, so handlers stay typed."""
    return cast(Callable[[F], F], on(action))


def iso(moment: datetime) -> str:
    """An aware datetime as OCPP's UTC timestamp, e.g. ``2026-01-01T12:00:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class OcppCallError(DeviceError, RuntimeError):
    """The other end answered a request with a CALLERROR: a fault of that device."""

    def __init__(self, peer: str, action: str, code: str, description: str) -> None:
        super().__init__(f"{peer} answered {action} with {code}: {description}")
        self.action, self.code, self.description = action, code, description


class InvalidAnswerError(OcppCallError):
    """The other end answered a request with a frame or payload that breaks OCPP."""

    def __init__(self, peer: str, action: str, code: str, description: str) -> None:
        RuntimeError.__init__(self, f"{peer} answered {action} invalidly ({code}): {description}")
        self.action, self.code, self.description = action, code, description


def _cause(error: OCPPError) -> str:
    details = error.details
    return str(details.get("cause", ""))[:300] if isinstance(details, dict) else ""


def _where(exc: BaseException) -> str:
    """``file.py:line`` where ``exc`` was raised: enough to find a bug, without a traceback."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return "" if tb is None else f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


class OcppEndpoint:
    """One end of an OCPP-J websocket (either side), speaking ``version`` (``"2.1"`` or ``"2.0.1"``).

    Args:
        peer_id: the charging station identity (used in logs and errors).
        connection: anything with async ``recv()``, ``send(text)`` and ``close()``.
        version: the OCPP version whose JSON schemas validate every message.
        response_timeout_s: how long [s] ``request`` waits for the answer (real time: it is the
            network's and the peer's latency, not simulated time).
        frame_log: rate limit for the log lines about this peer's bad frames.
    """

    def __init__(
        self,
        peer_id: str,
        connection: Any,
        version: str,
        response_timeout_s: float,
        *,
        frame_log: LogLimiter,
    ) -> None:
        if version not in SUBPROTOCOLS.values():
            raise ValueError(f"unsupported OCPP version {version!r}; use 2.1 or 2.0.1")
        self.id, self._connection, self._ocpp_version = peer_id, connection, version
        self._response_timeout = response_timeout_s
        self.frame_log = frame_log
        self.route_map: dict[str, dict[str, Any]] = create_route_map(self)
        self.frames_received = 0
        """Frames received on this connection, usable or not (liveness)."""
        self._call_lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[CallResult | CallError]] = {}
        self._unique_id_generator: Callable[[], object] = uuid.uuid4
        self._optional_failed: set[str] = set()

    @property
    def version(self) -> str:
        """The OCPP version spoken on this connection."""
        return self._ocpp_version

    async def close(self, reason: str = "") -> None:
        """Close the websocket (``reason`` goes into the close frame)."""
        await self._connection.close(1000, reason[:120])

    def on_frame(self) -> None:
        """Called for every frame received, before it is routed (override to track liveness)."""

    def on_unanswered(self, action: str) -> None:
        """Called when a request got no answer and nothing else came in meanwhile (override)."""

    # --- receiving -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Receive and route frames until the connection closes (``ConnectionClosed``)."""
        try:
            while True:
                raw = await self._connection.recv()
                log.debug("%s: received %.300s", self.id, raw)
                await self.route_message(raw)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"{self.id}: connection closed"))
            for code, n in self.frame_log.drain().items():
                log.warning("%s: %s more %s lines were suppressed", self.id, n, code)

    async def route_message(self, raw: str | bytes) -> None:
        """Route one frame; no frame makes this raise, only a closed connection does."""
        self.frames_received += 1
        self.on_frame()
        try:
            try:
                frame = parse_frame(raw)
            except BadFrame as bad:
                await self._bad_frame(bad, raw)
                return
            if isinstance(frame, Call):
                await self._handle_call(frame)
            else:
                self._deliver(frame)
        except ConnectionClosed:
            raise
        except Exception as exc:  # last resort: a frame never ends the session
            self._note("InternalError", "frame not handled: %.200r%s", exc, _where(exc))

    def _note(self, code: str, message: str, *args: object) -> None:
        """One warning line about the peer's frame, rate-limited per error ``code``."""
        dropped = self.frame_log.admit(code)
        if dropped is not None:
            log.warning("%s: " + message + "%s", self.id, *args, suppressed_note(dropped))

    async def _bad_frame(self, bad: BadFrame, raw: str | bytes) -> None:
        if bad.response_id is not None:
            self._fail_pending(bad.response_id, bad.reason)
        answer = f"answered {bad.code}" if bad.answer else bad.code
        self._note(bad.code, "bad frame %.60r (%s), %s", raw[:60], bad.reason, answer)
        if bad.answer:
            await self._reply_error(bad.message_id, bad.code, bad.reason)

    def _deliver(self, response: CallResult | CallError) -> None:
        future = self._pending.get(response.unique_id)
        if future is None or future.done():
            self._note("UnexpectedResponse", "answer to no request: %.36r", response.unique_id)
        else:
            future.set_result(response)

    def _fail_pending(self, message_id: str, why: str) -> None:
        future = self._pending.get(message_id)
        if future is not None and not future.done():
            future.set_exception(InvalidAnswerError(self.id, "?", "ProtocolError", why))

    async def _handle_call(self, call: Call) -> None:
        handler = self.route_map.get(call.action, {}).get("_on_action")
        if handler is None:
            known = call.action in KNOWN_ACTIONS[self.version]
            code = "NotSupported" if known else "NotImplemented"
            self._note(code, "%s for action %.50r", code, call.action)
            await self._reply_error(call.unique_id, code, f"{call.action[:50]!r} is not handled")
            return
        try:
            check_payload(self.version, call.action, call.payload, response=False)
            answer = handler(**camel_to_snake_case(call.payload))
            if inspect.isawaitable(answer):
                answer = await answer
        except OCPPError as exc:  # the payload breaks the schema, or the handler refused a value
            self._note(
                exc.code,
                "%s %s answered %s: %s",
                call.action,
                call.unique_id,
                exc.code,
                _cause(exc),
            )
            await self._reply_error(call.unique_id, exc.code, _cause(exc))
            return
        except ConnectionClosed:
            raise
        except Exception as exc:  # a bug in a handler must not end the session
            self._note("InternalError", "%s failed: %.200r%s", call.action, exc, _where(exc))
            await self._reply_error(call.unique_id, "InternalError", type(exc).__name__)
            return
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(answer)))
        try:
            check_payload(self.version, call.action, payload, response=True)
        except OCPPError as exc:  # our own answer is wrong: a bug here, said so once a minute
            self._note(
                "InternalError", "our %s answer breaks the schema: %s", call.action, _cause(exc)
            )
            await self._reply_error(call.unique_id, "InternalError", "invalid answer")
            return
        await self._send(CallResult(call.unique_id, payload).to_json())

    async def _reply_error(self, message_id: str, code: str, cause: str) -> None:
        frame = CallError(message_id, code, cause[:255], {})
        await self._send(frame.to_json())

    async def _send(self, text: str) -> None:
        log.debug("%s: send %.300s", self.id, text)
        await self._connection.send(text)

    # --- requesting ----------------------------------------------------------------------------
    async def request(
        self, action: str, payload: dict[str, Any], *, optional: bool = False
    ) -> dict[str, Any]:
        """Send ``action`` with ``payload`` (schema keys, camelCase) and return the answer's payload.

        Requests are sent one at a time, as OCPP-J asks (Part 4: a party SHOULD NOT send a CALL
        before the previous one is answered or timed out), except ``optional`` ones: those wait for
        their answer beside the others, so a peer that never answers an advisory message cannot
        hold up a setpoint. Both the request and the answer are checked against the schema.

        Raises:
            OCPPError: our own payload fails the schema (a bug here: the message is not sent).
            OcppCallError: the other end answered with a CALLERROR (``InvalidAnswerError``: with
                an answer that breaks OCPP).
            TimeoutError: no answer within ``response_timeout_s``.
            ConnectionError: the connection closed before the answer came.
            ConnectionClosed: the websocket was closed when sending.
        """
        call = Call(str(self._unique_id_generator()), action, payload)
        check_payload(self.version, action, payload, response=False)
        if optional:
            return await self._exchange(call, optional=True)
        async with self._call_lock:
            return await self._exchange(call, optional=False)

    async def request_optional(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """``request(optional=True)``; a failure is logged (a warning the first time for each
        action on this connection) and gives None."""
        try:
            return await self.request(action, payload, optional=True)
        except (OcppCallError, TimeoutError, ConnectionError, ConnectionClosed) as exc:
            level = logging.DEBUG if action in self._optional_failed else logging.WARNING
            self._optional_failed.add(action)
            log.log(level, "%s: optional %s failed (not needed to go on): %s", self.id, action, exc)
            return None

    async def _exchange(self, call: Call, *, optional: bool) -> dict[str, Any]:
        future: asyncio.Future[CallResult | CallError] = asyncio.get_running_loop().create_future()
        self._pending[call.unique_id] = future
        heard = self.frames_received
        try:
            await self._send(call.to_json())
            try:
                async with asyncio.timeout(self._response_timeout):
                    response = await future
            except InvalidAnswerError as exc:  # a malformed answer frame carrying our id
                raise InvalidAnswerError(self.id, call.action, exc.code, exc.description) from None
            except TimeoutError:
                if not optional and self.frames_received == heard:
                    self.on_unanswered(call.action)
                raise TimeoutError(
                    f"{self.id}: no answer to {call.action} within {self._response_timeout} s"
                ) from None
        finally:
            self._pending.pop(call.unique_id, None)
        if isinstance(response, CallError):
            raise OcppCallError(
                self.id, call.action, response.error_code, response.error_description
            )
        try:
            check_payload(self.version, call.action, response.payload, response=True)
        except OCPPError as exc:
            raise InvalidAnswerError(self.id, call.action, exc.code, _cause(exc)) from None
        return cast(dict[str, Any], response.payload)
