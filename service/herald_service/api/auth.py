"""Bearer API key authentication and scope checks, as a Litestar guard."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from herald_service.api.context import ApiContext
from herald_service.errors import Forbidden, Unauthorized
from herald_service.services.api_keys import AuthContext


async def require_api_key(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Authenticate the request; refuse it unless the key has the handler's ``scope``."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing, malformed or unknown API key")
    context: ApiContext = connection.app.state.herald
    auth = await context.authenticator.authenticate(token.strip())
    scope = handler.opt.get("scope")
    if scope and scope not in auth.scopes:
        raise Forbidden(f"this API key lacks the '{scope}' scope")
    connection.state.auth = auth


def provide_auth(request: Request[Any, Any, Any]) -> AuthContext:
    """The authenticated caller (set by :func:`require_api_key`)."""
    auth: AuthContext = request.state.auth
    return auth


def provide_context(request: Request[Any, Any, Any]) -> ApiContext:
    """The process-wide :class:`ApiContext`."""
    context: ApiContext = request.app.state.herald
    return context
