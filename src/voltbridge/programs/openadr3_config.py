"""Validated configuration of voltbridge as an OpenADR 3 VEN of one utility's or aggregator's VTN.

The site file embeds it under its program (``[programs.openadr3]``), so it lives with the
programs (``config`` may import ``programs``, not ``devices``); the VEN is in
``voltbridge.devices.openadr3``.

Secrets never live in the file: the OAuth2 client id and secret are read from the environment
variables the configuration names. A VTN on another host must be reached over HTTPS unless
``allow_insecure`` is set (a lab network only): the bearer token would otherwise travel in clear.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voltbridge.programs.events import ProgramEventKind
from voltbridge.programs.openadr_config import VenConfigError

DefaultChoice = Literal["take_part", "skip"]
"""What voltbridge does while the household has not decided on an event."""

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"give an http(s) URL with a host, got {url!r}")
    return url.rstrip("/")


class OpenADR3Config(BaseModel):
    """One OpenADR 3 VTN connection and how its events become voltbridge's grid events.

    Attributes:
        vtn_url: the VTN's base URL (the one its ``/programs`` and ``/events`` hang under).
        token_url: the OAuth2 token endpoint; None asks the VTN (``GET /auth/server``) and
            falls back to ``{vtn_url}/auth/token``.
        ven_name: the ``venName`` this home registers under (unique within the VTN).
        program: the ``[[programs]]`` id whose payments the VTN's events earn (None: the id of
            the entry the table is under).
        vtn_program: the VTN program to follow, by its ``programName`` or its ``id``.
        client_id_env: name of the environment variable holding the OAuth2 client id.
        client_secret_env: name of the environment variable holding the OAuth2 client secret.
        verify_tls: whether the VTN's (and token endpoint's) certificate is checked.
        ca_file: a CA bundle to check it against instead of the system's.
        allow_insecure: accept plain HTTP to another host, or ``verify_tls = false`` (lab only).
        poll_s: seconds between polls of the VTN's events [s].
        retry_s: seconds between tries while the VTN is unreachable or refuses [s].
        timeout_s: the longest one HTTP request may take [s].
        payment_per_kwh: the program's payment [currency/kWh] for events that carry no price.
        currency: the program's currency (ISO 4217); events priced in another are refused.
            None takes any.
        simple_kind: what a ``SIMPLE`` level or a price-only event asks for (``export`` for
            V2G programs such as ELRP, ``reduce`` for load-reduction programs).
        default_choice: what voltbridge does while the household is undecided.
        charger_limit_kw: the most the home can deliver [kW]; larger requests are clipped
            (None: the site's chargers and battery together, filled in when voltbridge starts).
        sample_gap_s: a grid-power sample counts for at most this long [s]; longer gaps in the
            telemetry count as nothing delivered.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    vtn_url: str
    token_url: str | None = None
    ven_name: str = Field(min_length=1, max_length=128)
    program: str | None = Field(default=None, min_length=1)
    vtn_program: str = Field(min_length=1, max_length=128)
    client_id_env: str = Field(default="VOLTBRIDGE_OADR3_CLIENT_ID", pattern=_ENV_NAME)
    client_secret_env: str = Field(default="VOLTBRIDGE_OADR3_CLIENT_SECRET", pattern=_ENV_NAME)
    verify_tls: bool = True
    ca_file: Path | None = None
    allow_insecure: bool = False
    poll_s: float = Field(default=60.0, gt=0, le=86400)
    retry_s: float = Field(default=60.0, gt=0, le=86400)
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    payment_per_kwh: float = Field(default=0.0, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    simple_kind: ProgramEventKind = "export"
    default_choice: DefaultChoice = "take_part"
    charger_limit_kw: float | None = Field(default=None, gt=0, le=1000)
    sample_gap_s: float = Field(default=300.0, gt=0)

    @field_validator("vtn_url")
    @classmethod
    def _vtn_url(cls, url: str) -> str:
        return _http_url(url)

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url)

    @field_validator("ca_file")
    @classmethod
    def _ca_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @model_validator(mode="after")
    def _secure(self) -> Self:
        for name, url in (("vtn_url", self.vtn_url), ("token_url", self.token_url)):
            if url is None:
                continue
            parts = urlsplit(url)
            insecure = parts.scheme == "http" and not _loopback(parts.hostname or "")
            if insecure and not self.allow_insecure:
                raise ValueError(
                    f"{name} {url}: plain HTTP to another host would send the bearer token "
                    "in clear; give an https URL (allow_insecure = true only on a lab network)"
                )
        if not self.verify_tls and not self.allow_insecure:
            raise ValueError(
                "verify_tls = false accepts any VTN; set allow_insecure = true as well, and only "
                "on a lab network"
            )
        return self

    def resolved(self, program: str, charger_limit_kw: float) -> OpenADR3Config:
        """This configuration with the program and the home's limit filled in where not given."""
        return self.model_copy(
            update={
                "program": self.program or program,
                "charger_limit_kw": self.charger_limit_kw or charger_limit_kw,
            }
        )

    def credentials(self, environ: dict[str, str] | None = None) -> tuple[str, str]:
        """The OAuth2 client id and secret from the environment; raises VenConfigError if unset."""
        env = os.environ if environ is None else environ
        values = []
        for field_name, var in (
            ("client_id_env", self.client_id_env),
            ("client_secret_env", self.client_secret_env),
        ):
            value = env.get(var)
            if not value:
                raise VenConfigError(
                    f"[openadr3] {field_name}: environment variable {var} is not set; export it "
                    "(the VTN operator gives the client credentials) before starting voltbridge"
                )
            values.append(value)
        return values[0], values[1]

    def ssl_verify(self) -> ssl.SSLContext | bool:
        """What httpx checks the VTN's certificate with."""
        if not self.verify_tls:
            return False
        if self.ca_file is not None:
            return ssl.create_default_context(cafile=str(self.ca_file))
        return True
