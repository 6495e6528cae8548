"""The Domains page: an account's sending domains, the DNS records each needs (with what
the last check found), verification on demand, DKIM key rotation, and the tracking and
one-click unsubscribe defaults of the domain's messages, and its reputation (with
"Resume sending" for a paused domain: :mod:`herald_service.console.domain_reputation`).

Verifying, rotating and changing the defaults are changes, so only admins may post them
(``check_request``); viewers see the defaults. They run the same use cases as
``POST /v1/domains/{id}/verify``, ``.../dkim/rotate`` and ``PATCH /v1/domains/{id}``.

Live status: until a domain (and a new DKIM key) is verified, its page asks for its status
part (``/live``) every few seconds; the answer is a 204 while nothing changed, so htmx
leaves the page alone. "Verify now" posted by htmx answers with that part too (and a
notice), so the result appears in place; without JavaScript it redirects as before.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.console.domain_reputation import reputation_view
from herald_service.console.web import (
    AccountRef,
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.core.states import DkimKeyStatus, DomainStatus, RecordStatus
from herald_service.domains.schemas import DomainOut, domain_out
from herald_service.domains.service import (
    get_domain,
    list_domains,
    rotate_dkim_keys,
    update_domain_defaults,
    verify_domain,
)
from herald_service.errors import HeraldError, NotFound
from herald_service.storage.models import Domain
from herald_service.storage.types import utcnow

DONE = {
    "verified": "Records checked.",
    "rotated": "New DKIM keys created: publish their records, then verify.",
    "tracking": "Tracking settings saved: the next messages from this domain follow them.",
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


def _watching(domain: DomainOut) -> bool:
    """Whether the page keeps refreshing: until the domain is verified and no new DKIM key
    from a rotation waits for its record."""
    return domain.status != DomainStatus.VERIFIED or any(
        k.status == DkimKeyStatus.PENDING for k in domain.dkim_keys
    )


def _live(account: AccountRef, domain: DomainOut, **extra: Any) -> dict[str, Any]:
    """What the status part of the page needs, with a stamp of what it shows."""
    stamp = hashlib.sha256(msgspec.json.encode(domain)).hexdigest()[:16]
    part = {"account": account, "domain": domain, "watching": _watching(domain), "stamp": stamp}
    return part | extra


def _checked_notice(domain: DomainOut) -> str:
    required = [r for r in domain.records if r.required]
    good = sum(r.status == RecordStatus.VERIFIED for r in required)
    at = domain.last_checked_at.strftime("%H:%M:%S") if domain.last_checked_at else "now"
    return f"Records checked at {at} UTC: {good} of {len(required)} required verified."


def _resumed_notice(request: Request[Any, Any, Any]) -> str:
    released = request.query_params.get("released", "0")
    count = int(released) if released.isdigit() else 0
    held = f"{count} held recipient{'' if count == 1 else 's'} released to the queue"
    return f"Sending resumed: sends are accepted again; {held}."


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
            row = await _domain(db, account, domain_id)
            domain = domain_out(row, context.settings)
            reputation = await reputation_view(db, context.settings, row)
        done = request.query_params.get("done", "")
        page = _live(
            account,
            domain,
            operator=operator,
            page="domains",
            done=_resumed_notice(request) if done == "resumed" else DONE.get(done, ""),
            reputation=reputation,
        )
        return Template("domain.html", context=page)

    @get("/{domain_id:str}/live")
    async def live(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Response[Any]:
        """The status part of the page; 204 when it still shows what ``seen`` stamps."""
        account = pick_account(operator, request.query_params.get("account"))
        if account is None:
            raise ConsoleError(404, "No such domain.")
        context = context_of(request)
        async with context.sessions() as db:
            domain = domain_out(await _domain(db, account, domain_id), context.settings)
        part = _live(account, domain)
        if request.query_params.get("seen") == part["stamp"]:
            return Response(content=None, status_code=204)
        return Template("domain_live.html", context=part)

    @post("/{domain_id:str}/verify", status_code=303)
    async def verify(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Response[Any]:
        """Look every record up now (admins only); to htmx, answer with the status part."""
        account = await _posted_account(request, operator)
        context = context_of(request)
        async with context.sessions.begin() as db:
            domain = await _domain(db, account, domain_id)
            await verify_domain(db, context.settings, context.resolver, domain, utcnow())
            checked = domain_out(domain, context.settings)
        context.sending_domains.forget(account.id)
        if request.headers.get("hx-request"):
            part = _live(account, checked, notice=_checked_notice(checked))
            return Template("domain_live.html", context=part)
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

    @post("/{domain_id:str}/tracking", status_code=303)
    async def tracking(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        domain_id: FromPath[str],
    ) -> Redirect:
        """Open tracking, click tracking and one-click unsubscribe on or off (admins only):
        a ticked box is on, an unticked one (absent from the form) off."""
        account = await _posted_account(request, operator)
        form = await request.form()
        context = context_of(request)
        async with context.sessions.begin() as db:
            await _domain(db, account, domain_id)
            await update_domain_defaults(
                db,
                account.id,
                domain_id,
                opens=form.get("opens") == "on",
                clicks=form.get("clicks") == "on",
                unsubscribe=form.get("unsubscribe") == "on",
            )
        context.sending_domains.forget_domain(domain_id)
        return _back(account, domain_id, "tracking")
