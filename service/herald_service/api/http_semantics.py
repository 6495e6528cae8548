"""HTTP details set right once for the whole app.

- An optional body (``data: JSONBody[X | None] = None``) is documented as required.
- The automatic ``OPTIONS`` answer lists only the methods of the first handler registered on
  a path (litestar-org/litestar#4169, fixed in Litestar 3): its ``Allow`` must name them all.
- A NUL in a path or query parameter reached PostgreSQL (which refuses NUL in text) as a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request
from litestar.openapi.spec import Operation, RequestBody
from litestar.routes import HTTPRoute

from herald_service.api.json_body import MalformedRequest
from herald_service.errors import FieldError


@dataclass
class OptionalBodyOperation(Operation):
    """An operation whose request body may be left out."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


def complete_allow_headers(app: Litestar) -> None:
    """Point each path's ``OPTIONS`` handler at the route that holds all its methods.

    The handler reads ``Allow`` from the route object it was created with; when a later
    handler of the same path is registered, Litestar builds a new route but keeps the old
    ``OPTIONS`` handler, which still sees the first route's methods.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name != "options_handler":
                continue
            for cell in handler.fn.__closure__ or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route


async def refuse_nul_in_url(request: Request[Any, Any, Any]) -> None:
    """A path or query parameter containing NUL is a 400 naming it (before any lookup).

    The common case costs two substring searches; names are looked up only on a hit.
    """
    if "\x00" not in request.scope["path"] and b"%00" not in request.scope["query_string"]:
        return
    named = [k for k, v in request.path_params.items() if "\x00" in str(v)]
    named += [k or '""' for k, v in request.query_params.multi_items() if "\x00" in k + v]
    errors = [FieldError(name, "NUL characters are not allowed") for name in dict.fromkeys(named)]
    if errors:
        raise MalformedRequest("the request has invalid fields: " + ", ".join(named), errors)
