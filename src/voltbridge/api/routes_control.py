"""The live controller: status, plan, settings (read and change), plus the site info and the catalog."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from voltbridge import __version__
from voltbridge.api.context import ApiContext
from voltbridge.api.errors import FieldError
from voltbridge.api.models import Info, Message, Problems
from voltbridge.catalog import catalog_json, load_catalog
from voltbridge.control.settings import SettingsUpdate
from voltbridge.core.types import Plan
from voltbridge.planner.export import plan_to_dict

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w\-]*(?:\.[\w\-]+)*): (.+)$", re.DOTALL)


def step_minutes(plan: Plan) -> int:
    """The plan's step length [min]: the most common one (the first step may be shortened)."""
    counts = Counter(round(float(h) * 60) for h in plan.grid.dt_h)
    return counts.most_common(1)[0][0]


def plan_payload(plan: Plan) -> dict[str, Any]:
    """``plan_to_dict`` plus each storage's reserve at each step's end [kWh], for the reserve bands."""
    out = plan_to_dict(plan, step_minutes(plan))
    out["reserve_kwh"] = {s.name: [float(x) for x in s.reserve_kwh[1:]] for s in plan.storages}
    out["created"] = (
        None if plan.created is None else plan.created.isoformat().replace("+00:00", "Z")
    )
    return out


def field_of(message: str) -> tuple[tuple[str, ...], str]:
    """Split ``"vehicles.ev9: no vehicle ..."`` into the field's path and the rest.

    >>> field_of("vehicles.ev9: no vehicle of that name")
    (('vehicles', 'ev9'), 'no vehicle of that name')
    >>> field_of("something went wrong")
    ((), 'something went wrong')
    """
    match = _FIELD_PREFIX.match(message)
    if match is None:
        return (), message
    return tuple(match.group(1).split(".")), match.group(2)


def router(ctx: ApiContext) -> APIRouter:
    """``/api/status``, ``/api/plan``, ``/api/settings``, ``/api/info`` and ``/api/catalog``."""
    handle = ctx.handle
    read = [Depends(ctx.auth.require_read)]
    write = [Depends(ctx.auth.require_write)]
    api = APIRouter(prefix="/api", tags=["control"])
    unauth: dict[int | str, dict[str, Any]] = {401: {"model": Message}}

    @api.get("/status", dependencies=read, responses={**unauth, 503: {"model": Message}})
    async def get_status() -> dict[str, Any]:
        """The live status: grid state, power flows [kW], backup hours, cars, battery, circuits.

        Power is positive into a device from the home's AC bus: a charging car or battery is
        positive, grid power is positive for import. 503 before the controller's first tick.
        """
        now = handle.status
        if now is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "no status yet: the controller has not finished its first tick",
            )
        return now.to_dict()

    @api.get("/plan", dependencies=read, responses={**unauth, 503: {"model": Message}})
    async def get_plan() -> dict[str, Any]:
        """The plan being followed (as ``voltbridge plan --json``), plus ``reserve_kwh`` per storage
        at each step's end and ``created``. 503 before the first plan."""
        plan = handle.plan
        if plan is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "no plan yet: the planner has not run"
            )
        return plan_payload(plan)

    @api.get("/settings", dependencies=read, responses=unauth)
    async def get_settings() -> dict[str, Any]:
        """The household's settings now (mode, V2G, backup reserve, per car)."""
        return handle.settings.model_dump(mode="json")

    @api.patch(
        "/settings",
        dependencies=write,
        responses={**unauth, 422: {"model": Problems}},
    )
    async def patch_settings(update: SettingsUpdate) -> dict[str, Any]:
        """Change some settings: only the fields given change; a car's field given as null goes
        back to the site file's value. Answers the settings after the change; 422 names the
        field at fault (e.g. ``vehicles.ev9.target_soc_pct``)."""
        known = list(handle.vehicle_names)
        for name in update.vehicles or {}:
            if name not in known:
                raise FieldError(
                    ("vehicles", name),
                    f"no vehicle of that name; known: {', '.join(known) or 'none'}",
                )
        try:
            settings = handle.apply_settings(update, source="api")
        except ValueError as exc:
            loc, msg = field_of(str(exc))
            raise FieldError(loc, msg) from None
        return settings.model_dump(mode="json")

    @api.get("/info", dependencies=read, responses=unauth)
    async def get_info() -> Info:
        """The site's name, time zone, currency and cars, for showing the rest."""
        return Info(
            site_name=ctx.config.site_name,
            timezone=ctx.config.timezone,
            currency=ctx.config.currency,
            vehicle_names=list(handle.vehicle_names),
            version=__version__,
        )

    @api.get("/catalog", dependencies=read, responses=unauth, tags=["catalog"])
    async def get_catalog() -> dict[str, Any]:
        """The bidirectional vehicles and chargers voltbridge knows (as ``voltbridge catalog
        --json``); figures that are not public are null."""
        return catalog_json(load_catalog())

    return api
