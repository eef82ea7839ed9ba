"""The WebSocket stream: the latest status at once, then every status and event; refused without a login."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from .fakes import PASSWORD, demo_event, demo_status
from .helpers import Demo, make_demo


def token_of(tc: TestClient) -> str:
    answer = tc.post("/api/login", json={"password": PASSWORD})
    assert answer.status_code == 200
    token: str = answer.json()["token"]
    return token


def wait_until(done: Callable[[], bool], what: str) -> None:
    """Poll ``done`` (the stream runs in the test client's thread); the limit guards a hang only."""
    deadline = time.monotonic() + 120
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.01)


def wait_subscribed(demo: Demo) -> None:
    wait_until(lambda: bool(demo.handle.queues), "the stream subscribing")


def test_stream_pushes_the_status_then_every_status_and_event(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    with TestClient(demo.app) as tc:
        headers = {"Authorization": f"Bearer {token_of(tc)}"}
        with tc.websocket_connect("/api/stream", headers=headers) as ws:
            first = ws.receive_json()
            assert first["type"] == "status"
            assert first["data"]["vehicles"]["ev9"]["soc_pct"] == pytest.approx(62.0)
            wait_subscribed(demo)
            demo.handle.publish(demo_status(soc_pct=63.0))
            demo.handle.publish(demo_event(message="new plan"))
            second, third = ws.receive_json(), ws.receive_json()
            assert second["type"] == "status"
            assert second["data"]["vehicles"]["ev9"]["soc_pct"] == pytest.approx(63.0)
            assert third == {"type": "event", "data": demo_event(message="new plan").to_dict()}
        # Leaving unsubscribes.
        wait_until(lambda: not demo.handle.queues, "the stream unsubscribing")
        assert demo.handle.queues == []


def test_stream_accepts_the_session_cookie(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    with TestClient(demo.app) as tc:
        token_of(tc)  # the client keeps the cookie the login sets
        assert "voltbridge_session" in tc.cookies
        with tc.websocket_connect("/api/stream") as ws:
            assert ws.receive_json()["type"] == "status"


def test_stream_refuses_without_a_login(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    with (
        TestClient(demo.app) as tc,
        pytest.raises(WebSocketDisconnect) as refused,
        tc.websocket_connect("/api/stream") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 1008


def test_stream_refuses_another_sites_page(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, public_read=True)
    with (
        TestClient(demo.app) as tc,
        pytest.raises(WebSocketDisconnect),
        tc.websocket_connect("/api/stream", headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()


def test_stream_is_open_with_public_read(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, public_read=True)
    with TestClient(demo.app) as tc, tc.websocket_connect("/api/stream") as ws:
        assert ws.receive_json()["data"]["grid_state"] == "on_grid"


def test_stream_closes_when_the_session_ends(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, session_ttl_s=60)
    with TestClient(demo.app) as tc:
        headers = {"Authorization": f"Bearer {token_of(tc)}"}
        with tc.websocket_connect("/api/stream", headers=headers) as ws:
            ws.receive_json()
            wait_subscribed(demo)
            demo.monotonic.now += 61
            demo.handle.publish(demo_status(soc_pct=64.0))
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1008
