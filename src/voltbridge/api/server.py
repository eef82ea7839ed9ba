"""Serving the app with uvicorn on the controller's own event loop."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from voltbridge.api.config import ApiConfig


def make_server(app: FastAPI, config: ApiConfig) -> uvicorn.Server:
    """A uvicorn server for ``app`` on ``config.host:config.port``; ``await server.serve()`` runs
    it beside the controller (set ``server.should_exit = True`` to stop it)."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            ws="websockets-sansio",
            lifespan="off",
        )
    )
