"""Prometheus metrics: the live status read at each scrape, and counts of HTTP requests and logins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltbridge.api.context import ApiContext
from voltbridge.control.handle import ControlHandle
from voltbridge.core.types import GridState


class StatusCollector(Collector):
    """Gauges made from the controller's latest status when Prometheus scrapes (none before it)."""

    def __init__(self, handle: ControlHandle) -> None:
        self._handle = handle

    def collect(self) -> Iterable[Metric]:
        now = self._handle.status
        if now is None:
            return
        power = GaugeMetricFamily(
            "voltbridge_power_kw",
            "Measured power [kW]: grid + import, PV and load >= 0, battery + charging.",
            labels=["flow"],
        )
        for flow, kw in (
            ("grid", now.power.grid_kw),
            ("pv", now.power.pv_kw),
            ("load", now.power.load_kw),
            ("battery", now.power.battery_kw),
        ):
            if kw is not None:  # unknown: no sample, never a zero
                power.add_metric([flow], kw)
        yield power

        car_kw = GaugeMetricFamily(
            "voltbridge_vehicle_power_kw", "Car AC power [kW], + charging.", labels=["vehicle"]
        )
        car_soc = GaugeMetricFamily(
            "voltbridge_vehicle_soc_kwh", "Car stored energy [kWh].", labels=["vehicle"]
        )
        car_pct = GaugeMetricFamily(
            "voltbridge_vehicle_soc_percent", "Car state of charge [%].", labels=["vehicle"]
        )
        plugged = GaugeMetricFamily(
            "voltbridge_vehicle_plugged_in", "1 when the car is plugged in.", labels=["vehicle"]
        )
        for name, car in now.vehicles.items():
            kw = now.power.vehicles_kw.get(name, car.power_kw)
            if kw is not None:
                car_kw.add_metric([name], kw)
            plugged.add_metric([name], 1.0 if car.plugged_in else 0.0)
            if car.soc_kwh is not None:
                car_soc.add_metric([name], car.soc_kwh)
            if car.soc_pct is not None:
                car_pct.add_metric([name], car.soc_pct)
        yield from (car_kw, car_soc, car_pct, plugged)

        if now.battery is not None:
            battery = now.battery
            if battery.soc_kwh is not None:
                yield GaugeMetricFamily(
                    "voltbridge_battery_soc_kwh",
                    "Home battery stored energy [kWh].",
                    value=battery.soc_kwh,
                )
            if battery.soc_pct is not None:
                yield GaugeMetricFamily(
                    "voltbridge_battery_soc_percent",
                    "Home battery state of charge [%].",
                    value=battery.soc_pct,
                )

        yield GaugeMetricFamily(
            "voltbridge_backup_hours",
            "Hours the essential circuits can run from storage alone above the reserves [h].",
            value=now.backup_hours,
        )
        state = GaugeMetricFamily(
            "voltbridge_grid_state", "1 for the grid connection's present state.", labels=["state"]
        )
        for candidate in GridState:
            state.add_metric([candidate.value], 1.0 if candidate is now.grid_state else 0.0)
        yield state
        circuits = GaugeMetricFamily(
            "voltbridge_circuit_on", "1 when the circuit is powered.", labels=["circuit"]
        )
        for name, on in now.circuits.items():
            circuits.add_metric([name], 1.0 if on else 0.0)
        yield circuits
        yield GaugeMetricFamily(
            "voltbridge_faults", "Devices that are stale or do not answer.", value=len(now.faults)
        )
        yield GaugeMetricFamily(
            "voltbridge_status_timestamp_seconds",
            "When the status was made [s since the epoch].",
            value=now.at.timestamp(),
        )


class ApiMetrics:
    """One app's registry (not the process-wide one, so several apps can live in one process)."""

    def __init__(self, handle: ControlHandle) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(StatusCollector(handle))
        self.requests = Counter(
            "voltbridge_http_requests",
            "HTTP requests and WebSocket connections answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.login_failures = Counter(
            "voltbridge_login_failures",
            "Logins refused (wrong password or rate-limited).",
            registry=self.registry,
        )

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The metrics in the format ``accept`` asks for (Prometheus text 0.0.4 by default)."""
        encode, media_type = choose_encoder(accept)
        return encode(self.registry), media_type


def route_label(scope: Scope) -> str:
    """The route's template (``/api/status``), never the raw path, to bound the label's values."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    raw = str(scope.get("path", ""))
    return "/static" if raw.startswith("/static/") else "unmatched"


class CountRequests:
    """ASGI middleware counting each answered request by method, route and status."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        seen = {"status": "0"}

        async def sending(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                seen["status"] = str(message["status"])
            elif kind == "websocket.accept":
                seen["status"] = "101"
            elif kind == "websocket.close" and seen["status"] == "0":
                seen["status"] = "403"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
            status = seen["status"] if seen["status"] != "0" else "500"
            self.metrics.requests.labels(method, route_label(scope), status).inc()
            if route_label(scope) == "/api/login" and status in ("401", "429"):
                self.metrics.login_failures.inc()


def router(ctx: ApiContext, metrics: ApiMetrics) -> APIRouter:
    """``/metrics``."""
    api = APIRouter(tags=["metrics"])

    @api.get(
        "/metrics",
        dependencies=[Depends(ctx.auth.require_metrics)],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {}}}},
    )
    async def get_metrics(request: Request) -> Response:
        """Prometheus text format (or OpenMetrics when asked): power [kW], SoC, backup hours, grid
        state, circuits, request counts."""
        body, media_type = metrics.exposition(request.headers.get("accept", ""))
        return Response(body, headers={"Content-Type": media_type})

    return api
