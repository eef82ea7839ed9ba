"""Building the app around the demo home and calling it in-process (no server, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from voltbridge.api import ApiConfig, create_app
from voltbridge.core.clock import VirtualClock

from .fakes import NOW, PASSWORD, FakeHandle, FakeMonotonic, FakeStore, demo_plan, demo_status

T = TypeVar("T")


@dataclass
class Demo:
    app: FastAPI
    handle: FakeHandle
    store: FakeStore | None
    config: ApiConfig
    monotonic: FakeMonotonic
    clock: VirtualClock


def make_demo(
    data_dir: Path,
    *,
    with_store: bool = True,
    started: bool = True,
    store: FakeStore | None = None,
    **options: Any,
) -> Demo:
    """The app over the demo home; ``started=False``: before the controller's first tick;
    ``store``: another store than the canned one (with ``with_store``)."""
    clock = VirtualClock(NOW)
    handle = FakeHandle(demo_status() if started else None, demo_plan() if started else None, clock)
    store = (store or FakeStore()) if with_store else None
    monotonic = FakeMonotonic()
    options.setdefault("password", PASSWORD)
    config = ApiConfig(
        data_dir=data_dir,
        timezone="America/Los_Angeles",
        currency="USD",
        site_name="EV9 home",
        clock=clock,
        monotonic=monotonic,
        **options,
    )
    return Demo(create_app(handle, store, config), handle, store, config, monotonic, clock)


def client(app: FastAPI, host: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def login(c: httpx.AsyncClient, password: str = PASSWORD) -> str:
    """Log ``c`` in (its cookie jar keeps the session) and return the token."""
    answer = await c.post("/api/login", json={"password": password})
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    assert isinstance(token, str)
    return token


def run(
    app: FastAPI, body: Callable[[httpx.AsyncClient], Awaitable[T]], *, logged_in: bool = True
) -> T:
    """Run ``body`` with a client of ``app`` (logged in unless told otherwise)."""

    async def main() -> T:
        async with client(app) as c:
            if logged_in:
                await login(c)
            return await body(c)

    return asyncio.run(main())
