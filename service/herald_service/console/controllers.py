"""The console's sign-in and sign-out pages.

With ``HERALD_CONSOLE_KEY_SIGN_IN`` (on under ``herald dev``) the sign-in page also takes
an API key: one with the ``admin`` scope, checked by the same :class:`Authenticator` as the
API's (argon2id, revoked keys refused), opens an admin session for the key's account. The
key must be unrestricted (every scope and domain, default quotas), since the console's
pages, unlike the API, do not bound the keys they create by the acting key.
Failed attempts count against the client address's lock-out like wrong passwords.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers import BaseRouteHandler
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
from herald_service.errors import Unauthorized
from herald_service.keys.service import ADMIN_SCOPE, UNAUTHORIZED, find_live_key, unrestricted
from herald_service.settings import Settings


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
    page = {
        "csrf": token,
        "next": next_path,
        "error": error,
        "operator": None,
        "key_sign_in": context_of(request).settings.console_key_sign_in,
    }
    return Template(
        template_name="sign_in.html",
        context=page,
        status_code=status,
        cookies=[_cookie(request, PRE_SESSION_COOKIE, token, 3600)],
    )


async def _check_lock_out(limiter: SignInLimiter, email: str | None, client: str) -> None:
    if wait := await limiter.locked_for(email, client):
        minutes = max(1, round(wait / 60))
        message = f"Too many failed sign-ins. Try again in about {minutes} minutes."
        raise ConsoleError(429, message, {"Retry-After": str(wait)})


def _signed_in(request: Request[Any, Any, Any], token: str, next_path: str) -> Redirect:
    """Set the session cookie, drop the sign-in form's, and go where the operator was going."""
    lifetime = int(context_of(request).settings.console_session_lifetime)
    return Redirect(
        path=next_path,
        status_code=303,
        cookies=[
            _cookie(request, SESSION_COOKIE, token, lifetime),
            Cookie(key=PRE_SESSION_COOKIE, value="", path="/console", max_age=0),
        ],
    )


def key_sign_in_enabled(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: without ``HERALD_CONSOLE_KEY_SIGN_IN`` the key form does not exist (404)."""
    settings: Settings = connection.app.state.herald.settings
    if not settings.console_key_sign_in:
        raise ConsoleError(404, "There is no such page in the console.")


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
        await _check_lock_out(limiter, email, client)
        async with context_of(request).sessions() as db:
            user = await find_user(db, email) if email else None
        if not verify_password(user.password_hash if user else None, password) or user is None:
            await limiter.failed(email, client)
            return _sign_in_page(request, next_path, "Wrong email or password.", 401)
        await limiter.succeeded(email)
        return _signed_in(request, await sessions(request).open(user.id), next_path)

    @post("/sign-in/key", status_code=303, guards=[key_sign_in_enabled], opt={"any_role": True})
    async def sign_in_with_key(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Authenticate the API key as the API does; an admin key opens a key session."""
        form = await request.form()
        presented = str(form.get("api_key") or "").strip()[:200]
        next_path = safe_next(str(form.get("next") or ""))
        client = request.client.host if request.client else "unknown"
        context = context_of(request)
        limiter = SignInLimiter(context.quota_redis)
        await _check_lock_out(limiter, None, client)
        try:
            auth = await context.authenticator.authenticate(presented or None)
            async with context.sessions() as db:  # revoked now, though still in the cache
                key = await find_live_key(db, auth.key_id)
            if key is None:
                raise Unauthorized(UNAUTHORIZED)
        except Unauthorized:
            await limiter.failed(None, client)
            return _sign_in_page(request, next_path, "Unknown or revoked API key.", 401)
        if ADMIN_SCOPE not in key.scopes:
            message = "This API key lacks the admin scope: only an admin key signs in."
            return _sign_in_page(request, next_path, message, 403)
        if not unrestricted(key):
            message = (
                "This admin key is restricted (scopes, domains or quotas): only an "
                "unrestricted admin key signs in, as the console does not bound what it grants."
            )
            return _sign_in_page(request, next_path, message, 403)
        token = await sessions(request).open("", key_id=key.id)
        return _signed_in(request, token, next_path)

    @post("/sign-out", status_code=303, opt={"any_role": True})
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session and forget the cookie."""
        await sessions(request).close(request.cookies.get(SESSION_COOKIE))
        return Redirect(
            path=SIGN_IN_PATH,
            status_code=303,
            cookies=[Cookie(key=SESSION_COOKIE, value="", path="/console", max_age=0)],
        )
