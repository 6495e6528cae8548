"""The Queue page: an account's mail waiting to go (``herald queue`` in the console).

Waiting recipients (queued, deferred, held by a paused domain, scheduled) are counted per
recipient domain and status, beside the rate traffic shaping allows there now (halved
after a "slow down" reply, until when), a reputation cool-down suspending it and the last
reply (:mod:`herald_service.shaping.service`), then listed a page at a time, the soonest
due first, with their attempts, last reply and next attempt. Admins may make deferred mail
due now (all of it, or one recipient domain's: Postfix's ``postqueue -f`` / ``-s``), retry
one message or cancel one that has not started; these are the use cases of
``POST /v1/messages/retry``, ``/v1/messages/{id}/retry`` and ``/v1/messages/{id}/cancel``,
kept to the account the form names, so another account's message is a 404.
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
from herald_service.messages.service import (
    WAITING,
    cancel_message,
    retry_deferred,
    retry_message,
    waiting,
)
from herald_service.shaping.service import destinations_view

PAGE_SIZE = 50
MAX_PAGE = 1000  # an offset beyond 50,000 rows is a question for ``herald queue list``
STATUSES = tuple(s.value for s in WAITING)


def _filters(values: Any) -> dict[str, str]:
    """The list's filters from a query or a form: a waiting status, a recipient domain;
    anything else is dropped rather than refused (they only narrow what is shown)."""
    status = str(values.get("status") or "")
    domain = str(values.get("domain") or "").strip().lower()[:253]
    return {"status": status if status in STATUSES else "", "domain": domain}


def _page_number(value: str | None) -> int:
    return min(int(value), MAX_PAGE) if value and value.isdigit() and int(value) > 0 else 1


def _done(query: Any) -> str:
    done, count = query.get("done", ""), query.get("count", "")
    if done == "retried":
        noun = "recipient" if count == "1" else "recipients"
        return f"{count or 0} deferred {noun} due now: the workers' next sweep queues them."
    if done == "message-retried":
        return "The message's deferred recipients are due now."
    if done == "canceled":
        return "Message canceled: its waiting recipients will not be sent."
    return ""


async def _posted(request: Request[Any, Any, Any], operator: Operator) -> tuple[AccountRef, Any]:
    form = await request.form()
    account = pick_account(operator, str(form.get("account") or "") or None)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account, form


def _back(account: AccountRef, form: Any, done: str, count: int | None = None) -> Redirect:
    query = {"account": account.id, **{k: v for k, v in _filters(form).items() if v}}
    query["done"] = done
    if count is not None:
        query["count"] = str(count)
    return Redirect(path=f"/console/queue?{urlencode(query)}", status_code=303)


class QueueController(Controller):
    """``/console/queue``."""

    path = "/queue"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The counts per recipient domain and one page of the waiting recipients."""
        query = request.query_params
        account = pick_account(operator, query.get("account"))
        filters = _filters(query)
        number = _page_number(query.get("page"))
        rows: list[dict[str, Any]] = []
        domains: dict[str, dict[str, int]] = {}
        shaping: dict[str, Any] = {}
        if account is not None:
            herald = context_of(request)
            async with herald.sessions() as db:
                for row in await destinations_view(
                    db, herald.settings, herald.quota_redis, account.id
                ):
                    shaping[row.domain] = row
                    domains[row.domain] = {s: getattr(row, s, 0) for s in STATUSES}
                rows = await waiting(
                    db,
                    filters["status"] or None,
                    filters["domain"] or None,
                    account.id,
                    PAGE_SIZE + 1,  # one more tells whether there is a next page
                    (number - 1) * PAGE_SIZE,
                )
        shown = {k: v for k, v in filters.items() if v}
        base = {"account": account.id, **shown} if account else shown
        context = {
            "operator": operator,
            "page": "queue",
            "account": account,
            "statuses": STATUSES,
            "domains": domains,
            "shaping": shaping,
            "totals": {s: sum(c.get(s, 0) for c in domains.values()) for s in STATUSES},
            "rows": rows[:PAGE_SIZE],
            "filters": filters,
            "number": number,
            "previous": urlencode({**base, "page": number - 1}) if number > 1 else None,
            "next": urlencode({**base, "page": number + 1}) if len(rows) > PAGE_SIZE else None,
            "done": _done(query),
        }
        return Template("queue.html", context=context)

    @post("/retry", status_code=303)
    async def retry_all(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Make the account's deferred recipients due now, or one recipient domain's."""
        account, form = await _posted(request, operator)
        domain = _filters(form)["domain"] or None
        async with context_of(request).sessions.begin() as db:
            count = await retry_deferred(db, account.id, domain)
        return _back(account, form, "retried", count)

    @post("/messages/{message_id:str}/retry", status_code=303)
    async def retry_one(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Redirect:
        """Make one message's deferred recipients due now; 409 when none is deferred."""
        account, form = await _posted(request, operator)
        try:
            async with context_of(request).sessions.begin() as db:
                await retry_message(db, account.id, message_id)
        except HeraldError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        return _back(account, form, "message-retried")

    @post("/messages/{message_id:str}/cancel", status_code=303)
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Redirect:
        """Cancel the message's recipients that have not started; 409 once all have."""
        account, form = await _posted(request, operator)
        herald = context_of(request)
        try:
            await cancel_message(herald.sessions, account.id, message_id, herald.webhook_endpoints)
        except HeraldError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        return _back(account, form, "canceled")
