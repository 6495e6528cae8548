"""The IP pools page: the server's sending IPs by pool, with each warming IP's day of its
schedule and today's count against its cap (``GET /v1/ip-pools`` in the console).

Pools and IPs are shared by every account, so every member may look; starting or ending
a warm-up is the operator's act: the buttons are shown to, and accepted from, admins of
an operator account only (``HERALD_OPERATOR_ACCOUNTS``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Template

from herald_service.console.web import ConsoleError, Operator, context_of, provide_operator
from herald_service.ip_pools.schemas import ip_pool_out
from herald_service.ip_pools.service import is_operator, list_pools, set_warmup

DONE = {
    "started": "Warm-up started: day 1 is today (UTC).",
    "stopped": "Warm-up ended: the IP takes mail without a cap.",
}


def _operates(request: Request[Any, Any, Any], operator: Operator) -> bool:
    settings = context_of(request).settings
    return any(is_operator(settings, a.id) for a in operator.accounts)


class IpPoolsController(Controller):
    """``/console/ip-pools``."""

    path = "/ip-pools"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """Every pool with its IPs and their warm-up today."""
        context = context_of(request)
        async with context.sessions() as db:
            pools = [ip_pool_out(p) for p in await list_pools(db, context.settings)]
        page = {
            "operator": operator,
            "page": "ip-pools",
            "pools": pools,
            "configured": bool(context.settings.sending_ips),
            "schedule_days": len(context.settings.warmup_schedule),
            "operates": _operates(request, operator),
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("ip_pools.html", context=page)

    @post("/warmup", status_code=303)
    async def warmup(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Start or end an IP's warm-up (admins of an operator account only)."""
        if not _operates(request, operator):
            raise ConsoleError(403, "Only the operators of this server may change warm-ups.")
        context = context_of(request)
        form = await request.form()
        address = str(form.get("address") or "")[:45]
        if address not in context.settings.sending_ips:
            raise ConsoleError(404, "That is not one of this server's sending IPs.")
        start = form.get("action") == "start"
        async with context.sessions.begin() as db:
            await set_warmup(db, context.settings, address, warming=start)
        query = urlencode({"done": "started" if start else "stopped"})
        return Redirect(path=f"/console/ip-pools?{query}", status_code=303)
