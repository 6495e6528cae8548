"""The Scheduled page: an account's messages waiting for their ``send_at``, and cancel.

Canceling is a change, so only admins may post it (``check_request``); it asks first, on
a page of its own, as revoking a key does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from herald_service.console.web import (
    AccountRef,
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.errors import HeraldError
from herald_service.messages.service import cancel_message, get_message, scheduled_messages

DONE = {"canceled": "Message canceled: it will not be sent."}


def _account(operator: Operator, account_id: str | None) -> AccountRef:
    account = pick_account(operator, account_id)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account


class ScheduledController(Controller):
    """``/console/scheduled``."""

    path = "/scheduled"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The account's scheduled messages, the soonest due first."""
        account = pick_account(operator, request.query_params.get("account"))
        rows: list[Any] = []
        if account is not None:
            async with context_of(request).sessions() as db:
                rows = list(await scheduled_messages(db, account.id))
        context = {
            "operator": operator,
            "page": "scheduled",
            "account": account,
            "rows": rows,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        }
        return Template("scheduled.html", context=context)

    @get("/{message_id:str}/cancel")
    async def confirm_cancel(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Template:
        """Ask before canceling: a canceled message cannot be scheduled again."""
        account = _account(operator, request.query_params.get("account"))
        try:
            async with context_of(request).sessions() as db:
                message = await get_message(db, account.id, message_id)
        except HeraldError:
            raise ConsoleError(404, "No such message.") from None
        context = {
            "operator": operator,
            "page": "scheduled",
            "account": account,
            "message": message,
            "scheduled": any(r.status == "scheduled" for r in message.recipients),
        }
        return Template("scheduled_cancel.html", context=context)

    @post("/{message_id:str}/cancel", status_code=303)
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Redirect:
        """Cancel the message (admins only); 409 once it has started."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        herald = context_of(request)
        try:
            await cancel_message(herald.sessions, account.id, message_id, herald.webhook_endpoints)
        except HeraldError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        query = urlencode({"account": account.id, "done": "canceled"})
        return Redirect(path=f"/console/scheduled?{query}", status_code=303)
