"""Error answers that name the field at fault, for FastAPI's validation and for the API's own checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


def problems(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The JSON body of a 422: each problem with its field, and one sentence naming them all."""
    detail = []
    for item in items:
        loc = [p if isinstance(p, int) else str(p) for p in item.get("loc", ())]
        msg = str(item.get("msg", "invalid")).removeprefix("Value error, ")
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


def install(app: FastAPI) -> None:
    """Make every validation error of ``app`` a 422 naming the field."""
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(FieldError, _field_error)
