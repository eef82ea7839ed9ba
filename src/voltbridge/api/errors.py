"""Error answers that name the field at fault, for FastAPI's validation and for the API's own checks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

_WHERE = {"body", "query", "path", "header", "cookie"}


class FieldError(Exception):
    """An input the API refuses, at ``loc`` (e.g. ``("vehicles", "ev9", "target_soc_pct")``)."""

    def __init__(
        self, loc: Sequence[str | int], msg: str, where: str = "body", status_code: int = 422
    ) -> None:
        self.loc = tuple(loc)
        self.field = dotted(self.loc)
        super().__init__(f"{self.field}: {msg}")
        self.msg = msg
        self.where = where
        self.status_code = status_code


def dotted(loc: Sequence[str | int]) -> str:
    """Pydantic's location without where it was, as a dotted path.

    >>> dotted(("body", "vehicles", "ev9", "target_soc_pct"))
    'vehicles.ev9.target_soc_pct'
    >>> dotted(("query", "limit"))
    'limit'
    >>> dotted(("body", "items", 2, "x"))
    'items[2].x'
    """
    parts = list(loc)
    if parts and parts[0] in _WHERE:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(body)"


UNREADABLE_BODY = (
    "the body could not be read as JSON (nested too deeply, or a number too long to read); "
    "send one JSON object of the fields to change"
)
"""Said in place of FastAPI's "There was an error parsing the body" (its 400 for bodies that
its JSON reader gives up on, with no hint of why)."""

_FASTAPI_PARSE_ERROR = "There was an error parsing the body"


def _shown(value: Any) -> str:
    """A rejected input as JSON text, cut short."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _explained(item: dict[str, Any]) -> tuple[list[str | int], str]:
    """(location, message) of one pydantic problem, in words a person can act on."""
    loc = [p if isinstance(p, int) else str(p) for p in item.get("loc", ())]
    kind = str(item.get("type", ""))
    msg = str(item.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "json_invalid":
        # FastAPI puts the character position where a field would be
        where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        error = (item.get("ctx") or {}).get("error", "")
        return loc[:1], f"not valid JSON{where}" + (f" ({error})" if error else "")
    if loc == ["body"] and kind == "missing":
        return loc, "empty: send a JSON object of the fields to change"
    if loc == ["body"] and kind in ("model_attributes_type", "model_type", "dict_type"):
        return loc, f"send a JSON object of the fields to change, not {_shown(item.get('input'))}"
    if (kind.endswith("_type") or kind.endswith("_parsing")) and "input" in item:
        given = item["input"]
        if not isinstance(given, dict | list):
            msg = f"{msg}, not {_shown(given)}"
    return loc, msg


def problems(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The JSON body of a 422: each problem with its field, and one sentence naming them all."""
    detail = []
    for item in items:
        loc, msg = _explained(item)
        detail.append(
            {"field": dotted(loc), "loc": loc, "msg": msg, "type": str(item.get("type", ""))}
        )
    message = "; ".join(f"{d['field']}: {d['msg']}" for d in detail)
    return {"message": message, "detail": detail}


async def _validation_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(problems(exc.errors()), status_code=422)


async def _field_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldError)
    body = problems([{"loc": [exc.where, *exc.loc], "msg": exc.msg, "type": "value_error"}])
    return JSONResponse(body, status_code=exc.status_code)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _FASTAPI_PARSE_ERROR:
        exc = StarletteHTTPException(400, UNREADABLE_BODY, headers=exc.headers)
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    """Make every validation error of ``app`` a 422 naming the field, and every body that cannot
    be read a 400 saying why."""
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(FieldError, _field_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
