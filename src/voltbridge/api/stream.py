"""The live stream: every status and event of the controller pushed as JSON over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from voltbridge.api.auth import same_origin
from voltbridge.api.context import ApiContext
from voltbridge.core.status import ControlEvent, ControlStatus


def message(item: ControlStatus | ControlEvent) -> dict[str, Any]:
    """``{"type": "status" | "event", "data": ...}`` with the shapes of ``/api/status`` and events."""
    kind = "status" if isinstance(item, ControlStatus) else "event"
    return {"type": kind, "data": item.to_dict()}


def router(ctx: ApiContext) -> APIRouter:
    """``/api/stream``."""
    api = APIRouter(prefix="/api", tags=["stream"])

    @api.websocket("/stream")
    async def stream(websocket: WebSocket) -> None:
        """Sends the latest status at once, then every new status and event.

        Needs a login (cookie or ``Authorization: Bearer``) unless ``public_read``; a handshake
        from another site's page is refused. Closes with 1008 when the session expires.
        """
        auth = ctx.auth
        if not same_origin(websocket) or not auth.may_read(websocket):
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
            return
        token = auth.valid_token(websocket)
        await websocket.accept()
        queue = ctx.handle.subscribe()
        try:
            latest = ctx.handle.status
            if latest is not None:
                await websocket.send_json(message(latest))
            await _pump(websocket, queue, ctx, token)
        except WebSocketDisconnect:
            pass
        finally:
            ctx.handle.unsubscribe(queue)

    return api


async def _pump(
    websocket: WebSocket,
    queue: asyncio.Queue[ControlStatus | ControlEvent],
    ctx: ApiContext,
    token: str | None,
) -> None:
    """Forward the queue until the client leaves or its session ends."""
    # Reading the socket is how a close from the client is noticed; nothing it sends matters.
    incoming = asyncio.ensure_future(websocket.receive())
    try:
        while True:
            getting = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getting, incoming}, return_when=asyncio.FIRST_COMPLETED)
            if getting not in done:
                getting.cancel()
            if incoming in done:
                if incoming.result()["type"] == "websocket.disconnect":
                    return
                incoming = asyncio.ensure_future(websocket.receive())
            if getting not in done:
                continue
            if not ctx.config.public_read and (
                token is None or ctx.auth.sessions.remaining_s(token) is None
            ):
                await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="session ended")
                return
            await websocket.send_json(message(getting.result()))
    finally:
        incoming.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await incoming
