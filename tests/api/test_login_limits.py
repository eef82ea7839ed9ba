"""Wrong passwords slow down the address they come from, never the owner elsewhere; forwarded
addresses are believed from configured proxies only; bodies over 1 MiB are refused before parsing.

Time is the demo's injected monotonic clock, moved by hand: nothing here waits.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from voltbridge.api import ApiConfig, make_server
from voltbridge.api.body_limit import BodyLimit

from .fakes import PASSWORD
from .helpers import client, make_demo

WRONG = {"password": "not the password"}
RIGHT = {"password": PASSWORD}


async def attempts(c: httpx.AsyncClient, n: int, body: dict[str, str] = WRONG) -> list[int]:
    return [(await c.post("/api/login", json=body)).status_code for _ in range(n)]


def test_each_wrong_password_past_the_free_ones_doubles_the_wait(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, login_free_failures=3, login_delay_s=1.0, login_max_delay_s=8.0)

    async def main() -> None:
        async with client(demo.app, host="192.168.1.66") as c:
            assert await attempts(c, 3) == [401, 401, 401]
            waits = []
            for _ in range(6):
                refused = await c.post("/api/login", json=RIGHT)  # not even checked
                assert refused.status_code == 429
                wait_s = int(refused.headers["retry-after"])
                assert f"try again in {wait_s} s" in refused.json()["detail"]
                waits.append(wait_s)
                demo.monotonic.now += wait_s - 0.5
                assert (await c.post("/api/login", json=WRONG)).status_code == 429  # not yet
                demo.monotonic.now += 0.5
                assert (await c.post("/api/login", json=WRONG)).status_code == 401
            assert waits == [1, 2, 4, 8, 8, 8]  # doubling, up to login_max_delay_s

    asyncio.run(main())


def test_a_dozen_guessing_addresses_never_lock_the_owner_out(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)  # the shipped limits

    async def main() -> tuple[list[list[int]], int]:
        answers = []
        for n in range(12):
            async with client(demo.app, host=f"10.0.0.{n + 1}") as attacker:
                answers.append(await attempts(attacker, 8))
        async with client(demo.app, host="192.168.1.20") as owner:
            return answers, (await owner.post("/api/login", json=RIGHT)).status_code

    answers, owner = asyncio.run(main())
    assert owner == 200
    for mine in answers:  # each guessing address is slowed down after three
        assert mine == [401, 401, 401, 429, 429, 429, 429, 429]


def test_a_right_password_forgives_that_address_and_failures_fade(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, login_free_failures=2, login_forget_s=3600.0)

    async def main() -> None:
        async with client(demo.app) as c:
            assert await attempts(c, 2) == [401, 401]
            assert await attempts(c, 1, RIGHT) == [429]
            demo.monotonic.now += 1
            assert await attempts(c, 1, RIGHT) == [200]
            assert await attempts(c, 3) == [401, 401, 429]  # counted from zero again
            demo.monotonic.now += 3600
            assert await attempts(c, 3) == [401, 401, 429]  # forgotten an hour after the last

    asyncio.run(main())


def test_the_addresses_of_one_ipv6_64_share_their_count(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, login_free_failures=2)

    async def main() -> None:
        for n in range(2):
            async with client(demo.app, host=f"2001:db8:1:2::{n + 1}") as c:
                assert await attempts(c, 1) == [401]
        async with client(demo.app, host="2001:db8:1:2::99") as same_64:
            assert await attempts(same_64, 1) == [429]
        async with client(demo.app, host="2001:db8:1:3::1") as other_64:
            assert await attempts(other_64, 1, RIGHT) == [200]

    asyncio.run(main())


def test_a_spoofed_forwarded_for_does_not_escape_the_served_app_limits(tmp_path: Path) -> None:
    """The app as uvicorn serves it (its middleware included), reached from 127.0.0.1."""
    demo = make_demo(tmp_path)
    server = make_server(demo.app, demo.config)
    server.config.load()
    served = server.config.loaded_app

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=served, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return [
                (
                    await c.post(
                        "/api/login", json=WRONG, headers={"X-Forwarded-For": f"203.0.113.{n}"}
                    )
                ).status_code
                for n in range(6)
            ]

    assert asyncio.run(main()) == [401, 401, 401, 429, 429, 429]
    assert server.config.ws_max_size == demo.config.max_body_bytes  # WebSocket messages too


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, trusted_proxies=("10.0.0.2", "fd00::/8"), login_free_failures=2)

    async def via(host: str, forwarded: str, body: dict[str, str] = WRONG) -> int:
        async with client(demo.app, host=host) as c:
            answer = await c.post("/api/login", json=body, headers={"X-Forwarded-For": forwarded})
            return answer.status_code

    async def main() -> None:
        # behind the proxy, what the client wrote itself (left) changes nothing: the proxy
        # appended the address it saw (right), and that one is counted
        assert await via("10.0.0.2", "6.6.6.1, 192.168.1.50") == 401
        assert await via("10.0.0.2", "6.6.6.2, 192.168.1.50") == 401
        assert await via("10.0.0.2", "6.6.6.3, 192.168.1.50") == 429
        # the household behind the same proxy is another address
        assert await via("10.0.0.2", "192.168.1.51", RIGHT) == 200
        # two trusted proxies in a row are both skipped
        assert await via("fd00::7", "192.168.1.50, 10.0.0.2", RIGHT) == 429
        # anyone else's header is ignored: the connection's address is what counts
        assert await via("192.168.1.99", "192.168.1.51") == 401
        assert await via("192.168.1.99", "192.168.1.52") == 401
        assert await via("192.168.1.99", "192.168.1.53") == 429

    asyncio.run(main())


@pytest.mark.parametrize(
    ("proxies", "match"),
    [(("10.0.0.300",), "'10.0.0.300' is not an IP address"), ("10.0.0.1", "a list")],
)
def test_trusted_proxies_must_be_addresses(tmp_path: Path, proxies: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ApiConfig(data_dir=tmp_path, trusted_proxies=proxies)  # type: ignore[arg-type]


def padded_login(total_bytes: int) -> bytes:
    """A login body of exactly ``total_bytes`` bytes (JSON padded with spaces)."""
    body = json.dumps(RIGHT).encode()
    return body[:-1] + b" " * (total_bytes - len(body)) + b"}"


def test_bodies_over_the_limit_get_413_before_login_or_parsing(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    limit = 1_048_576

    async def chunks(total: int) -> AsyncIterator[bytes]:
        for _ in range(total // 65536):
            yield b" " * 65536

    async def main(c: httpx.AsyncClient) -> None:
        headers = {"Content-Type": "application/json"}
        for _ in range(10):  # not counted as login attempts
            over = await c.post("/api/login", content=padded_login(limit + 1), headers=headers)
            assert over.status_code == 413
            assert str(limit) in over.json()["detail"]
        # no Content-Length: counted while it streams
        streamed = await c.post("/api/login", content=chunks(2 * limit), headers=headers)
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413
        # before the login check: not a 401
        patch = await c.patch("/api/settings", content=b"{" + b" " * limit + b"}")
        assert patch.status_code == 413
        # exactly the limit is read and parsed
        exact = await c.post("/api/login", content=padded_login(limit), headers=headers)
        assert exact.status_code == 200, exact.text
        assert demo.config.max_body_bytes == limit

    async def run_main() -> None:
        async with client(demo.app) as c:
            await main(c)

    asyncio.run(run_main())


def test_a_bad_content_length_is_400_and_a_gone_client_gets_nothing(tmp_path: Path) -> None:
    calls: list[str] = []

    async def app(scope: object, receive: object, send: object) -> None:
        calls.append("app")

    limited = BodyLimit(app, max_bytes=10)  # type: ignore[arg-type]
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def disconnect() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def main() -> None:
        for value in (b"ten", b"-1", b"9" * 5000):
            sent.clear()
            scope = {"type": "http", "headers": [(b"content-length", value)]}
            await limited(scope, disconnect, send)  # type: ignore[arg-type]
            assert sent[0]["status"] == (413 if value.isdigit() else 400)
        sent.clear()
        await limited({"type": "http", "headers": []}, disconnect, send)  # type: ignore[arg-type]
        assert sent == [] and calls == []

    asyncio.run(main())
