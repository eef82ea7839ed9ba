"""Reading one OCPP-J frame off the websocket: what it is, or why it cannot be used and what the
other end must be told (OCPP 2.0.1 and 2.1 Part 4, "JSON over WebSockets", section 4).

Pure and cheap: one C-level ``json.loads``, a few type checks and a walk over the containers; no
exception escapes but ``BadFrame``, whatever the bytes (deep nesting, NaN, huge numbers, binary).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ocpp.messages import Call, CallError, CallResult

UNREADABLE_ID = "-1"
"""The message id of a CALLERROR answering a frame whose own id cannot be read (Part 4 §4.2.3)."""
MESSAGE_ID_MAX_CHARS = 36
"""A message id is at most 36 characters (Part 4: room for a UUID)."""
MAX_DEPTH = 32
"""Deepest nesting [levels] accepted: the deepest OCPP 2.1 message (ReportChargingProfiles) needs
13 with the frame's own array, so 32 leaves room for ``customData`` and refuses floods."""
CALL, CALLRESULT, CALLERROR = 2, 3, 4


class BadFrame(Exception):  # it names the thing received, like OCPP's CALLERROR
    """A frame that cannot be used.

    Attributes:
        code: the CALLERROR code to answer with (``answer`` True), else why it is dropped.
        reason: what was wrong, in words (short: goes into the CALLERROR and the log).
        message_id: the id to answer with: the frame's own when it can be read, else ``"-1"``.
        answer: True when the frame may be a CALL and so must get a CALLERROR; responses and
            frames of unknown message type are only dropped (nothing may answer them).
        response_id: for a malformed CALLRESULT/CALLERROR whose id could be read: that id, so
            the request waiting for it fails now rather than at its timeout.
    """

    def __init__(
        self,
        code: str,
        reason: str,
        message_id: str = UNREADABLE_ID,
        *,
        answer: bool = True,
        response_id: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {reason}")
        self.code, self.reason, self.message_id = code, reason, message_id
        self.answer, self.response_id = answer, response_id


class NonFinite:
    """Stands for ``NaN``, ``Infinity`` or a number beyond float range in a payload.

    Not JSON (RFC 8259 has no such numbers), yet Python's parser accepts them. Kept as this
    marker, the payload's schema check fails on it with a TypeConstraintViolation naming the
    field, and no such value can reach a reading.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text[:20]


def _float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def _depth_within(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """True when ``value`` nests at most ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return True


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_frame(raw: str | bytes) -> Call | CallResult | CallError:
    """The CALL, CALLRESULT or CALLERROR in ``raw``.

    The rules followed, each from OCPP 2.0.1/2.1 Part 4:

    * a frame whose message id cannot be read (not UTF-8 text, not JSON, nested too deep for the
      parser, not an array, no numeric message type, no string id of at most 36 characters) gets
      RpcFrameworkError with id ``"-1"``: §4.3 says RpcFrameworkError is for "content of the call
      is not a valid RPC Request, for example: MessageId could not be read", and §4.2.3 that such
      a CALLERROR carries the id "-1". FormatViolation is about a payload ("payload for Action is
      syntactically incorrect"), so it is not used for a frame that is not even an RPC message;
    * a CALL whose id can be read but whose array is not ``[2, id, action, payload]`` is not a
      valid RPC request either: RpcFrameworkError with its id; a payload that is not a JSON
      object, or nests deeper than any OCPP message, is syntactically incorrect: FormatViolation;
    * a message type number other than 2, 3 or 4 is ignored (§4.1 in 2.1 and the 2.0.1 errata;
      MessageTypeNotSupported is deprecated). That includes 2.1's CALLRESULTERROR (5) and SEND
      (6): voltbridge sends nothing that could earn a CALLRESULTERROR and takes no SEND action;
    * a malformed CALLRESULT or CALLERROR is dropped: nothing may answer a response.

    Raises:
        BadFrame: the frame cannot be used; it says whether and how to answer.
    """
    try:
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
        frame: Any = json.loads(text, parse_float=_float, parse_constant=NonFinite)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        what = "nested too deeply" if isinstance(exc, RecursionError) else "not JSON"
        raise BadFrame("RpcFrameworkError", f"the frame is {what}; message id unreadable") from None
    if not isinstance(frame, list) or not frame or not _is_int(frame[0]):
        raise BadFrame("RpcFrameworkError", "not an array starting with a message type number")
    kind = frame[0]
    if kind not in (CALL, CALLRESULT, CALLERROR):
        raise BadFrame("ignored", f"message type {kind} is not 2, 3 or 4", answer=False)
    message_id = frame[1] if len(frame) > 1 else None
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MESSAGE_ID_MAX_CHARS:
        if kind != CALL:
            raise BadFrame("dropped", "response without a readable message id", answer=False)
        raise BadFrame("RpcFrameworkError", "no message id of 1 to 36 characters")
    if kind == CALL:
        return _call(frame, message_id)
    return _response(frame, message_id)


def _call(frame: list[Any], message_id: str) -> Call:
    if len(frame) != 4 or not isinstance(frame[2], str):
        raise BadFrame("RpcFrameworkError", "a CALL is [2, messageId, action, payload]", message_id)
    if not isinstance(frame[3], dict):
        raise BadFrame("FormatViolation", "the payload is not a JSON object", message_id)
    if not _depth_within(frame, MAX_DEPTH):
        raise BadFrame("FormatViolation", f"nested deeper than {MAX_DEPTH} levels", message_id)
    return Call(message_id, frame[2], frame[3])


def _response(frame: list[Any], message_id: str) -> CallResult | CallError:
    def dropped(why: str) -> BadFrame:
        return BadFrame("dropped", why, message_id, answer=False, response_id=message_id)

    if not _depth_within(frame, MAX_DEPTH):
        raise dropped(f"nested deeper than {MAX_DEPTH} levels")
    if frame[0] == CALLRESULT:
        if len(frame) != 3 or not isinstance(frame[2], dict):
            raise dropped("a CALLRESULT is [3, messageId, payload]")
        return CallResult(message_id, frame[2])
    details = frame[4] if len(frame) == 5 else None
    if (
        len(frame) != 5
        or not isinstance(frame[2], str)
        or not isinstance(frame[3], str)
        or not isinstance(details, dict)
    ):
        raise dropped("a CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails]")
    return CallError(message_id, frame[2][:50], frame[3][:255], details)
