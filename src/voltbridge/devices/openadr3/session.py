"""The HTTP side of the OpenADR 3 VEN: the bearer token, requests, paging, and the VTN's state.

Kept apart from ``ven.py`` (what the VEN does with the answers) so that every way a request can
fail is sorted in one place into "unreachable" (no answer), "unauthorized" (401, or the token
endpoint refusing the credentials) and "rejected" (5xx, or an answer that is not the API's JSON),
each said once per change of state, not once per try.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from voltbridge.core.clock import Clock
from voltbridge.devices.openadr.notices import NoticeCode, NoticeLevel
from voltbridge.programs.openadr3_config import OpenADR3Config
from voltbridge.programs.openadr_config import VenConfigError

log = logging.getLogger("voltbridge.openadr3")

PAGE = 50
"""Objects asked for per page (the OpenAPI description's maximum ``limit``)."""
MAX_PAGES = 20
"""Pages read in one round at most, so that a runaway VTN cannot hold the loop."""
TOKEN_MARGIN_S = 60.0
"""A token is renewed this long before it expires [s] (at most half its life)."""

Notify = Callable[[NoticeLevel, NoticeCode, str], None]


class VtnSession:
    """Requests to one VTN with a bearer token from OAuth2 client credentials.

    Args:
        config: the VTN, its token endpoint, the credentials' variable names, TLS.
        clock: the injected clock (token expiry).
        notify: says a notice (level, code, message) to the VEN's log.
        environ: where the client credentials are looked up (os.environ when None).
        transport: an httpx transport (tests); None uses the network.
    """

    def __init__(
        self,
        config: OpenADR3Config,
        clock: Clock,
        notify: Notify,
        environ: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config, self.clock, self.notify, self.environ = config, clock, notify, environ
        self.state = "new"
        """``ok``, or why the last request got no usable answer."""
        self.complete = True
        """Whether the last :meth:`paged` search read every page (False: cut at MAX_PAGES)."""
        self._http = httpx.AsyncClient(
            verify=config.ssl_verify(), timeout=config.timeout_s, transport=transport
        )
        self._token: str | None = None
        self._token_until: datetime | None = None
        self._token_url: str | None = config.token_url
        self._setup_fault: str | None = None

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    def url(self, path: str) -> str:
        return f"{self.config.vtn_url}{path}"

    # ---------------------------------------------------------------- states

    def trouble(self, state: str, what: str, detail: str = "") -> None:
        """A call got no usable answer; one notice per change of state, not per try."""
        if state == self.state:
            return
        self.state = state
        url = self.config.vtn_url
        if state == "unreachable":
            self.notify(
                "error",
                NoticeCode.VTN_UNREACHABLE,
                f"the VTN at {url} does not answer ({what}{detail}); events and reports wait, "
                f"retrying every {self.config.retry_s:g} s",
            )
        elif state == "unauthorized":
            self.notify(
                "error",
                NoticeCode.REGISTRATION_REFUSED,
                f"the VTN at {url} refused the credentials ({what}{detail}); check "
                f"{self.config.client_id_env} and {self.config.client_secret_env} with the "
                "operator. Trying again with a new token",
            )
        else:
            self.notify(
                "error",
                NoticeCode.VTN_REJECTED,
                f"the VTN's answer to {what} was refused{detail}; nothing in it was acted on",
            )

    def _fine(self) -> None:
        if self.state in ("unreachable", "unauthorized", "rejected"):
            self.notify(
                "info", NoticeCode.VTN_RECOVERED, f"the VTN at {self.config.vtn_url} answers again"
            )
        self.state = "ok"

    def setup_refused(self, message: str | None) -> None:
        """Something the household or installer must fix, said once until it changes; None
        when it is fixed."""
        if message is not None and message != self._setup_fault:
            self.notify("error", NoticeCode.REGISTRATION_REFUSED, message)
        self._setup_fault = message

    # -------------------------------------------------------------- requests

    async def call(
        self, what: str, method: str, url: str, *, auth: bool = True, **kwargs: Any
    ) -> httpx.Response | None:
        """One request; None when it got no usable answer (a notice said why)."""
        headers = {"Authorization": f"Bearer {self._token}"} if auth and self._token else {}
        try:
            response = await self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as err:
            log.warning("OpenADR 3 %s failed", what, exc_info=err)
            self.trouble("unreachable", what, f": {type(err).__name__}")
            return None
        if response.status_code == 401:
            self._token = None  # a new one next round
            self.trouble("unauthorized", what, ": HTTP 401")
            return None
        if response.status_code >= 500:
            self.trouble("rejected", what, f": HTTP {response.status_code}")
            return None
        self._fine()
        return response

    def json(self, what: str, response: httpx.Response, kind: type) -> Any:
        """The answer's JSON if it is a ``kind`` (list or dict), else None with a notice."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, kind):
            self.trouble("rejected", what, f": HTTP {response.status_code}, not a JSON {kind}")
            return None
        return body

    async def paged(self, what: str, path: str, params: dict[str, str]) -> list[Any] | None:
        """Every object of a search, page by page (``skip``/``limit``); None on failure."""
        found: list[Any] = []
        self.complete = True
        for page in range(MAX_PAGES):
            query = {**params, "skip": str(page * PAGE), "limit": str(PAGE)}
            response = await self.call(what, "GET", self.url(path), params=query)
            if response is None:
                return None
            if response.status_code != 200:
                self.trouble("rejected", what, f": HTTP {response.status_code}")
                return None
            body = self.json(what, response, list)
            if body is None:
                return None
            found.extend(body)
            if len(body) < PAGE:
                return found
        self.complete = False
        self.notify(
            "warning",
            NoticeCode.UNSUPPORTED,
            f"{what}: more than {len(found)} objects; the rest are not read",
        )
        return found

    # ----------------------------------------------------------------- token

    async def ensure_token(self) -> bool:
        """A valid bearer token, fetched or renewed as needed; whether there is one."""
        now = self.clock.now()
        if self._token is not None and (self._token_until is None or now < self._token_until):
            return True
        try:
            client_id, secret = self.config.credentials(self.environ)
        except VenConfigError as err:
            self.setup_refused(str(err))
            return False
        if self._token_url is None:
            response = await self.call("GET /auth/server", "GET", self.url("/auth/server"))
            if response is None:
                return False
            info = self.json("GET /auth/server", response, dict) if response.is_success else {}
            token_url = (info or {}).get("tokenURL")
            self._token_url = token_url if isinstance(token_url, str) else self.url("/auth/token")
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        response = await self.call("token", "POST", self._token_url, auth=False, data=form)
        if response is None:
            return False
        if response.status_code in (400, 403):
            self.trouble("unauthorized", "token", f": HTTP {response.status_code}")
            return False
        body = self.json("token", response, dict)
        token = (body or {}).get("access_token")
        if not response.is_success or not isinstance(token, str) or not token:
            self.trouble("rejected", "token", ": no access_token")
            return False
        if str(body.get("token_type", "Bearer")).lower() != "bearer":
            self.trouble("rejected", "token", f": token_type {body.get('token_type')!r}")
            return False
        expires = body.get("expires_in")
        self._token, self._token_until = token, None
        if isinstance(expires, int | float) and expires > 0:
            margin = min(TOKEN_MARGIN_S, float(expires) / 2)
            self._token_until = now + timedelta(seconds=float(expires) - margin)
        return True
