"""OCPP 2.x payload checks: the ``ocpp`` package's JSON schemas, with their ``date-time`` formats
enforced, and the one timestamp parser both ends use.

The package validates against the same schemas but ignores ``"format": "date-time"``, so a
timestamp of ``"not-a-time"`` passed and reached the handlers. Here it is a FormatViolation, as
the package itself answers every schema keyword other than type, additionalProperties, required
and maxLength (whose codes are kept as it maps them, so both ends of a link agree).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import (  # type: ignore[import-untyped]  # the ocpp package's own validator
    Draft4Validator,
    FormatChecker,
)
from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.v21.enums import Action as Action21
from ocpp.v201.enums import Action as Action201

KNOWN_ACTIONS: dict[str, frozenset[str]] = {
    "2.1": frozenset(a.value for a in Action21),
    "2.0.1": frozenset(a.value for a in Action201),
}
"""Every action each OCPP version defines (either direction)."""

_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?"
)


def parse_time(text: str) -> datetime:
    """An OCPP (RFC 3339) timestamp as an aware UTC datetime.

    A timestamp without offset is read as UTC (some chargers omit the ``Z``); fractions beyond
    microseconds are cut.

    >>> parse_time("2026-03-01T19:00:00.5+01:00").isoformat()
    '2026-03-01T18:00:00.500000+00:00'

    Raises:
        ValueError: ``text`` is not such a timestamp or names no real moment (2026-02-30).
    """
    found = _RFC3339.fullmatch(text)
    if found is None:
        raise ValueError(f"{text[:40]!r} is not an RFC 3339 date-time (2026-03-01T18:00:00Z)")
    day, clock, fraction, offset = found.groups()
    micros = f".{fraction[:6]}" if fraction else ""
    zone = "+00:00" if offset is None or offset in "Zz" else offset
    moment = datetime.fromisoformat(f"{day}T{clock}{micros}{zone}")  # ValueError: no such day
    return moment.astimezone(UTC)


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # "format" applies to strings only; "type" judges the rest
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time")(_is_date_time)


@cache
def _validator(version: str, schema: str) -> Draft4Validator:
    folder = "v" + version.replace(".", "")
    text = files("ocpp").joinpath(folder, "schemas", f"{schema}.json").read_text("utf-8-sig")
    return Draft4Validator(json.loads(text), format_checker=_FORMATS)


def check_payload(version: str, action: str, payload: Any, *, response: bool) -> None:
    """Check a request's (or its response's) payload against ``version``'s schema for ``action``.

    Only the first error is reported: it is as good a reason as any, and looking for all of them
    in a large hostile payload would cost far more.

    Raises:
        ValueError: ``action`` is not one of the version's actions (no schema to read).
        OCPPError: the payload breaks the schema; its ``code`` is the CALLERROR code to answer.
    """
    if action not in KNOWN_ACTIONS.get(version, frozenset()):
        raise ValueError(f"OCPP {version} defines no action {action!r}")
    error = next(
        _validator(version, action + ("Response" if response else "Request")).iter_errors(payload),
        None,
    )
    if error is None:
        return
    where = "/".join(str(p) for p in error.absolute_path) or "the payload"
    cause = f"{where}: {error.message[:200]}"
    kind: type[OCPPError] = FormatViolationError
    if error.validator in ("type", "maxLength"):
        kind = TypeConstraintViolationError
    elif error.validator == "required":
        kind = ProtocolError
    raise kind(details={"cause": cause})
