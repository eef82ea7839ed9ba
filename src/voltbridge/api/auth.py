"""Who may do what: login sessions, failed-login limits and the checks every route depends on."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status
from starlette.requests import HTTPConnection

from voltbridge.api.config import ApiConfig
from voltbridge.api.password import PasswordHash

SESSION_COOKIE = "voltbridge_session"
"""Name of the HttpOnly cookie carrying the session token."""

MAX_SESSIONS = 256
"""Sessions kept at most; the oldest is dropped beyond (a home has a few phones, not hundreds)."""


def _key(token: str) -> str:
    # Only a digest of each token is held, so a memory dump does not hand out live sessions.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    """Random session tokens in memory, each expiring ``ttl_s`` after login."""

    def __init__(self, ttl_s: float, monotonic: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._now = monotonic
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def create(self) -> str:
        """A new token, valid for ``ttl_s``."""
        self._prune()
        while len(self._expiry) >= MAX_SESSIONS:
            self._expiry.popitem(last=False)
        token = secrets.token_urlsafe(32)
        self._expiry[_key(token)] = self._now() + self._ttl_s
        return token

    def remaining_s(self, token: str) -> float | None:
        """Seconds ``token`` stays valid [s], or None if it is unknown or expired."""
        key = _key(token)
        expiry = self._expiry.get(key)
        if expiry is None:
            return None
        left = expiry - self._now()
        if left <= 0:
            del self._expiry[key]
            return None
        return left

    def revoke(self, token: str) -> None:
        self._expiry.pop(_key(token), None)

    def _prune(self) -> None:
        now = self._now()
        for key in [k for k, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[key]


class LoginLimiter:
    """Counts failed logins per client and in total over a sliding window, and says when to wait.

    An attempt counts as failed from the moment it starts (so parallel guesses cannot slip past
    the limit while the hash is being checked) and is forgiven when it succeeds.
    """

    def __init__(
        self,
        max_per_client: int,
        max_total: int,
        window_s: float,
        monotonic: Callable[[], float],
    ) -> None:
        self._max_client = max_per_client
        self._max_total = max_total
        self._window_s = window_s
        self._now = monotonic
        self._clients: dict[str, deque[float]] = {}
        self._total: deque[float] = deque()

    def begin(self, client: str) -> float | None:
        """Start an attempt from ``client``: None if allowed, else seconds to wait [s]."""
        now = self._now()
        self._prune(now)
        mine = self._clients.setdefault(client, deque())
        waits = [
            attempts[0] + self._window_s - now
            for attempts, limit in ((mine, self._max_client), (self._total, self._max_total))
            if len(attempts) >= limit
        ]
        if waits:
            return max(1.0, max(waits))
        mine.append(now)
        self._total.append(now)
        return None

    def succeeded(self, client: str) -> None:
        """The attempt from ``client`` was right: forget its failures."""
        mine = self._clients.pop(client, deque())
        if mine:
            # Only the succeeding attempt leaves the shared count; earlier failures stay counted.
            last = mine[-1]
            with contextlib.suppress(ValueError):
                self._total.remove(last)

    def _prune(self, now: float) -> None:
        horizon = now - self._window_s
        while self._total and self._total[0] <= horizon:
            self._total.popleft()
        for client in list(self._clients):
            attempts = self._clients[client]
            while attempts and attempts[0] <= horizon:
                attempts.popleft()
            if not attempts:
                del self._clients[client]


def same_origin(conn: HTTPConnection) -> bool:
    """False only when the browser says the request (or WebSocket handshake) comes from another site."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == conn.headers.get("host", "").lower()


class Authenticator:
    """Checks a request's token (``Authorization: Bearer`` or the session cookie) against the rules."""

    def __init__(self, config: ApiConfig, password: PasswordHash) -> None:
        self.config = config
        self.password = password
        self.sessions = SessionStore(config.session_ttl_s, config.monotonic)
        self.limiter = LoginLimiter(
            config.login_max_failures,
            config.login_max_failures_total,
            config.login_window_s,
            config.monotonic,
        )

    @staticmethod
    def bearer_token(conn: HTTPConnection) -> str | None:
        scheme, _, token = conn.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def valid_token(self, conn: HTTPConnection) -> str | None:
        """The request's valid token (the header's first, then the cookie's), or None."""
        for token in (self.bearer_token(conn), conn.cookies.get(SESSION_COOKIE)):
            if token and self.sessions.remaining_s(token) is not None:
                return token
        return None

    def may_read(self, conn: HTTPConnection) -> bool:
        return self.config.public_read or self.valid_token(conn) is not None

    async def require_read(self, request: Request) -> None:
        """Dependency of every read-only route: logged in, or ``public_read``."""
        if not self.may_read(request):
            raise _unauthorized()

    async def require_metrics(self, request: Request) -> None:
        """Dependency of ``/metrics``: like reads, or open with ``metrics_public``."""
        if not (self.config.metrics_public or self.may_read(request)):
            raise _unauthorized()

    async def require_write(self, request: Request) -> None:
        """Dependency of every route that changes something: logged in, whatever ``public_read`` says."""
        token = self.valid_token(request)
        if token is None:
            raise _unauthorized()
        if token != self.bearer_token(request) and not same_origin(request):
            # A cookie rides along on cross-site requests in old browsers; SameSite=Strict is the
            # first defence, this the second.
            raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "not logged in: POST /api/login with the dashboard password first",
        headers={"WWW-Authenticate": "Bearer"},
    )
