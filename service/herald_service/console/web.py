"""What every console request shares: security headers, cookies, the signed-in operator,
CSRF and role checks, and the HTML answers to errors.

Cookies are ``Secure`` unless the request came over plain HTTP to localhost (a developer's
``herald dev``; browsers treat localhost as a secure context anyway) or
``HERALD_CONSOLE_INSECURE_COOKIES`` is set. Behind a TLS-terminating proxy the scheme the
app sees may be ``http``, but the host is then not localhost, so the cookie stays Secure.
"""

from __future__ import annotations

import hmac
import time
from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.response import Redirect, Template
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.api.context import ApiContext
from herald_service.api.nul_guard import refuse_nul
from herald_service.console.service import find_account, member_accounts
from herald_service.console.sessions import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    ConsoleSession,
    SessionStore,
)
from herald_service.errors import HeraldError
from herald_service.inbox.service import has_sandbox_messages
from herald_service.keys.service import find_live_key, unrestricted
from herald_service.storage.models import User

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
SIGN_IN_PATH = "/console/sign-in"
KEY_SIGN_IN_PATH = "/console/sign-in/key"


class AccountRef(msgspec.Struct, frozen=True):
    """An account as the console names it."""

    id: str
    name: str


class Operator(msgspec.Struct, frozen=True):
    """The signed-in user of a request, with the accounts they may see. Signed in with an
    API key, ``key_id`` names the key, ``user_id`` is empty and ``email`` labels the key."""

    user_id: str
    email: str
    role: str
    accounts: tuple[AccountRef, ...]
    csrf: str
    key_id: str | None = None
    # Whether the nav offers the inbox: capture mode, or sandbox messages to show.
    inbox: bool = False


class ConsoleError(Exception):
    """An error shown as a console page with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def pick_account(operator: Operator, requested: str | None) -> AccountRef | None:
    """The member account ``requested`` (default: the first by name); any other id is a
    404, exactly like one that does not exist."""
    if requested:
        for account in operator.accounts:
            if account.id == requested:
                return account
        raise ConsoleError(404, "No such account.")
    return operator.accounts[0] if operator.accounts else None


async def add_security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every response under ``/console`` carries the strict CSP,
    unless its handler chose a stricter one of its own (the message preview), and a page
    its own time as ``Server-Timing: app;dur=<ms>`` (from :func:`check_request` on).

    A coroutine function, though it awaits nothing: Litestar runs a plain function hook in
    a worker thread, twice per response (start and body) of every route."""
    if message["type"] != "http.response.start" or not scope["path"].startswith("/console"):
        return
    headers = MutableScopeHeaders.from_message(message)
    started = scope.get("state", {}).get("console_started")
    if started is not None and "server-timing" not in headers:
        headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if not scope["path"].startswith("/console/static/"):
        headers["cache-control"] = "no-store"


def context_of(request: Request[Any, Any, Any]) -> ApiContext:
    """The process-wide API context."""
    context: ApiContext = request.app.state.herald
    return context


def sessions(request: Request[Any, Any, Any]) -> SessionStore:
    """The session store of this process."""
    context = context_of(request)
    return SessionStore(context.quota_redis, context.settings.console_session_lifetime)


def secure_cookies(request: Request[Any, Any, Any]) -> bool:
    """Whether cookies get the ``Secure`` attribute (see the module docstring)."""
    if context_of(request).settings.console_insecure_cookies:
        return False
    return not (request.url.scheme == "http" and (request.url.hostname or "") in LOCAL_HOSTS)


def safe_next(value: str | None) -> str:
    """``value`` when it is a path inside the console, else the console's home: never a
    redirect to another site (``//evil``, ``/\\evil``, ``https://...``)."""
    if not value or "\\" in value or any(ord(c) < 0x20 for c in value):
        return "/console"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return "/console"
    if parts.path != "/console" and not parts.path.startswith("/console/"):
        return "/console"
    return value


async def current_session(request: Request[Any, Any, Any]) -> ConsoleSession | None:
    """The request's session (looked up once per request)."""
    if "console_session" not in request.state:
        token = request.cookies.get(SESSION_COOKIE)
        request.state.console_session = await sessions(request).load(token)
    session: ConsoleSession | None = request.state.console_session
    return session


async def provide_operator(request: Request[Any, Any, Any]) -> Operator:
    """The signed-in operator; without a session, :class:`SignInRequired`."""
    session = await current_session(request)
    if session is not None and session.key_id is not None:
        if operator := await _key_operator(request, session.key_id, session.csrf):
            return operator
    elif session is not None:
        context = context_of(request)
        async with context.sessions() as db:
            user = await db.get(User, session.user_id)
            accounts = await member_accounts(db, session.user_id) if user else []
            inbox = await _offers_inbox(context, db, [a.id for a in accounts])
        if user is not None:
            refs = tuple(AccountRef(a.id, a.name) for a in accounts)
            return Operator(user.id, user.email, user.role, refs, session.csrf, inbox=inbox)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise SignInRequired(target)


async def _key_operator(request: Request[Any, Any, Any], key_id: str, csrf: str) -> Operator | None:
    """The admin operator of a key session, read afresh on every request: a key that was
    revoked or restricted (or key sign-in turned off) ends the session at once."""
    context = context_of(request)
    if not context.settings.console_key_sign_in:
        return None
    async with context.sessions() as db:
        key = await find_live_key(db, key_id)
        account = await find_account(db, key.account_id) if key else None
        inbox = await _offers_inbox(context, db, [account.id] if account else [])
    if key is None or account is None or not unrestricted(key):
        return None
    label = f"API key {key.name or key.id}"
    refs = (AccountRef(account.id, account.name),)
    return Operator("", label, "admin", refs, csrf, key.id, inbox)


async def _offers_inbox(context: ApiContext, db: AsyncSession, account_ids: list[str]) -> bool:
    """Whether the nav offers the inbox: in capture mode, or with sandbox messages to show."""
    if context.settings.delivery_mode == "capture":
        return True
    return await has_sandbox_messages(db, account_ids)


async def check_request(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the console (it replaces the API's, so it refuses NULs too):
    a state-changing request needs the CSRF token of its session (or, for the sign-in
    form, of the pre-session cookie); a viewer may only sign out. It runs first, so it
    starts the clock of the ``Server-Timing`` header."""
    request.state.console_started = time.perf_counter()
    try:
        await refuse_nul(request)
    except HeraldError as exc:
        raise ConsoleError(400, exc.detail) from None
    if request.method not in UNSAFE_METHODS:
        return
    if b"%00" in await request.body():
        raise ConsoleError(400, "NUL characters are not allowed.")
    form = await request.form()
    presented = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
    if request.url.path in (SIGN_IN_PATH, KEY_SIGN_IN_PATH):
        expected = request.cookies.get(PRE_SESSION_COOKIE, "")
    else:
        session = await current_session(request)
        expected = session.csrf if session else ""
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise ConsoleError(403, "This form has expired or did not come from the console.")
    if request.route_handler.opt.get("any_role"):
        return
    operator = await provide_operator(request)
    if operator.role != "admin":
        raise ConsoleError(403, "Viewers cannot change anything; ask an admin.")


def render_error(request: Request[Any, Any, Any], exc: ConsoleError) -> Response[Any]:
    """A console error as a page with its status."""
    return Template(
        template_name="error.html",
        context={"status": exc.status, "message": exc.message, "operator": None},
        status_code=exc.status,
        headers=exc.headers,
    )


def redirect_to_sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    """Send the browser to sign in, coming back to where it was going."""
    target = f"{SIGN_IN_PATH}?next={quote(safe_next(exc.next_path), safe='/')}"
    if request.headers.get("hx-request"):
        return Response(b"", status_code=401, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


CONSOLE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ConsoleError: render_error,
    SignInRequired: redirect_to_sign_in,
}
