"""The FastAPI application: REST, the live stream, metrics, auth and the dashboard, around one controller."""

from __future__ import annotations

from fastapi import FastAPI

from voltbridge import __version__
from voltbridge.api import (
    errors,
    pages,
    routes_auth,
    routes_control,
    routes_health,
    routes_programs,
    routes_records,
    routes_storm,
    stream,
)
from voltbridge.api.auth import Authenticator
from voltbridge.api.body_limit import BodyLimit
from voltbridge.api.config import ApiConfig
from voltbridge.api.context import ApiContext
from voltbridge.api.metrics import ApiMetrics, CountRequests
from voltbridge.api.metrics import router as metrics_router
from voltbridge.api.password import load_password_hash
from voltbridge.api.store_reader import StoreReader
from voltbridge.control.handle import ControlHandle

DESCRIPTION = """\
The home energy manager's API. Power is in kW, positive **into** a device from the home's AC bus
(a charging car or battery is positive), grid power positive for import; energy in kWh; times ISO
8601 in UTC.

Log in with `POST /api/login` and send the token as `Authorization: Bearer <token>` (the dashboard
uses the HttpOnly cookie set by the same call). Everything needs a login, except reads when the
server runs with `public_read`. `/api/stream` is a WebSocket pushing every status and event.

Wrong passwords slow down the address they come from (429 with `Retry-After`, doubling with each
one more); request bodies over 1 MiB get 413; invalid input gets 422 naming the field.
"""


def create_app(handle: ControlHandle, store: StoreReader | None, config: ApiConfig) -> FastAPI:
    """The app serving ``handle`` (and ``store``, None when nothing is recorded).

    The password hash must exist (``ensure_password(config)`` at startup, or ``config.password``);
    otherwise ``PasswordError`` says what to do. The app must run on the controller's event loop:
    the handle's queues are asyncio queues.
    """
    auth = Authenticator(config, load_password_hash(config))
    ctx = ApiContext(handle=handle, store=store, config=config, auth=auth)
    metrics = ApiMetrics(handle)
    app = FastAPI(
        title="voltbridge",
        version=__version__,
        description=DESCRIPTION,
        # FastAPI's own docs load Swagger UI from a CDN; /docs is served by pages.install instead.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    app.include_router(routes_auth.router(ctx))
    app.include_router(routes_control.router(ctx))
    app.include_router(routes_health.router(ctx))
    app.include_router(routes_programs.router(ctx))
    app.include_router(routes_storm.router(ctx))
    app.include_router(routes_records.router(ctx))
    app.include_router(stream.router(ctx))
    app.include_router(metrics_router(ctx, metrics))
    pages.install(app)
    # The last added runs first: security headers on every answer, then the count, then the
    # body limit, before routing, login checks and parsing.
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(CountRequests, metrics=metrics)
    app.add_middleware(pages.SecurityHeaders)
    app.state.api = ctx
    return app
