"""Bodies of the API's own requests and answers (status, plans and settings keep their own shapes)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    """``POST /api/login``."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=1024)


class LoginAnswer(BaseModel):
    """A new session: the token (also set as an HttpOnly cookie) and how long it lasts."""

    token: str
    expires_in_s: float
    expires_at: str


class Me(BaseModel):
    """What the caller may do (``GET /api/me``)."""

    authenticated: bool
    public_read: bool
    can_read: bool
    can_write: bool


class Info(BaseModel):
    """The site as the dashboard needs it to show things (``GET /api/info``)."""

    site_name: str
    timezone: str
    currency: str
    vehicle_names: list[str]
    version: str


class FieldProblem(BaseModel):
    """One invalid input: the field's dotted path, where it was (body, query), and what is wrong."""

    field: str
    loc: list[str | int]
    msg: str
    type: str


class Problems(BaseModel):
    """A 4xx answer naming the fields at fault."""

    message: str
    detail: list[FieldProblem]


class Message(BaseModel):
    """A plain answer (``{"detail": "..."}``), as FastAPI gives for errors."""

    detail: str
