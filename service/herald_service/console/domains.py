"""The Domains page: an account's sending domains, the DNS records each needs (with what
the last check found), verification on demand and DKIM key rotation.

Verifying and rotating are changes, so only admins may post them (``check_request``).
They run the same use cases as ``POST /v1/domains/{id}/verify`` and ``.../dkim/rotate``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.console.web import (
    AccountRef,
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.domains.schemas import DomainOut, domain_out
from herald_service.domains.service import (
    get_domain,
    list_domains,
    rotate_dkim_keys,
    verify_domain,
)
from herald_service.errors import HeraldError, NotFound
from herald_service.storage.models import Domain
from herald_service.storage.types import utcnow

DONE = {
    "verified": "Records checked.",
    "rotated": "New DKIM keys created: publish their records, then verify.",
}


async def _domain(db: AsyncSession, account: AccountRef, domain_id: str) -> Domain:
    """The account's domain ``domain_id``; any other is a 404."""
    try:
        return await get_domain(db, account.id, domain_id)
    except NotFound:
        raise ConsoleError(404, "No such domain.") from None


def _back(account: AccountRef, domain_id: str, done: str) -> Redirect:
    query = urlencode({"account": account.id, "done": done})
    return Redirect(path=f"/console/domains/{domain_id}?{query}", status_code=303)


async def _posted_account(request: Request[Any, Any, Any], operator: Operator) -> AccountRef:
    form = await request.form()
    account = pick_account(operator, str(form.get("account") or "") or None)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account


class DomainsController(Controller):
    """``/console/domains``."""

    path = "/domains"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The account's domains with their status."""
        account = pick_account(operator, request.query_params.get("account"))
        domains: list[DomainOut] = []
        if account is not None:
            context = context_of(request)
            async with context.sessions() as db:
                rows = await list_domains(db, account.id)
                domains = [domain_out(d, context.settings) for d in rows]
        page = {"operator": operator, "page": "domains", "account": account, "domains": domains}
        return Template("domains.html", context=page)

    @get("/{domain_id:str}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Template:
        """The records to publish, the DKIM keys and the DMARC progression."""
        account = pick_account(operator, request.query_params.get("account"))
        if account is None:
            raise ConsoleError(404, "No such domain.")
        context = context_of(request)
        async with context.sessions() as db:
            domain = domain_out(await _domain(db, account, domain_id), context.settings)
        page = {
            "operator": operator,
            "page": "domains",
            "account": account,
            "domain": domain,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("domain.html", context=page)

    @post("/{domain_id:str}/verify", status_code=303)
    async def verify(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Redirect:
        """Look every record up now (admins only)."""
        account = await _posted_account(request, operator)
        context = context_of(request)
        async with context.sessions.begin() as db:
            domain = await _domain(db, account, domain_id)
            await verify_domain(db, context.settings, context.resolver, domain, utcnow())
        context.sending_domains.forget(account.id)
        return _back(account, domain_id, "verified")

    @post("/{domain_id:str}/rotate", status_code=303)
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Redirect:
        """New DKIM keys under a new selector, pending until verified (admins only)."""
        account = await _posted_account(request, operator)
        context = context_of(request)
        try:
            async with context.sessions.begin() as db:
                await rotate_dkim_keys(db, context.settings, account.id, domain_id)
        except HeraldError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        context.sending_domains.forget(account.id)
        return _back(account, domain_id, "rotated")
