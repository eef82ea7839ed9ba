"""Login, logout and "who am I": sessions as a JSON token and an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from starlette.concurrency import run_in_threadpool

from voltbridge.api.auth import SESSION_COOKIE
from voltbridge.api.context import ApiContext
from voltbridge.api.models import LoginAnswer, LoginRequest, Me, Message


def router(ctx: ApiContext) -> APIRouter:
    """The ``/api/login``, ``/api/logout`` and ``/api/me`` routes."""
    auth = ctx.auth
    config = ctx.config
    api = APIRouter(prefix="/api", tags=["auth"])

    @api.post(
        "/login",
        responses={401: {"model": Message}, 429: {"model": Message}},
    )
    async def login(body: LoginRequest, request: Request, response: Response) -> LoginAnswer:
        """Exchange the dashboard password for a session token (also set as a cookie).

        Wrong passwords are limited per client address: after a few, each further one makes
        that address wait twice as long as the one before (the answer is then 429 with
        ``Retry-After`` and the password is not even checked). Other addresses are not slowed.
        """
        client = auth.client(request)
        wait_s = auth.limiter.begin(client)
        if wait_s is not None:
            retry_s = math.ceil(wait_s)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many wrong passwords from {client}: try again in {retry_s} s",
                headers={"Retry-After": str(retry_s)},
            )
        if not await run_in_threadpool(auth.password.verify, body.password):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong password")
        auth.limiter.succeeded(client)
        token = auth.sessions.create()
        ttl_s = config.session_ttl_s
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(ttl_s),
            httponly=True,
            samesite="strict",
            secure=config.cookie_secure,
            path="/",
        )
        expires = config.clock.now() + timedelta(seconds=ttl_s)
        return LoginAnswer(
            token=token,
            expires_in_s=ttl_s,
            expires_at=expires.isoformat().replace("+00:00", "Z"),
        )

    @api.post("/logout")
    async def logout(request: Request, response: Response) -> Message:
        """End the session of the token given (header or cookie) and clear the cookie."""
        for token in (auth.bearer_token(request), request.cookies.get(SESSION_COOKIE)):
            if token:
                auth.sessions.revoke(token)
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=config.cookie_secure
        )
        return Message(detail="logged out")

    @api.get("/me")
    async def me(request: Request) -> Me:
        """Whether the caller is logged in and what it may do (never 401)."""
        authenticated = auth.valid_token(request) is not None
        return Me(
            authenticated=authenticated,
            public_read=config.public_read,
            can_read=authenticated or config.public_read,
            can_write=authenticated,
        )

    return api
