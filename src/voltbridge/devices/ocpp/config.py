"""Validated configuration of the OCPP central system and of each charger it accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

IDENTITY_PATTERN = r"^[A-Za-z0-9*\-_=+|@.]{1,48}$"
"""A charging station identity: OCPP's identifierString without ':' (it separates the basic-auth
user from the password), at most 48 characters."""

PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS = 16, 40
"""Length of a security-profile-1 basic-auth password (OCPP ``BasicAuthPassword``)."""


class OcppChargerConfig(BaseModel):
    """One charger allowed to connect, its credentials and its power limits.

    Attributes:
        charger_id: the station identity: last segment of its URL path and its basic-auth user.
        password: basic-auth password, 16 to 40 characters (OCPP security profile 1).
        max_charge_kw: AC charge limit [kW], >= 0; setpoints above it are clipped.
        max_discharge_kw: AC discharge limit [kW], >= 0; 0 makes the charger charge-only.
        stale_after_s: age [s] after which a measurement counts as stale (for the controller).
        max_offline_duration_s: how long [s] the charger keeps a central setpoint while it cannot
            reach voltbridge before it falls back to the safe default profile.
        offline_charge_kw: charge limit [kW] of that safe default profile (``ChargingOnly``, never
            discharging); 0 keeps the car idle while voltbridge is away.
        battery_capacity_kwh: the car's usable capacity [kWh], to turn SoC [%] into [kWh]; when
            absent it is estimated from the car's charging needs (V2X energy requests).
        evse_id: the EVSE the car is on (1 for a single-outlet wallbox).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    charger_id: str = Field(pattern=IDENTITY_PATTERN)
    password: SecretStr
    max_charge_kw: float = Field(ge=0, le=1000)
    max_discharge_kw: float = Field(default=0.0, ge=0, le=1000)
    stale_after_s: float = Field(default=30.0, gt=0)
    max_offline_duration_s: int = Field(default=60, ge=0)
    offline_charge_kw: float = Field(default=0.0, ge=0)
    battery_capacity_kwh: float | None = Field(default=None, gt=0)
    evse_id: int = Field(default=1, ge=1)

    @field_validator("password")
    @classmethod
    def _password_length(cls, value: SecretStr) -> SecretStr:
        n = len(value.get_secret_value())
        if not PASSWORD_MIN_CHARS <= n <= PASSWORD_MAX_CHARS:
            raise ValueError(
                f"give a password of {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters "
                f"(OCPP security profile 1), got {n}"
            )
        return value

    @model_validator(mode="after")
    def _offline_within_limit(self) -> Self:
        if self.offline_charge_kw > self.max_charge_kw:
            raise ValueError(
                f"offline_charge_kw {self.offline_charge_kw} exceeds max_charge_kw "
                f"{self.max_charge_kw} [kW]; lower it"
            )
        return self


class CentralSystemConfig(BaseModel):
    """The websocket server the chargers connect to.

    Attributes:
        host: address to listen on; the default keeps it on this machine.
        port: TCP port; 0 picks a free one (read ``CentralSystem.port`` after ``start``).
        tls_cert, tls_key: PEM certificate chain and key; with both, chargers connect over
            ``wss://`` (OCPP security profile 2), without, over ``ws://`` (profile 1).
        heartbeat_interval_s: heartbeat interval [s] given to chargers at boot.
        response_timeout_s: how long [s] to wait for a charger's answer to a request.
        chargers: the chargers allowed to connect, by unique ``charger_id``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=9000, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    heartbeat_interval_s: int = Field(default=60, ge=1)
    response_timeout_s: float = Field(default=10.0, gt=0)
    chargers: list[OcppChargerConfig] = Field(default_factory=list)

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}; give the path of a PEM file")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key for TLS, or neither")
        seen: set[str] = set()
        for c in self.chargers:
            key = c.charger_id.lower()  # identities compare case-insensitively in OCPP
            if key in seen:
                raise ValueError(f"chargers: charger_id {c.charger_id!r} appears twice")
            seen.add(key)
        return self

    @property
    def tls(self) -> bool:
        """True when chargers must connect over TLS (``wss://``)."""
        return self.tls_cert is not None


def valid_identity(text: str) -> bool:
    """True when ``text`` can be a charging station identity (see ``IDENTITY_PATTERN``)."""
    return re.fullmatch(IDENTITY_PATTERN, text) is not None
