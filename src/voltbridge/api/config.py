"""How the API and dashboard are set up: where the password hash lives, who may read, the site's zone."""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voltbridge.control.program_income import ProgramTerms
from voltbridge.core.clock import Clock, RealClock

PASSWORD_ENV = "VOLTBRIDGE_PASSWORD"
"""Environment variable holding the dashboard password (optional; one is generated otherwise)."""

MIN_PASSWORD_LENGTH = 8
"""Shortest password accepted from the configuration [characters]."""

MAX_BODY_BYTES = 1_048_576
"""Largest request body the API reads [bytes] (1 MiB): settings and a login are a few hundred
bytes, so this is generous, and it bounds what anyone, logged in or not, can make it buffer."""

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
        login_free_failures: wrong passwords a client address may send before it must wait.
        login_delay_s: the first wait after those [s]; it doubles with each further wrong
            password from the same address (exponential backoff) ...
        login_max_delay_s: ... up to this [s].
        login_forget_s: an address's wrong passwords are forgotten this long after its last
            one [s] (a right password forgets them at once).
        trusted_proxies: addresses or networks (``"192.168.1.2"``, ``"10.0.0.0/8"``) of reverse
            proxies whose ``X-Forwarded-For`` names the client; empty (the default): the header
            is ignored and the client is the address the connection comes from.
        max_body_bytes: larger request bodies are refused with 413 before anything reads them
            [bytes].
        cookie_secure: mark the session cookie ``Secure`` (set it when served over HTTPS).
        site_name: shown in the dashboard's title.
        currency: the tariff's currency code (e.g. ``"USD"``), for showing money.
        programs: the site's enabled utility programs (``[[programs]]``), for the program income
            that ``/api/money`` settles from the recorded telemetry; empty: none.
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
    login_free_failures: int = 3
    login_delay_s: float = 1.0
    login_max_delay_s: float = 900.0
    login_forget_s: float = 24 * 3600.0
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    cookie_secure: bool = False
    site_name: str = "voltbridge"
    currency: str = ""
    programs: tuple[ProgramTerms, ...] = ()
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
        if self.login_free_failures < 0:
            raise ValueError(f"login_free_failures must be >= 0, got {self.login_free_failures}")
        for name in ("login_delay_s", "login_max_delay_s", "login_forget_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.login_max_delay_s < self.login_delay_s:
            raise ValueError(
                f"login_max_delay_s ({self.login_max_delay_s}) must be >= login_delay_s "
                f"({self.login_delay_s})"
            )
        if self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be at least 1, got {self.max_body_bytes}")
        if isinstance(self.trusted_proxies, str):
            raise ValueError(
                f"trusted_proxies: give a list of addresses, e.g. ({self.trusted_proxies!r},)"
            )
        self.proxy_networks  # noqa: B018 (refuses what is not an address now, not at a request)

    @cached_property
    def proxy_networks(self) -> tuple[IpNetwork, ...]:
        """``trusted_proxies`` parsed; ValueError naming an entry that is not an address."""
        networks = []
        for entry in self.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {entry!r} is not an IP address or network; give e.g. "
                    f"'192.168.1.2' or '10.0.0.0/8'"
                ) from None
        return tuple(networks)

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
