"""The Webhooks page: an account's endpoints, their recent deliveries, and the admin actions
on them (create, enable, disable, delete, test event, secret rotation, replay).

Every change goes through ``webhooks.service``, so URLs get the same SSRF check as the API.
A new secret is rendered straight into the POST's answer (``no-store``), never put in a
redirect URL, so it is shown once and lands in no log or history.
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
from herald_service.console.webhook_views import delivery_rows, endpoint_row
from herald_service.core.states import WEBHOOK_EVENT_TYPES
from herald_service.errors import HeraldError, NotFound
from herald_service.storage.models import WebhookEndpoint
from herald_service.webhooks import service as webhooks

DELIVERY_PAGE = 25
DONE = {
    "enabled": "Endpoint enabled.",
    "disabled": "Endpoint disabled.",
    "deleted": "Endpoint deleted.",
    "tested": "Test event queued; it appears below once sent.",
    "replayed": "Delivery queued again.",
}


def _done(request: Request[Any, Any, Any]) -> str:
    return DONE.get(request.query_params.get("done", ""), "")


async def _find(
    db: AsyncSession, operator: Operator, webhook_id: str, requested: str | None
) -> tuple[AccountRef, WebhookEndpoint]:
    """The endpoint in the requested member account (or any member account); else 404."""
    picked = pick_account(operator, requested) if requested else None
    for account in (picked,) if picked else operator.accounts:
        try:
            return account, await webhooks.get_endpoint(db, account.id, webhook_id[:100])
        except NotFound:
            continue
    raise ConsoleError(404, "No such webhook endpoint.")


async def _posted(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    return {"account": str(form.get("account") or "") or None, "form": form}


def _to_endpoint(account: AccountRef, webhook_id: str, done: str) -> Redirect:
    query = urlencode({"account": account.id, "done": done})
    return Redirect(path=f"/console/webhooks/{webhook_id}?{query}", status_code=303)


class WebhooksController(Controller):
    """``/console/webhooks``."""

    path = "/webhooks"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The account's endpoints, oldest first, and (for admins) the form for a new one."""
        account = pick_account(operator, request.query_params.get("account"))
        endpoints: list[Any] = []
        if account is not None:
            async with context_of(request).sessions() as db:
                endpoints = [endpoint_row(e) for e in await webhooks.list_endpoints(db, account.id)]
        context = {
            "operator": operator,
            "page": "webhooks",
            "account": account,
            "endpoints": endpoints,
            "event_types": WEBHOOK_EVENT_TYPES,
            "done": _done(request),
        }
        return Template("webhooks.html", context=context)

    @post("/", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """Register an endpoint (admins only); its secret is shown in this answer only."""
        form = await request.form()
        account = pick_account(operator, str(form.get("account") or "") or None)
        if account is None:
            raise ConsoleError(404, "No such account.")
        herald = context_of(request)
        try:
            async with herald.sessions.begin() as db:
                endpoint, secret = await webhooks.create_endpoint(
                    db,
                    herald.settings,
                    herald.resolver,
                    account.id,
                    url=str(form.get("url") or "").strip()[:2048],
                    event_types=[str(t) for t in form.getall("event_types", [])][:20],
                    description=str(form.get("description") or "")[:600],
                )
        except HeraldError as exc:
            raise ConsoleError(exc.status, f"The endpoint was not created: {exc.detail}") from None
        await herald.webhook_endpoints.changed(account.id)
        return await _detail(request, operator, account, endpoint, secret=secret, status=201)

    @get("/{webhook_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
    ) -> Template:
        """One endpoint with its recent deliveries."""
        async with context_of(request).sessions() as db:
            account, endpoint = await _find(
                db, operator, webhook_id, request.query_params.get("account")
            )
        return await _detail(request, operator, account, endpoint)

    @post("/{webhook_id:str}/enable", status_code=303)
    async def enable(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
    ) -> Redirect:
        """Turn the endpoint on again (clears why it was disabled)."""
        return await _set_enabled(request, operator, webhook_id, enabled=True)

    @post("/{webhook_id:str}/disable", status_code=303)
    async def disable(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
    ) -> Redirect:
        """Stop sending events to the endpoint."""
        return await _set_enabled(request, operator, webhook_id, enabled=False)

    @post("/{webhook_id:str}/delete", status_code=303)
    async def delete(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
    ) -> Redirect:
        """Delete the endpoint and its delivery history."""
        posted = await _posted(request)
        herald = context_of(request)
        async with herald.sessions.begin() as db:
            account, endpoint = await _find(db, operator, webhook_id, posted["account"])
            await webhooks.delete_endpoint(db, endpoint)
        await herald.webhook_endpoints.changed(account.id)
        query = urlencode({"account": account.id, "done": "deleted"})
        return Redirect(path=f"/console/webhooks?{query}", status_code=303)

    @post("/{webhook_id:str}/test", status_code=303)
    async def test(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
    ) -> Redirect:
        """Queue a signed ``webhook.test`` event."""
        posted = await _posted(request)
        try:
            async with context_of(request).sessions.begin() as db:
                account, endpoint = await _find(db, operator, webhook_id, posted["account"])
                await webhooks.send_test(db, endpoint)
        except HeraldError as exc:
            raise ConsoleError(exc.status, "Enable the endpoint before testing it.") from None
        return _to_endpoint(account, endpoint.id, "tested")

    @post("/{webhook_id:str}/rotate-secret", status_code=200)
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
    ) -> Template:
        """A new signing secret, shown once; the old one keeps signing during the overlap."""
        posted = await _posted(request)
        herald = context_of(request)
        overlap = herald.settings.webhook_secret_overlap
        async with herald.sessions.begin() as db:
            account, endpoint = await _find(db, operator, webhook_id, posted["account"])
            secret = await webhooks.rotate_secret(db, herald.settings, endpoint, overlap)
        return await _detail(request, operator, account, endpoint, secret=secret)

    @post("/{webhook_id:str}/deliveries/{delivery_id:str}/replay", status_code=303)
    async def replay(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        webhook_id: FromPath[str],
        delivery_id: FromPath[str],
    ) -> Redirect:
        """Send a failed delivery again."""
        posted = await _posted(request)
        try:
            async with context_of(request).sessions.begin() as db:
                account, endpoint = await _find(db, operator, webhook_id, posted["account"])
                await webhooks.replay_delivery(db, endpoint, delivery_id[:100])
        except HeraldError as exc:
            raise ConsoleError(exc.status, f"Not replayed: {exc.detail}") from None
        return _to_endpoint(account, endpoint.id, "replayed")


async def _set_enabled(
    request: Request[Any, Any, Any], operator: Operator, webhook_id: str, *, enabled: bool
) -> Redirect:
    posted = await _posted(request)
    herald = context_of(request)
    async with herald.sessions.begin() as db:
        account, endpoint = await _find(db, operator, webhook_id, posted["account"])
        await webhooks.update_endpoint(
            db, herald.settings, herald.resolver, endpoint, enabled=enabled
        )
    await herald.webhook_endpoints.changed(account.id)
    return _to_endpoint(account, endpoint.id, "enabled" if enabled else "disabled")


async def _detail(
    request: Request[Any, Any, Any],
    operator: Operator,
    account: AccountRef,
    endpoint: WebhookEndpoint,
    *,
    secret: str | None = None,
    status: int = 200,
) -> Template:
    """The endpoint page, with ``secret`` when it was just created or rotated."""
    async with context_of(request).sessions() as db:
        rows, _ = await webhooks.list_deliveries(db, endpoint, limit=DELIVERY_PAGE)
        bodies = await webhooks.sent_bodies(db, rows)
    context = {
        "operator": operator,
        "page": "webhooks",
        "account": account,
        "endpoint": endpoint_row(endpoint),
        "deliveries": delivery_rows(rows, bodies),
        "secret": secret,
        "done": _done(request) if secret is None else "",
    }
    return Template("webhook.html", context=context, status_code=status)
