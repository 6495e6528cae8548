"""The Blocklists page: each sending IP's standing on each DNSBL zone, as the workers'
last checks found it (``GET /v1/ip-listings`` in the console).

Sending IPs are the server's and already public (every domain's SPF record names them),
so every signed-in user sees the page; it changes nothing.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from herald_service.blocklists.service import listings
from herald_service.console.web import Operator, context_of, provide_operator


class BlocklistsController(Controller):
    """``/console/blocklists``."""

    path = "/blocklists"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """Every sending IP, whether it is in rotation, and its standing per zone."""
        context = context_of(request)
        async with context.sessions() as db:
            shown = await listings(db, context.settings)
        page = {"operator": operator, "page": "blocklists", "listings": shown}
        return Template("blocklists.html", context=page)
