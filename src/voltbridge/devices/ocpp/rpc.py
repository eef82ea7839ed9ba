"""The OCPP-J message layer both ends share: robust frame routing and requests with exact payloads.

The ``ocpp`` package's ``ChargePoint`` routes incoming calls to ``@on`` handlers, validates them
against the JSON schemas and converts their keys to snake_case. Two gaps are filled here:

* a frame that is not valid OCPP-J (bad JSON, wrong message type, an unknown action) gets a
  CALLERROR instead of being dropped in silence, and no error in a handler ends the connection;
* ``request`` sends a payload whose keys are already the schema's own (camelCase) keys and checks
  it against the schema before it leaves. The library's snake→camel conversion turns per-phase keys
  such as ``setpoint_l2`` into ``setpointL2`` where the 2.1 schema wants ``setpoint_L2``, so
  charging profiles and charging needs are built with explicit keys (see ``profiles.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from ocpp.exceptions import InternalError, NotSupportedError, OCPPError
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.messages import Call, CallError, MessageType, unpack, validate_payload
from ocpp.routing import on
from ocpp.v21 import ChargePoint as _ChargePoint21
from ocpp.v21.enums import Action
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

SUBPROTOCOLS: dict[str, str] = {"ocpp2.1": "2.1", "ocpp2.0.1": "2.0.1"}
"""Websocket subprotocol → the OCPP version whose schemas apply, in order of preference."""

KNOWN_ACTIONS = frozenset(a.value for a in Action)


def on_action(action: str) -> Callable[[F], F]:
    """``ocpp.routing.on`` with its type kept, so handlers stay typed."""
    return cast(Callable[[F], F], on(action))


def iso(moment: datetime) -> str:
    """An aware datetime as OCPP's UTC timestamp, e.g. ``2026-01-01T12:00:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An OCPP timestamp as an aware UTC datetime; a timestamp without offset is read as UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class OcppCallError(RuntimeError):
    """The other end answered a request with a CALLERROR."""

    def __init__(self, peer: str, action: str, code: str, description: str) -> None:
        super().__init__(f"{peer} answered {action} with {code}: {description}")
        self.action, self.code, self.description = action, code, description


def frame_id(raw: str | bytes) -> str:
    """The message id of a frame that could not be unpacked, or ``"-1"`` when it cannot be read."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "-1"
    if isinstance(frame, list) and len(frame) >= 2 and isinstance(frame[1], str):
        return frame[1][:36]
    return "-1"


def frame_type(raw: str | bytes) -> object:
    """The message type number of a frame, or None when it cannot be read."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return frame[0] if isinstance(frame, list) and frame else None


def _cause(error: OCPPError) -> str:
    details = error.details
    return str(details.get("cause", "")) if isinstance(details, dict) else ""


class OcppEndpoint(_ChargePoint21):  # type: ignore[misc]  # ocpp ships no type hints
    """One end of an OCPP-J websocket (either side), speaking ``version`` (``"2.1"`` or ``"2.0.1"``).

    Args:
        peer_id: the charging station identity (used in logs and errors).
        connection: anything with async ``recv()`` and ``send(text)``, e.g. a websocket.
        version: the OCPP version whose JSON schemas validate every message.
        response_timeout_s: how long [s] ``request`` waits for the answer.
    """

    def __init__(
        self, peer_id: str, connection: Any, version: str = "2.1", response_timeout_s: float = 10.0
    ) -> None:
        super().__init__(peer_id, connection, response_timeout=response_timeout_s)
        if version not in SUBPROTOCOLS.values():
            raise ValueError(f"unsupported OCPP version {version!r}; use 2.1 or 2.0.1")
        self._ocpp_version = version

    @property
    def version(self) -> str:
        """The OCPP version spoken on this connection."""
        return self._ocpp_version

    async def close(self) -> None:
        """Close the websocket."""
        await self._connection.close()

    def on_frame(self) -> None:
        """Called for every frame received, before it is routed (override to track liveness)."""

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Route one frame; answer anything unusable with a CALLERROR and never raise for it."""
        self.on_frame()
        try:
            msg = unpack(raw_msg)
        except OCPPError as exc:
            kind = frame_type(raw_msg)
            if kind in (MessageType.CallResult, MessageType.CallError):
                log.warning("%s: dropped a malformed response frame: %s", self.id, exc)
                return
            code, text = exc.code, exc.description
            if isinstance(kind, int) and kind != MessageType.Call:
                code, text = "MessageTypeNotSupported", f"message type {kind} is not 2, 3 or 4"
            log.warning("%s: malformed frame answered with %s: %.200r", self.id, code, raw_msg)
            await self._send_error(frame_id(raw_msg), code, text, _cause(exc))
            return
        if isinstance(msg, Call) and not self._routable(msg.action):
            known = isinstance(msg.action, str) and msg.action in KNOWN_ACTIONS
            error: OCPPError = OcppNotImplemented() if known else NotSupportedError()
            log.warning("%s: %s for unhandled action %r", self.id, error.code, msg.action)
            cause = f"{msg.action!r} is not handled here"
            await self._send_error(msg.unique_id, error.code, error.description, cause)
            return
        try:
            await super().route_message(raw_msg)
        except ConnectionClosed:
            raise
        except Exception as exc:  # a bug in a handler must not end the session
            log.exception("%s: error while handling %.200r", self.id, raw_msg)
            if isinstance(msg, Call):
                error = InternalError()
                await self._send_error(msg.unique_id, error.code, error.description, str(exc))

    def _routable(self, action: object) -> bool:
        return isinstance(action, str) and "_on_action" in self.route_map.get(action, {})

    async def _send_error(self, unique_id: str, code: str, description: str, cause: str) -> None:
        frame = CallError(unique_id, code, description, {"cause": cause[:500]})
        await self._send(frame.to_json())

    async def request(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send ``action`` with ``payload`` (schema keys, camelCase) and return the answer's payload.

        Both the request and the answer are checked against the version's JSON schema.

        Raises:
            OCPPError: our own payload fails the schema (a bug here: the message is not sent).
            OcppCallError: the other end answered with a CALLERROR.
            TimeoutError: no answer within ``response_timeout_s``.
            ConnectionClosed: the websocket closed.
        """
        call = Call(str(self._unique_id_generator()), action, payload)
        await validate_payload(call, self._ocpp_version)
        async with self._call_lock:
            await self._send(call.to_json())
            try:
                response = await self._get_specific_response(call.unique_id, self._response_timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"{self.id}: no answer to {action} within {self._response_timeout} s"
                ) from None
        if response.message_type_id == MessageType.CallError:
            raise OcppCallError(self.id, action, response.error_code, response.error_description)
        response.action = action
        await validate_payload(response, self._ocpp_version)
        return cast(dict[str, Any], response.payload)
