"""Who may do what: login sessions, failed-login limits and the checks every route depends on."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status
from starlette.requests import HTTPConnection

from voltbridge.api.config import ApiConfig, IpNetwork
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


MAX_TRACKED_CLIENTS = 4096
"""Client addresses whose wrong passwords are remembered at most; beyond, the one whose last
failure is oldest is forgotten (a home sees a handful of addresses, an attacker needs thousands
of real ones to push its own out)."""


@dataclass
class _Failures:
    count: int
    last_s: float


class LoginLimiter:
    """Per client address: a few free wrong passwords, then a wait that doubles with each one more.

    After ``free`` failures from one address it must wait ``first_delay_s`` after its last failure,
    then twice that after the next, and so on up to ``max_delay_s``; the failures are forgotten
    ``forget_after_s`` after the last one, or at once by a right password. Nothing is shared
    between addresses: a stranger guessing from many addresses slows each of them down and never
    locks the owner out of a clean address. Time is the injected ``monotonic`` clock [s].

    An attempt counts as failed from the moment it starts (so parallel guesses cannot slip past
    the limit while the hash is being checked) and is forgiven when it succeeds.
    """

    def __init__(
        self,
        free: int,
        first_delay_s: float,
        max_delay_s: float,
        forget_after_s: float,
        monotonic: Callable[[], float],
    ) -> None:
        self._free = free
        self._first_delay_s = first_delay_s
        self._max_delay_s = max_delay_s
        self._forget_after_s = forget_after_s
        self._now = monotonic
        self._clients: OrderedDict[str, _Failures] = OrderedDict()

    def delay_s(self, failures: int) -> float:
        """The wait after ``failures`` wrong passwords [s].

        >>> limiter = LoginLimiter(3, 1.0, 900.0, 86400.0, lambda: 0.0)
        >>> [limiter.delay_s(n) for n in (0, 2, 3, 4, 5, 13, 40)]
        [0.0, 0.0, 1.0, 2.0, 4.0, 900.0, 900.0]
        """
        if failures < self._free:
            return 0.0
        doublings = min(failures - self._free, 64)  # 2**64 s is past any cap
        return min(self._first_delay_s * 2.0**doublings, self._max_delay_s)

    def begin(self, client: str) -> float | None:
        """Start an attempt from ``client``: None if allowed, else seconds to wait [s]."""
        now = self._now()
        mine = self._clients.get(client)
        if mine is not None and now - mine.last_s >= self._forget_after_s:
            del self._clients[client]
            mine = None
        if mine is not None:
            wait_s = mine.last_s + self.delay_s(mine.count) - now
            if wait_s > 0:
                return wait_s
            mine.count += 1
            mine.last_s = now
            self._clients.move_to_end(client)
            return None
        self._clients[client] = _Failures(1, now)
        while len(self._clients) > MAX_TRACKED_CLIENTS:
            self._clients.popitem(last=False)
        return None

    def succeeded(self, client: str) -> None:
        """The attempt from ``client`` was right: forget its failures."""
        self._clients.pop(client, None)


def address_key(address: str) -> str:
    """The unit failed logins are counted by: an IPv4 address, or an IPv6 address's /64 network
    (one household or one attacker gets a whole /64, so single IPv6 addresses cost nothing).

    >>> address_key("192.168.1.7"), address_key("::ffff:192.168.1.7")
    ('192.168.1.7', '192.168.1.7')
    >>> address_key("2001:db8:1:2:aaaa::1"), address_key("testclient")
    ('2001:db8:1:2::/64', 'testclient')
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(conn: HTTPConnection, trusted: Sequence[IpNetwork]) -> str:
    """The client's address: the connection's peer, unless that peer is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right (each proxy appends the
    address it saw), skipping the trusted ones: the first other address is the client. What a
    client writes into the header itself lies to the left of that and is never believed. With
    no trusted proxies (the default) the header is ignored altogether.
    """
    peer = conn.client.host if conn.client else "unknown"
    if not trusted or not _is_trusted(_parse_ip(peer), trusted):
        return peer
    hops = [h.strip() for v in conn.headers.getlist("x-forwarded-for") for h in v.split(",")]
    hops = [h for h in hops if h]
    for hop in reversed(hops):
        ip = _parse_ip(hop)
        if not _is_trusted(ip, trusted):
            return hop if ip is None else str(ip)
    return hops[0] if hops else peer


def _is_trusted(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, trusted: Sequence[IpNetwork]
) -> bool:
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in trusted)


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
            config.login_free_failures,
            config.login_delay_s,
            config.login_max_delay_s,
            config.login_forget_s,
            config.monotonic,
        )

    def client(self, conn: HTTPConnection) -> str:
        """The key failed logins of this request are counted by (see ``client_address``)."""
        return address_key(client_address(conn, self.config.proxy_networks))

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
