"""Validated configuration of voltbridge as an OpenADR 2.0b VEN of one utility's or aggregator's VTN.

The site file embeds :class:`OpenADRConfig` under its program (``[programs.openadr]``), so it lives
with the programs (``config`` may import ``programs``, not ``devices``); the VEN itself is in
``voltbridge.devices.openadr``. Secrets never live in the file: the private key's passphrase is
read from the environment variable it names.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voltbridge.programs.events import ProgramEventKind

DefaultChoice = Literal["take_part", "skip"]
"""What voltbridge tells the VTN while the household has not decided on an event."""


class VenConfigError(ValueError):
    """A configuration the VEN cannot start with; the message says what to fix."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenADRTls(BaseModel):
    """The VEN's TLS client certificate and how it checks the VTN.

    Attributes:
        cert: the VEN's PEM client certificate (also signs outgoing messages).
        key: its PEM private key.
        ca_file: the CA bundle the VTN's server certificate is checked against.
        key_passphrase_env: name of the environment variable holding the key's passphrase, if
            the key has one.
        check_hostname: whether the VTN certificate must name the host in ``vtn_url``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cert: Path
    key: Path
    ca_file: Path
    key_passphrase_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    check_hostname: bool = True

    @field_validator("cert", "key", "ca_file")
    @classmethod
    def _exists(cls, path: Path) -> Path:
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        return path

    def passphrase(self, environ: dict[str, str] | None = None) -> str | None:
        """The key's passphrase from the environment; raises VenConfigError when it is unset."""
        if self.key_passphrase_env is None:
            return None
        env = os.environ if environ is None else environ
        value = env.get(self.key_passphrase_env)
        if value is None:
            raise VenConfigError(
                f"[openadr.tls] key_passphrase_env: environment variable "
                f"{self.key_passphrase_env} is not set; export it before starting voltbridge"
            )
        return value


class OpenADRConfig(BaseModel):
    """One VTN connection and how its events become voltbridge's grid events.

    Attributes:
        vtn_url: the VTN's OpenADR 2.0b base URL (``.../OpenADR2/Simple/2.0b``).
        ven_name: the name this home registers under.
        ven_id: a venID the utility assigned beforehand; None lets the VTN assign one.
        program: the ``[[programs]]`` id whose payments the VTN's events earn (None: the id of
            the entry the table is under).
        tls: client certificate and VTN checks; required unless the VTN is on this machine
            (loopback) or ``allow_insecure`` is set.
        vtn_fingerprint: the VTN certificate's fingerprint (``AA:BB:...``, ten pairs, given by
            the utility outside OpenADR); when set, every answer must carry an XML signature
            made with that certificate, and unsigned or foreign-signed ones (events too) are
            refused. Set it whenever the VTN signs (OpenADR's high security profile).
        allow_insecure: accept a plain-HTTP VTN on another host (a lab network only).
        payment_per_kwh: the program's payment [currency/kWh] for events that carry no price
            signal.
        simple_kind: what a ``SIMPLE`` level or a price-only event asks for (``export`` for
            V2G programs such as ELRP, ``reduce`` for load-reduction programs).
        default_choice: the answer (optIn/optOut) the VTN gets while the household is undecided.
        charger_limit_kw: the most the home can deliver [kW]; larger requests are clipped
            (None: the site's chargers and battery together, filled in when voltbridge starts).
        outage_market_context: events under this market context are announced outages; an
            event with an ``x-outage`` signal is one under any market context.
        poll_s: seconds between polls [s]; None takes the VTN's requested poll frequency.
        retry_s: seconds [s] between tries while the VTN is unreachable or refuses registration.
        sample_gap_s: a grid-power sample counts for at most this long [s]; longer gaps in the
            telemetry count as nothing delivered (stale data is never taken as delivery).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    vtn_url: str
    ven_name: str = Field(min_length=1, max_length=64)
    ven_id: str | None = Field(default=None, min_length=1)
    program: str | None = Field(default=None, min_length=1)
    tls: OpenADRTls | None = None
    vtn_fingerprint: str | None = Field(
        default=None, pattern=r"^([0-9A-Fa-f]{2}:){9}[0-9A-Fa-f]{2}$"
    )
    allow_insecure: bool = False
    payment_per_kwh: float = Field(default=0.0, ge=0)
    simple_kind: ProgramEventKind = "export"
    default_choice: DefaultChoice = "take_part"
    charger_limit_kw: float | None = Field(default=None, gt=0, le=1000)
    outage_market_context: str | None = None
    poll_s: float | None = Field(default=None, gt=0, le=86400)
    retry_s: float = Field(default=60.0, gt=0)
    sample_gap_s: float = Field(default=300.0, gt=0)

    @field_validator("vtn_url")
    @classmethod
    def _url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"give an http(s) URL with a host, got {url!r}")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _secure(self) -> Self:
        host = urlsplit(self.vtn_url).hostname or ""
        if self.tls is None and not self.allow_insecure and not _loopback(host):
            raise ValueError(
                f"vtn_url {self.vtn_url}: a VTN on another host needs [tls] (client certificate); "
                "set allow_insecure = true only on a lab network"
            )
        if self.tls is not None and urlsplit(self.vtn_url).scheme != "https":
            raise ValueError(f"vtn_url {self.vtn_url}: [tls] is set, so give an https URL")
        return self

    def resolved(self, program: str, charger_limit_kw: float) -> OpenADRConfig:
        """This configuration with the program and the home's limit filled in where not given."""
        return self.model_copy(
            update={
                "program": self.program or program,
                "charger_limit_kw": self.charger_limit_kw or charger_limit_kw,
            }
        )
