"""The public tracking endpoints: ``/t/c/<token>`` (click), ``/t/o/<token>`` (open pixel)
and ``/u/<token>`` (one-click unsubscribe). No API key: the signed token is the only
credential, and a token that does not verify is a 404, never a redirect."""

from __future__ import annotations

import base64
import string
from html import escape
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.errors import FieldError, HeraldError, NotFound
from herald_service.tracking.recording import Visit
from herald_service.tracking.unsubscribe import offers_unsubscribe, unsubscribe

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_URL_SAFE = string.punctuation  # keep every ASCII character a URL may hold; encode the rest
_TAGS = ["tracking"]
_NOT_FOUND_PAGE = {
    404: ResponseSpec(
        str,
        media_type="text/html",
        description="The token does not verify, or its message offers no unsubscribe",
        generate_examples=False,
    )
}


def _visit(request: Request[Any, Any, Any]) -> Visit:
    client = request.client
    return Visit(
        method=request.method,
        user_agent=request.headers.get("user-agent", ""),
        ip=client.host if client is not None else "",
    )


def _context(request: Request[Any, Any, Any]) -> ApiContext:
    context: ApiContext = request.app.state.herald
    return context


@route(
    "/t/c/{token:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    summary="Follow a tracked link",
    description="Records `message.clicked` and redirects (302) to the link's original URL; "
    "404 for a token that does not verify. Public: no API key.",
    tags=_TAGS,
    status_code=302,
    responses=problem_responses(404),
)
async def follow_link(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """302 to the original URL of a tracked link."""
    url = await _context(request).tracking.click(token, _visit(request))
    if url is None:
        raise NotFound("no such link")
    return Response(b"", status_code=302, headers={**NO_STORE, "Location": quote(url, _URL_SAFE)})


@get(
    "/t/o/{token:str}",
    summary="Open-tracking pixel",
    description="A 1x1 transparent GIF; records `message.opened` at most once per recipient "
    "per hour. Public: no API key.",
    tags=_TAGS,
    media_type="image/gif",
    responses=problem_responses(404),
)
async def open_pixel(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """The pixel, uncached, with the open recorded."""
    if not await _context(request).tracking.open(token, _visit(request)):
        raise NotFound("no such message")
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/console/static/console.css"></head>'
        f'<body><main class="unsubscribe"><h1>{escape(title)}</h1>{body}</main></body></html>'
    )
    headers = {**NO_STORE, "Content-Security-Policy": PAGE_POLICY}
    return Response(html, status_code=status, media_type="text/html", headers=headers)


async def _offered(request: Request[Any, Any, Any], token: str) -> Any:
    recorder = _context(request).tracking
    ref = recorder.token(token, "u")
    message = await recorder.message(ref.message_id) if ref is not None else None
    return message if offers_unsubscribe(message) else None


@get(
    "/u/{token:str}",
    summary="One-click unsubscribe page",
    description="A confirmation page with a button; it never unsubscribes by itself (mail "
    "scanners prefetch links). Public: no API key.",
    tags=_TAGS,
    media_type="text/html",
    responses=_NOT_FOUND_PAGE,
)
async def unsubscribe_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Ask before unsubscribing."""
    message = await _offered(request, token)
    if message is None:
        return _page("Link not found", "<p>This unsubscribe link is not valid.</p>", 404)
    form = (
        f"<p>Stop receiving these emails at <strong>{escape(message.recipient)}</strong>?</p>"
        f'<form method="post" action="/u/{escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page("Unsubscribe", form)


@post(
    "/u/{token:str}",
    summary="One-click unsubscribe (RFC 8058)",
    description="With the form field `List-Unsubscribe=One-Click`: suppresses the recipient "
    "(reason `unsubscribe`) and records `message.unsubscribed`. 200, no cookies, no redirect. "
    "Public: no API key.",
    tags=_TAGS,
    media_type="text/html",
    status_code=200,
    responses={**_NOT_FOUND_PAGE, **problem_responses(400)},
)
async def one_click_unsubscribe(
    request: Request[Any, Any, Any], token: FromPath[str], herald: NamedDependency[ApiContext]
) -> Response[str]:
    """Unsubscribe at once (what mailbox providers' unsubscribe buttons call)."""
    message = await _offered(request, token)
    if message is None:
        return _page("Link not found", "<p>This unsubscribe link is not valid.</p>", 404)
    form = await request.form()
    if form.get("List-Unsubscribe") != "One-Click":
        problem = "the body must be List-Unsubscribe=One-Click (RFC 8058)"
        raise HeraldError(problem, [FieldError("List-Unsubscribe", problem)])
    await unsubscribe(herald.sessions, message, "one-click", herald.webhook_endpoints)
    text = f"<p>{escape(message.recipient)} will receive no more of these emails.</p>"
    return _page("You are unsubscribed", text)


TRACKING_ROUTES = [follow_link, open_pixel, unsubscribe_page, one_click_unsubscribe]
