"""``/api/health``: whether the home's control works, for a watchdog and for monitoring.

Answers without a login (a monitor has none) and says nothing private: four checks (loop,
devices, store, plan), each passing or not with a few words. 200 when all pass, 503 otherwise.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from voltbridge.api.context import ApiContext


def router(ctx: ApiContext) -> APIRouter:
    """``GET /api/health``."""
    api = APIRouter(prefix="/api", tags=["health"])

    @api.get(
        "/health",
        responses={503: {"description": "a check fails; the body says which"}},
    )
    async def health() -> JSONResponse:
        """The control loop ticks, every device answers, the store records, the plan is fresh:
        ``{"ok": true, "checks": {"loop": {"ok": true, "detail": "..."}, ...}}``."""
        try:
            checks = ctx.handle.health()
        except Exception as err:  # a broken check is a failed check, never a 500 with a trace
            body: dict[str, Any] = {
                "ok": False,
                "checks": {
                    "health": {"ok": False, "detail": f"checking failed: {type(err).__name__}"}
                },
            }
            return JSONResponse(body, status_code=503)
        ok = all(c.ok for c in checks.values())
        body = {
            "ok": ok,
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return api
