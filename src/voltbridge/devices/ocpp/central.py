"""voltbridge as the chargers' OCPP central system (CSMS): the websocket server and its handshake.

Chargers connect to ``ws://host:port/<anything>/<charger_id>`` (``wss://`` with TLS) offering
the ``ocpp2.1`` subprotocol, or ``ocpp2.0.1`` for a charger that can only charge. Each must
authenticate with HTTP basic auth (user = its id, password from its configuration) in the
handshake. Unknown chargers and missing or wrong credentials get the same 401, so that the answer
does not tell which identities exist; other subprotocols get 400. Identities compare
case-insensitively, as the configuration does (``/WALLBOX-1`` is the charger ``wallbox-1``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from http import HTTPStatus
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHeader
from websockets.headers import parse_authorization_basic
from websockets.http11 import Request, Response

from voltbridge.core.clock import Clock
from voltbridge.devices.ocpp.charger import OcppCharger
from voltbridge.devices.ocpp.config import CentralSystemConfig
from voltbridge.devices.ocpp.handlers import CsmsLink
from voltbridge.devices.ocpp.rpc import SUBPROTOCOLS

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0
"""How long [s] a charger may take to complete the websocket handshake."""
CLOSE_TIMEOUT_S = 5.0
"""How long [s] to wait for a websocket to close cleanly."""
_NO_PASSWORD = b"\x00" * 40
"""Compared against for an unknown charger, so that refusing it takes as long as a known one."""


def charger_id_of(path: str) -> str:
    """The charger id in a connection URL path: its last segment, percent-decoded.

    >>> charger_id_of("/ocpp/garage-1?x=1")
    'garage-1'
    """
    return unquote(urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1])


def key_of(charger_id: str) -> str:
    """The form identities are compared in: case-insensitive, as the configuration checks them
    for duplicates.

    >>> key_of("WALLBOX-1") == key_of("wallbox-1")
    True
    """
    return charger_id.lower()


def server_ssl_context(cert: str, key: str) -> ssl.SSLContext:
    """TLS 1.2+ server context for OCPP security profile 2 (server certificate, basic auth)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(
            f"cannot load TLS certificate {cert} with key {key}: {exc}; give a PEM chain and "
            f"its unencrypted PEM key"
        ) from exc
    return context


class CentralSystem:
    """The OCPP 2.1 central system for the configured chargers.

    >>> from voltbridge.core.clock import RealClock
    >>> cs = CentralSystem(CentralSystemConfig(port=0), RealClock())
    >>> cs.chargers
    {}
    """

    def __init__(self, config: CentralSystemConfig, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self._drivers = {c.charger_id: OcppCharger(c, clock) for c in config.chargers}
        self._by_key = {key_of(i): d for i, d in self._drivers.items()}
        self._server: Server | None = None

    # --- chargers ------------------------------------------------------------------------------
    def charger(self, charger_id: str) -> OcppCharger:
        """The driver of ``charger_id`` (any case); an unknown id is a KeyError naming the known ones."""
        try:
            return self._by_key[key_of(charger_id)]
        except KeyError:
            known = ", ".join(sorted(self._drivers)) or "none configured"
            raise KeyError(f"no charger {charger_id!r}; known chargers: {known}") from None

    @property
    def chargers(self) -> dict[str, OcppCharger]:
        """Every configured charger's driver, by id."""
        return dict(self._drivers)

    # --- server --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The TCP port listened on (the one picked when the configuration says 0)."""
        if self._server is None:
            raise RuntimeError("the central system is not started; call start() first")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    def url(self, charger_id: str) -> str:
        """The URL ``charger_id`` should connect to."""
        scheme = "wss" if self.config.tls else "ws"
        return f"{scheme}://{self.config.host}:{self.port}/ocpp/{charger_id}"

    async def start(self) -> None:
        """Start listening; returns once the socket is bound."""
        if self._server is not None:
            raise RuntimeError("the central system is already started")
        context = None
        if self.config.tls_cert is not None and self.config.tls_key is not None:
            context = server_ssl_context(str(self.config.tls_cert), str(self.config.tls_key))
        self._server = await serve(
            self._serve,
            self.config.host,
            self.config.port,
            subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]  # Subprotocol is a NewType of str
            process_request=self._authenticate,
            ssl=context,
            open_timeout=HANDSHAKE_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
        )
        log.info(
            "OCPP central system listening on %s for chargers %s",
            self.url("<charger_id>"),
            ", ".join(sorted(self._drivers)) or "(none configured)",
        )

    async def shutdown(self) -> None:
        """Send every connected charger its safe default (setpoint 0 kW), then close."""
        connected = [d for d in self._drivers.values() if d.connected]
        results = await asyncio.gather(
            *(self._safe_default(d) for d in connected), return_exceptions=True
        )
        for driver, result in zip(connected, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("charger %s: safe default not confirmed: %s", driver.name, result)
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), CLOSE_TIMEOUT_S * 2)
            except TimeoutError:
                log.warning(
                    "some charger connections did not close within %s s", CLOSE_TIMEOUT_S * 2
                )
            self._server = None
        log.info("OCPP central system stopped")

    async def _safe_default(self, driver: OcppCharger) -> None:
        log.info("charger %s: sending the safe default before shutting down", driver.name)
        await asyncio.wait_for(driver.safe_default(), self.config.response_timeout_s + 1.0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    # --- handshake and sessions ----------------------------------------------------------------
    def _authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse unknown chargers and missing or wrong basic-auth credentials, all alike (401).

        The user must be the identity in the URL and the password the configured one; both are
        compared in constant time, and for an unknown identity against a dummy password, so
        neither the answer nor its time tells whether the identity exists. The log says which.
        """
        charger_id = charger_id_of(request.path)
        driver = self._by_key.get(key_of(charger_id))
        header = request.headers.get("Authorization")
        if header is None:
            what = "no basic-auth credentials"
            return self._unauthorized(connection, charger_id, what, known=driver is not None)
        try:
            user, password = parse_authorization_basic(header)
        except InvalidHeader:
            what = "a malformed Authorization header"
            return self._unauthorized(connection, charger_id, what, known=driver is not None)
        expected = (
            _NO_PASSWORD if driver is None else driver.config.password.get_secret_value().encode()
        )
        user_ok = hmac.compare_digest(key_of(user).encode(), key_of(charger_id).encode())
        password_ok = hmac.compare_digest(password.encode(), expected)
        if driver is None or not (user_ok and password_ok):
            what = "a wrong password" if user_ok else f"user {user[:48]!r} not matching the URL"
            what = "an identity that is not configured" if driver is None else what
            return self._unauthorized(connection, charger_id, what, known=driver is not None)
        return None

    @staticmethod
    def _unauthorized(
        connection: ServerConnection, charger_id: str, what: str, *, known: bool
    ) -> Response:
        hint = (
            "check its BasicAuthPassword" if known else "add it to the configuration if it is yours"
        )
        log.warning(
            "refused charger %.48r from %s: %s; %s",
            charger_id,
            connection.remote_address,
            what,
            hint,
        )
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication failed\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="voltbridge", charset="UTF-8"'
        return response

    async def _serve(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else ""
        driver = self._by_key[key_of(charger_id_of(path))]
        version = SUBPROTOCOLS[str(connection.subprotocol)]
        link = CsmsLink(
            driver,
            connection,
            version,
            heartbeat_interval_s=self.config.heartbeat_interval_s,
            response_timeout_s=self.config.response_timeout_s,
        )
        previous = driver.attach(link)
        log.info(
            "charger %s connected (OCPP %s) from %s",
            driver.name,
            version,
            connection.remote_address,
        )
        if version == "2.0.1":
            log.warning(
                "charger %s speaks OCPP 2.0.1: it can only charge, so negative setpoints are "
                "clamped to 0 kW",
                driver.name,
            )
        if previous is not None:
            log.info("charger %s: closing its previous connection", driver.name)
            await previous.close()
        try:
            await link.start()
        except ConnectionClosed as exc:
            log.info("charger %s disconnected: %s", driver.name, exc)
        finally:
            driver.detach(link)
            link.cancel_tasks()
