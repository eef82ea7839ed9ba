"""A small OpenADR 3 VTN for the tests, written to the spec's OpenAPI description (3.1.0, kept
beside it in ``spec/``): OAuth2 client credentials, VENs, programs, events and reports, on aiohttp
at 127.0.0.1 with an OS-chosen port.

Every request body the VEN sends is checked against the description's request schema, and every
object the VTN serves against its object schema; what does not conform is recorded in
:attr:`Vtn.invalid` (and answered 400), so a test can assert the exchange followed the spec.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from jsonschema import Draft7Validator

from voltbridge.devices.openadr3 import OpenADR3Config

SPEC = json.loads((Path(__file__).parent / "spec" / "openadr3-3.1.0.json").read_text())
CLIENT_ID, CLIENT_SECRET = "ven-client-7", "s3cret-7"
ENV = {"OADR3_ID": CLIENT_ID, "OADR3_SECRET": CLIENT_SECRET}
PROGRAM_ID, PROGRAM_NAME = "prog-elrp", "ELRP"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def schema_errors(name: str, instance: object) -> list[str]:
    """Where ``instance`` breaks the OpenAPI description's ``components.schemas[name]``."""
    validator = Draft7Validator(
        {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    )
    return [f"{name}: {e.json_path}: {e.message}" for e in validator.iter_errors(instance)]


def ven_errors(ven: Mapping[str, Any]) -> list[str]:
    """A served VEN object checked against the description.

    3.1.0's ``ven`` schema is ``allOf`` ``objectMetadata`` (``objectType`` one of the object
    types, ``VEN``) and ``BlVenRequest`` (``objectType`` ``BL_VEN_REQUEST``), which no object can
    satisfy; each part is checked on its own, ``objectType`` against the first.
    """
    return schema_errors("objectMetadata", ven) + schema_errors(
        "BlVenRequest", {**ven, "objectType": "BL_VEN_REQUEST"}
    )


def problem(status: int, title: str) -> web.Response:
    return web.json_response({"title": title, "status": status, "detail": title}, status=status)


class Vtn:
    """The VTN's state (kept across :meth:`stop`/:meth:`start`, like a server's database)."""

    def __init__(self) -> None:
        self._serial = 0
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.tokens: set[str] = set()
        self.vens: dict[str, dict[str, Any]] = {}
        self.programs: list[dict[str, Any]] = [
            self._object("PROGRAM", PROGRAM_ID, {"programName": PROGRAM_NAME}),
            self._object("PROGRAM", "prog-other", {"programName": "other"}),
        ]
        self.events: dict[str, dict[str, Any]] = {}
        self.reports: list[dict[str, Any]] = []
        self.invalid: list[str] = []
        self.requests: list[str] = []
        self.report_status = 201
        self.expires_in_s = 3600

    # --------------------------------------------------------------- the test's side

    def _object(self, kind: str, object_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._serial += 1
        stamp = (CREATED + timedelta(seconds=self._serial)).isoformat()
        return {
            "id": object_id,
            "createdDateTime": stamp,
            "modificationDateTime": stamp,
            "objectType": kind,
            **body,
        }

    def publish(self, event_id: str, body: Mapping[str, Any], check: bool = True) -> None:
        """Create or modify an event (an ``eventRequest`` body); ``check=False`` lets a
        malformed one through, as a faulty VTN would serve it."""
        event = self._object("EVENT", event_id, {"programID": PROGRAM_ID, **body})
        if event_id in self.events:
            event["createdDateTime"] = self.events[event_id]["createdDateTime"]
        if check:
            errors = schema_errors("event", event)
            assert not errors, errors
        self.events[event_id] = event

    def config(self, **overrides: Any) -> OpenADR3Config:
        values: dict[str, Any] = {
            "vtn_url": f"http://127.0.0.1:{self.port}/openadr3",
            "ven_name": "home-ven-1",
            "program": "elrp",
            "vtn_program": PROGRAM_NAME,
            "client_id_env": "OADR3_ID",
            "client_secret_env": "OADR3_SECRET",
            "charger_limit_kw": 7.0,
            "poll_s": 60.0,
            "retry_s": 30.0,
            "sample_gap_s": 900.0,
        }
        values.update(overrides)
        return OpenADR3Config(**values)

    # ------------------------------------------------------------------ server

    async def start(self) -> None:
        app = web.Application()
        base = "/openadr3"
        app.router.add_get(f"{base}/auth/server", self.auth_server)
        app.router.add_post(f"{base}/auth/token", self.token)
        app.router.add_get(f"{base}/vens", self.get_vens)
        app.router.add_post(f"{base}/vens", self.post_ven)
        app.router.add_get(f"{base}/programs", self.get_programs)
        app.router.add_get(f"{base}/events", self.get_events)
        app.router.add_post(f"{base}/reports", self.post_report)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def _served(self, name: str, objects: list[dict[str, Any]]) -> web.Response:
        for obj in objects:
            self.invalid.extend(ven_errors(obj) if name == "ven" else schema_errors(name, obj))
        return web.json_response(objects)

    def _authorized(self, request: web.Request) -> bool:
        self.requests.append(f"{request.method} {request.path}")
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[len("Bearer ") :] in self.tokens

    @staticmethod
    def _page(request: web.Request, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        skip = int(request.query.get("skip", "0"))
        limit = min(int(request.query.get("limit", "50")), 50)
        return objects[skip : skip + limit]

    async def auth_server(self, request: web.Request) -> web.Response:
        info = {"tokenURL": str(request.url.with_path("/openadr3/auth/token").with_query(None))}
        self.invalid.extend(schema_errors("authServerInfo", info))
        return web.json_response(info)

    async def token(self, request: web.Request) -> web.Response:
        self.requests.append("POST /auth/token")
        form = dict(await request.post())
        errors = schema_errors("clientCredentialRequest", form)
        if errors:
            self.invalid.extend(errors)
            return web.json_response({"error": "invalid_request"}, status=400)
        if (form["client_id"], form["client_secret"]) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"token-{len(self.tokens) + 1}"
        self.tokens.add(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in_s}
        self.invalid.extend(schema_errors("clientCredentialResponse", body))
        return web.json_response(body)

    async def get_vens(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return problem(401, "Unauthorized")
        name = request.query.get("venName")
        found = [v for v in self.vens.values() if name is None or v["venName"] == name]
        return self._served("ven", self._page(request, found))

    async def post_ven(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return problem(401, "Unauthorized")
        body = await request.json()
        errors = schema_errors("venRequest", body)
        if errors:
            self.invalid.extend(errors)
            return problem(400, "; ".join(errors))
        ven_id = f"ven-{len(self.vens) + 1}"
        ven = self._object(
            "VEN",
            ven_id,
            {"venName": body["venName"], "clientID": CLIENT_ID},
        )
        self.vens[ven_id] = ven
        self.invalid.extend(ven_errors(ven))
        return web.json_response(ven, status=201)

    async def get_programs(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return problem(401, "Unauthorized")
        return self._served("program", self._page(request, self.programs))

    async def get_events(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return problem(401, "Unauthorized")
        program = request.query.get("programID")
        found = [e for e in self.events.values() if program in (None, e.get("programID"))]
        page = self._page(request, found)
        return web.json_response(page)  # checked at publish (malformed ones on purpose)

    async def post_report(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return problem(401, "Unauthorized")
        body = await request.json()
        errors = schema_errors("reportRequest", body)
        if errors:
            self.invalid.extend(errors)
            return problem(400, "; ".join(errors))
        if self.report_status >= 300:
            return problem(self.report_status, "report refused")
        report = self._object("REPORT", f"report-{len(self.reports) + 1}", body)
        report["objectType"] = "REPORT"
        report["clientID"] = CLIENT_ID
        self.invalid.extend(schema_errors("report", report))
        self.reports.append(report)
        return web.json_response(report, status=201)
