"""Serving the app with uvicorn on the controller's own event loop."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from voltbridge.api.config import ApiConfig


def make_server(app: FastAPI, config: ApiConfig) -> uvicorn.Server:
    """A uvicorn server for ``app`` on ``config.host:config.port``; ``await server.serve()`` runs
    it beside the controller (set ``server.should_exit = True`` to stop it).

    uvicorn's own proxy-header handling is off: by default it believes ``X-Forwarded-For`` from
    127.0.0.1, which would let anything on this machine (or a proxy that passes the header on)
    choose the address logins are limited by. The app reads the header itself, from
    ``config.trusted_proxies`` only. WebSocket messages are capped like request bodies.
    """
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            ws="websockets-sansio",
            lifespan="off",
            proxy_headers=False,
            ws_max_size=config.max_body_bytes,
        )
    )
