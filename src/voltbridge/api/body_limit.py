"""Refusing request bodies over the limit (413) before any route, login check or parser sees them."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: every HTTP request's body is read here first, up to ``max_bytes``.

    A ``Content-Length`` above the limit is refused at once, without reading; a body sent
    without one (chunked) is counted as it streams in and refused as soon as it passes the
    limit. A body within it is handed on whole, so what is behind never waits on a slow client
    while holding a login attempt or a lock. Runs for everyone, logged in or not, since it sits
    outside the routes and their login checks.

    Args:
        app: the application behind.
        max_bytes: the largest body accepted [bytes].
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = {v for k, v in scope.get("headers", []) if k.lower() == b"content-length"}
        if lengths:
            declared = _content_length(lengths)
            if declared is None:
                await _refuse(send, 400, "Content-Length is not one whole number of bytes")
                return
            if declared > self.max_bytes:
                await _refuse(send, 413, self._too_large(f"{declared} bytes announced"))
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, self._too_large("more sent"))
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, what: str) -> str:
        return (
            f"request body too large: at most {self.max_bytes} bytes are accepted, {what}; "
            f"send less (settings and a login take a few hundred bytes)"
        )


def _content_length(values: set[bytes]) -> int | None:
    """The one length announced, or None when it is not one whole number."""
    if len(values) != 1:
        return None
    text = next(iter(values)).strip()
    if not text.isdigit():
        return None
    if len(text) > 18:  # past any limit; and int() refuses thousands of digits
        return 10**18
    return int(text)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
