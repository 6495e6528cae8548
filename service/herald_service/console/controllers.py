"""The console's sign-in and sign-out pages."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from herald_service.console.passwords import verify_password
from herald_service.console.service import find_user, normalise_email
from herald_service.console.sessions import PRE_SESSION_COOKIE, SESSION_COOKIE, SignInLimiter
from herald_service.console.web import (
    SIGN_IN_PATH,
    ConsoleError,
    context_of,
    safe_next,
    secure_cookies,
    sessions,
)


def _cookie(request: Request[Any, Any, Any], key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/console",
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def _sign_in_page(
    request: Request[Any, Any, Any], next_path: str, error: str = "", status: int = 200
) -> Template:
    token = secrets.token_urlsafe(32)
    return Template(
        template_name="sign_in.html",
        context={"csrf": token, "next": next_path, "error": error, "operator": None},
        status_code=status,
        cookies=[_cookie(request, PRE_SESSION_COOKIE, token, 3600)],
    )


class SignInController(Controller):
    """``/console/sign-in`` and ``/console/sign-out``."""

    path = "/"

    @get("/sign-in")
    async def sign_in_form(self, request: Request[Any, Any, Any]) -> Template:
        """The sign-in form, with a fresh CSRF token in a cookie and a hidden field."""
        return _sign_in_page(request, safe_next(request.query_params.get("next")))

    @post("/sign-in", status_code=303, opt={"any_role": True})
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Check the password (argon2id, also for unknown emails), count failures, and on
        success open a session."""
        form = await request.form()
        email = normalise_email(str(form.get("email") or ""))[:320]
        password = str(form.get("password") or "")[:1024]
        next_path = safe_next(str(form.get("next") or ""))
        client = request.client.host if request.client else "unknown"
        limiter = SignInLimiter(context_of(request).quota_redis)
        if wait := await limiter.locked_for(email, client):
            minutes = max(1, round(wait / 60))
            message = f"Too many failed sign-ins. Try again in about {minutes} minutes."
            raise ConsoleError(429, message, {"Retry-After": str(wait)})
        async with context_of(request).sessions() as db:
            user = await find_user(db, email) if email else None
        if not verify_password(user.password_hash if user else None, password) or user is None:
            await limiter.failed(email, client)
            return _sign_in_page(request, next_path, "Wrong email or password.", 401)
        await limiter.succeeded(email)
        token = await sessions(request).open(user.id)
        lifetime = int(context_of(request).settings.console_session_lifetime)
        return Redirect(
            path=next_path,
            status_code=303,
            cookies=[
                _cookie(request, SESSION_COOKIE, token, lifetime),
                Cookie(key=PRE_SESSION_COOKIE, value="", path="/console", max_age=0),
            ],
        )

    @post("/sign-out", status_code=303, opt={"any_role": True})
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session and forget the cookie."""
        await sessions(request).close(request.cookies.get(SESSION_COOKIE))
        return Redirect(
            path=SIGN_IN_PATH,
            status_code=303,
            cookies=[Cookie(key=SESSION_COOKIE, value="", path="/console", max_age=0)],
        )
