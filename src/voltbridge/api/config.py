"""How the API and dashboard are set up: where the password hash lives, who may read, the site's zone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voltbridge.core.clock import Clock, RealClock

PASSWORD_ENV = "VOLTBRIDGE_PASSWORD"
"""Environment variable holding the dashboard password (optional; one is generated otherwise)."""

MIN_PASSWORD_LENGTH = 8
"""Shortest password accepted from the configuration [characters]."""


@dataclass(frozen=True)
class ApiConfig:
    """Settings of the HTTP API and dashboard.

    Attributes:
        data_dir: folder holding ``api-password.json`` (the salted password hash); created if missing.
        timezone: the site's IANA time zone; "today" and "this month" of ``/api/money`` are local.
        password: the password to use (e.g. from ``VOLTBRIDGE_PASSWORD``); None: keep the stored
            one, or generate one at first start (see ``voltbridge.api.ensure_password``).
        public_read: GET endpoints and the live stream answer without logging in (writes never do).
        metrics_public: ``/metrics`` answers without logging in, for a Prometheus scraper on the LAN.
        session_ttl_s: how long a login lasts [s].
        login_max_failures: failed logins allowed per client within ``login_window_s``.
        login_window_s: the window failed logins are counted over [s].
        login_max_failures_total: failed logins allowed from all clients within the window.
        cookie_secure: mark the session cookie ``Secure`` (set it when served over HTTPS).
        site_name: shown in the dashboard's title.
        currency: the tariff's currency code (e.g. ``"USD"``), for showing money.
        host: address the server listens on.
        port: port the server listens on.
        clock: tells the time (aware UTC), for money periods and history defaults.
        monotonic: seconds from an arbitrary origin, for session expiry and login rate limits.
    """

    data_dir: Path
    timezone: str = "UTC"
    password: str | None = field(default=None, repr=False)
    public_read: bool = False
    metrics_public: bool = False
    session_ttl_s: float = 7 * 24 * 3600.0
    login_max_failures: int = 5
    login_window_s: float = 300.0
    login_max_failures_total: int = 50
    cookie_secure: bool = False
    site_name: str = "voltbridge"
    currency: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    clock: Clock = field(default_factory=RealClock, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone: {self.timezone!r} is not an IANA time zone, e.g. 'Europe/Berlin'"
            ) from None
        if self.password is not None and len(self.password) < MIN_PASSWORD_LENGTH:
            raise ValueError(
                f"password ({PASSWORD_ENV}): use at least {MIN_PASSWORD_LENGTH} characters"
            )
        if self.session_ttl_s <= 0:
            raise ValueError(f"session_ttl_s must be positive, got {self.session_ttl_s}")
        if self.login_max_failures < 1 or self.login_max_failures_total < 1:
            raise ValueError("login_max_failures and login_max_failures_total must be at least 1")
        if self.login_window_s <= 0:
            raise ValueError(f"login_window_s must be positive, got {self.login_window_s}")

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(
        cls, data_dir: Path, environ: Mapping[str, str] | None = None, **options: object
    ) -> ApiConfig:
        """A configuration whose password comes from ``VOLTBRIDGE_PASSWORD`` when set and not empty."""
        env = os.environ if environ is None else environ
        password = env.get(PASSWORD_ENV) or None
        return cls(data_dir=data_dir, password=password, **options)  # type: ignore[arg-type]
