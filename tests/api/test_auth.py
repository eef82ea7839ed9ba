"""Login, sessions, rate limits, public reads and the stored password hash."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import httpx
import pytest

from voltbridge.api import PASSWORD_FILE, ApiConfig, PasswordError, create_app, ensure_password

from .fakes import PASSWORD, FakeHandle, demo_status
from .helpers import client, login, make_demo, run

READS = [
    "/api/status",
    "/api/plan",
    "/api/settings",
    "/api/info",
    "/api/catalog",
    "/api/history",
    "/api/events",
    "/api/sessions",
    "/api/money",
    "/metrics",
]


@pytest.mark.parametrize("path", READS)
def test_reads_need_a_login(tmp_path: Path, path: str) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(path)

    answer = run(demo.app, body, logged_in=False)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "/api/login" in answer.json()["detail"]


def test_writes_need_a_login_even_with_a_bad_body(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> list[int]:
        good = await c.patch("/api/settings", json={"mode": "off"})
        bad = await c.patch("/api/settings", json={"mode": "nonsense"})
        return [good.status_code, bad.status_code]

    assert run(demo.app, body, logged_in=False) == [401, 401]
    assert demo.handle.updates == []


def test_login_sets_an_httponly_strict_cookie_and_returns_a_token(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> None:
        answer = await c.post("/api/login", json={"password": PASSWORD})
        assert answer.status_code == 200
        token = answer.json()["token"]
        assert len(token) >= 40
        assert answer.json()["expires_in_s"] == demo.config.session_ttl_s
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and token.lower() in cookie
        # The cookie alone authenticates ...
        assert (await c.get("/api/status")).status_code == 200
        # ... and so does the bearer token alone.
        async with client(demo.app) as other:
            bare = await other.get("/api/status")
            with_token = await other.get(
                "/api/status", headers={"Authorization": f"Bearer {token}"}
            )
            wrong = await other.get("/api/status", headers={"Authorization": "Bearer nope"})
        assert (bare.status_code, with_token.status_code, wrong.status_code) == (401, 200, 401)

    run(demo.app, body, logged_in=False)


def test_logout_ends_the_session(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> list[int]:
        token = await login(c)
        out = await c.post("/api/logout")
        after = await c.get("/api/status", headers={"Authorization": f"Bearer {token}"})
        return [out.status_code, after.status_code]

    assert run(demo.app, body, logged_in=False) == [200, 401]


def test_sessions_expire(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, session_ttl_s=3600)

    async def body(c: httpx.AsyncClient) -> list[int]:
        await login(c)
        fresh = (await c.get("/api/status")).status_code
        demo.monotonic.now += 3601
        return [fresh, (await c.get("/api/status")).status_code]

    assert run(demo.app, body, logged_in=False) == [200, 401]


def test_wrong_passwords_are_rate_limited_per_client(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, login_free_failures=5)

    async def body(c: httpx.AsyncClient) -> None:
        for _ in range(5):
            wrong = await c.post("/api/login", json={"password": "guess-guess"})
            assert wrong.status_code == 401
        # Past the limit even the right password is not checked.
        blocked = await c.post("/api/login", json={"password": PASSWORD})
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 300
        # Another client is not blocked by this one's failures.
        async with client(demo.app, host="192.168.1.7") as other:
            assert (await other.post("/api/login", json={"password": PASSWORD})).status_code == 200
        demo.monotonic.now += 301
        assert (await c.post("/api/login", json={"password": PASSWORD})).status_code == 200

    run(demo.app, body, logged_in=False)


def test_a_successful_login_forgives_that_clients_failures(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, login_free_failures=3)

    async def body(c: httpx.AsyncClient) -> int:
        for _ in range(2):
            await c.post("/api/login", json={"password": "typo-typo"})
        await login(c)
        for _ in range(2):
            await c.post("/api/login", json={"password": "typo-typo"})
        return (await c.post("/api/login", json={"password": PASSWORD})).status_code

    assert run(demo.app, body, logged_in=False) == 200


def test_public_read_opens_reads_but_never_writes(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, public_read=True)

    async def body(c: httpx.AsyncClient) -> None:
        for path in READS:
            assert (await c.get(path)).status_code == 200, path
        assert (await c.patch("/api/settings", json={"mode": "off"})).status_code == 401
        me = (await c.get("/api/me")).json()
        assert me == {
            "authenticated": False,
            "public_read": True,
            "can_read": True,
            "can_write": False,
        }

    run(demo.app, body, logged_in=False)
    assert demo.handle.updates == []


def test_metrics_alone_can_be_public(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, metrics_public=True)

    async def body(c: httpx.AsyncClient) -> list[int]:
        return [(await c.get("/metrics")).status_code, (await c.get("/api/status")).status_code]

    assert run(demo.app, body, logged_in=False) == [200, 401]


def test_a_cookie_write_from_another_site_is_refused(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> list[int]:
        token = await login(c)
        evil = {"Origin": "https://evil.example"}
        by_cookie = await c.patch("/api/settings", json={"mode": "off"}, headers=evil)
        same_site = await c.patch(
            "/api/settings", json={"mode": "off"}, headers={"Origin": "http://testserver"}
        )
        c.cookies.clear()
        by_token = await c.patch(
            "/api/settings",
            json={"mode": "auto"},
            headers={**evil, "Authorization": f"Bearer {token}"},
        )
        return [by_cookie.status_code, same_site.status_code, by_token.status_code]

    assert run(demo.app, body, logged_in=False) == [403, 200, 200]


def test_me_says_who_is_logged_in(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> list[bool]:
        before = (await c.get("/api/me")).json()["authenticated"]
        await login(c)
        after = (await c.get("/api/me")).json()
        return [before, after["authenticated"], after["can_write"]]

    assert run(demo.app, body, logged_in=False) == [False, True, True]


def test_a_generated_password_is_returned_once_and_only_its_hash_is_kept(tmp_path: Path) -> None:
    config = ApiConfig(data_dir=tmp_path / "data")
    with pytest.raises(PasswordError, match="ensure_password"):
        create_app(FakeHandle(demo_status(), None), None, config)
    password = ensure_password(config)
    assert password is not None and len(password) >= 20
    assert ensure_password(config) is None  # a restart keeps it
    stored = tmp_path / "data" / PASSWORD_FILE
    text = stored.read_text()
    assert password not in text
    assert json.loads(text)["scheme"] == "scrypt"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    app = create_app(FakeHandle(demo_status(), None), None, config)

    async def main() -> list[int]:
        async with client(app) as c:
            bad = await c.post("/api/login", json={"password": "not it at all"})
            good = await c.post("/api/login", json={"password": password})
            return [bad.status_code, good.status_code]

    assert asyncio.run(main()) == [401, 200]


def test_a_configured_password_replaces_the_stored_one(tmp_path: Path) -> None:
    first = ensure_password(ApiConfig(data_dir=tmp_path))
    assert first is not None
    assert ensure_password(ApiConfig(data_dir=tmp_path, password=PASSWORD)) is None
    app = create_app(FakeHandle(demo_status(), None), None, ApiConfig(data_dir=tmp_path))

    async def main() -> list[int]:
        async with client(app) as c:
            old = await c.post("/api/login", json={"password": first})
            new = await c.post("/api/login", json={"password": PASSWORD})
            return [old.status_code, new.status_code]

    assert asyncio.run(main()) == [401, 200]


def test_a_short_configured_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 8"):
        ApiConfig(data_dir=tmp_path, password="1234")


def test_the_password_comes_from_the_environment(tmp_path: Path) -> None:
    config = ApiConfig.from_env(tmp_path, environ={"VOLTBRIDGE_PASSWORD": PASSWORD})
    assert config.password == PASSWORD
    assert PASSWORD not in repr(config)
    assert ApiConfig.from_env(tmp_path, environ={"VOLTBRIDGE_PASSWORD": ""}).password is None


def test_login_body_is_validated(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> dict[str, object]:
        answer = await c.post("/api/login", json={"pass": "x"})
        assert answer.status_code == 422
        result: dict[str, object] = answer.json()
        return result

    problems = run(demo.app, body, logged_in=False)
    assert "password" in str(problems["message"])


def test_the_shipped_hash_is_costly_and_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the shipped scrypt cost, not the tests' cheap one
    from voltbridge.api.password import SCRYPT_N, PasswordHash

    assert SCRYPT_N >= 2**15
    hashed = PasswordHash.make(PASSWORD)
    assert hashed.n == SCRYPT_N
    assert hashed.verify(PASSWORD)
    assert not hashed.verify(PASSWORD + " ")
    assert PasswordHash.from_json(hashed.to_json()) == hashed


def test_a_damaged_password_file_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / PASSWORD_FILE).write_text("{not json")
    with pytest.raises(PasswordError, match="delete the file"):
        ensure_password(ApiConfig(data_dir=tmp_path))


def test_the_server_listens_where_configured(tmp_path: Path) -> None:
    from voltbridge.api import make_server

    config = ApiConfig(data_dir=tmp_path, password=PASSWORD, host="0.0.0.0", port=8123)
    server = make_server(create_app(FakeHandle(demo_status(), None), None, config), config)
    assert (server.config.host, server.config.port) == ("0.0.0.0", 8123)
