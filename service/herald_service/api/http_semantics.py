"""HTTP details set right once for the whole app.

- An optional body (``data: JSONBody[X | None] = None``) is documented as required.
- The automatic ``OPTIONS`` answer lists only the methods of the first handler registered on
  a path (litestar-org/litestar#4169, fixed in Litestar 3): its ``Allow`` must name them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar
from litestar.openapi.spec import Operation, RequestBody
from litestar.routes import HTTPRoute


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
