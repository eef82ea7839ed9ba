"""The dashboard's pages, each with a JSON twin, its static files, plotly's JavaScript and the API docs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltbridge.web import DOCS, INDEX, STATIC_PACKAGE, plotly_js, static_file

PAGES: dict[str, str] = {
    "/": "/api/status",
    "/plan": "/api/plan",
    "/history": "/api/history",
    "/money": "/api/money",
    "/events": "/api/events",
    "/settings": "/api/settings",
    "/catalog": "/api/catalog",
}
"""Each HTML page and its JSON twin: the endpoint holding the data the page shows first."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # plotly styles its charts with inline styles and injected <style> elements.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class SecurityHeaders:
    """ASGI middleware adding headers that keep browsers from sniffing, framing or leaking referrers."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + list(self.HEADERS)
            await send(message)

        await self.app(scope, receive, sending)


def _html(body: bytes, twin: str | None) -> HTMLResponse:
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
    if twin is not None:
        headers["Link"] = f'<{twin}>; rel="alternate"; type="application/json"'
    return HTMLResponse(body, headers=headers)


def install(app: FastAPI) -> None:
    """Serve the pages, ``/static/*``, ``/static/plotly.min.js`` and ``/docs`` from ``app``."""
    index = static_file(INDEX).read_bytes()
    docs = static_file(DOCS).read_bytes()

    def page(twin: str) -> Callable[[Request], Awaitable[HTMLResponse]]:
        async def show(request: Request) -> HTMLResponse:
            return _html(index, twin)

        return show

    for path, twin in PAGES.items():
        app.add_api_route(
            path,
            page(twin),
            methods=["GET"],
            response_class=HTMLResponse,
            include_in_schema=False,
            name=f"page {path}",
        )

    async def show_docs(request: Request) -> HTMLResponse:
        return _html(docs, "/openapi.json")

    app.add_api_route(
        "/docs", show_docs, methods=["GET"], response_class=HTMLResponse, include_in_schema=False
    )

    plotly = plotly_js()

    async def plotly_script(request: Request) -> Response:
        # Read on demand (4 MB); browsers cache it for a day.
        return Response(
            plotly.read_bytes(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.add_api_route(
        "/static/plotly.min.js", plotly_script, methods=["GET"], include_in_schema=False
    )
    app.mount("/static", StaticFiles(packages=[STATIC_PACKAGE]), name="static")
