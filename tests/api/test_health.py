"""``/api/health``: no login needed, 200 when every check passes, 503 naming the failing one."""

from __future__ import annotations

from pathlib import Path

import httpx

from voltbridge.control.health import Check

from .helpers import make_demo, run


def get(demo_app: object) -> tuple[int, dict[str, object]]:
    async def body(c: httpx.AsyncClient) -> tuple[int, dict[str, object]]:
        answer = await c.get("/api/health")
        return answer.status_code, answer.json()

    return run(demo_app, body, logged_in=False)  # type: ignore[arg-type]


def test_healthy_without_a_login(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    code, body = get(demo.app)
    assert code == 200 and body["ok"] is True
    assert body["checks"] == {"loop": {"ok": True, "detail": "last tick 1 s ago (every 1 s)"}}


def test_a_failing_check_is_503(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    demo.handle.checks = {
        "loop": Check(True, "last tick 1 s ago (every 1 s)"),
        "store": Check(False, "recording fails"),
    }
    code, body = get(demo.app)
    assert code == 503 and body["ok"] is False
    assert body["checks"]["store"] == {"ok": False, "detail": "recording fails"}  # type: ignore[index]


def test_a_broken_check_is_a_503_not_a_trace(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    def broken() -> dict[str, Check]:
        raise RuntimeError("secret detail")

    demo.handle.health = broken  # type: ignore[method-assign]
    code, body = get(demo.app)
    assert code == 503 and "secret" not in str(body)
