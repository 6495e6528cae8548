"""The Activity page: an account's messages, newest first, filtered, live-updating.

The page shows one member account at a time (the ``account`` parameter; the first by
name when absent); any other account id is a 404, exactly as an unknown one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from herald_service.console.web import (
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.core.states import RecipientStatus, summarize
from herald_service.errors import HeraldError
from herald_service.messages.service import MessageFilter, get_message, search_messages
from herald_service.storage.models import Message

PAGE_SIZE = 50
STATUSES = tuple(s.value for s in RecipientStatus)
FIELDS = ("status", "tag", "domain", "recipient", "since", "until", "q")


class Row(msgspec.Struct, frozen=True):
    """One message as a table row."""

    id: str
    status: str
    sender: str
    to: str
    subject: str
    at: datetime
    tags: list[str]


def _row(message: Message) -> Row:
    recipients = message.recipients
    return Row(
        id=message.id,
        status=summarize(r.status for r in recipients),
        sender=message.from_email,
        to=", ".join(r.email for r in recipients if r.kind == "to") or "—",
        subject=message.subject,
        at=message.created_at,
        tags=list(message.tags),
    )


def _time(name: str, raw: str) -> datetime | None:
    """A ``datetime-local`` value (taken as UTC) or an ISO timestamp; a 422 page if not."""
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        message = f"{name} is not a date and time such as 2026-05-01T12:00."
        raise ConsoleError(422, message) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _filters(params: dict[str, str]) -> tuple[MessageFilter, str]:
    """The search filter of the query parameters, and a message id to look up, if any."""
    query = params["q"].strip()
    status = params["status"]
    if status and status not in STATUSES:
        raise ConsoleError(422, f"status must be one of {', '.join(STATUSES)}.")
    recipient = params["recipient"].strip() or (query if "@" in query else "")
    message_id = query if query and "@" not in query else ""
    filters = MessageFilter(
        recipient=recipient or None,
        status=status or None,
        tag=params["tag"].strip() or None,
        sender_domain=params["domain"].strip() or None,
        since=_time("From", params["since"]),
        until=_time("Until", params["until"]),
    )
    return filters, message_id


async def _page(
    request: Request[Any, Any, Any], operator: NamedDependency[Operator]
) -> dict[str, Any]:
    """The template context of the page or its rows fragment."""
    params = {f: request.query_params.get(f, "")[:400] for f in FIELDS}
    account = pick_account(operator, request.query_params.get("account"))
    if account is None:
        return {"operator": operator, "page": "activity", "account": None, **params}
    filters, message_id = _filters(params)
    cursor = request.query_params.get("cursor") or None
    async with context_of(request).sessions() as db:
        try:
            if message_id:
                messages, next_cursor = [await get_message(db, account.id, message_id)], None
            else:
                messages, next_cursor = await search_messages(
                    db, account.id, filters, cursor=cursor, limit=PAGE_SIZE
                )
        except HeraldError as exc:
            if exc.status != 404:
                raise ConsoleError(exc.status, exc.detail) from None
            messages, next_cursor = [], None
        rows = [_row(m) for m in messages]
    kept = {"account": account.id} | {k: v for k, v in params.items() if v}
    return {
        "operator": operator,
        "page": "activity",
        "rows_query": urlencode(kept),
        "account": account,
        "rows": rows,
        "next": next_cursor,
        "statuses": STATUSES,
        "live": cursor is None,
        **params,
    }


class ActivityController(Controller):
    """``/console``: the Activity page and the fragment htmx polls."""

    path = "/"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def activity(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The whole page."""
        return Template("activity.html", context=await _page(request, operator))

    @get("/activity/rows")
    async def rows(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The table body alone, polled every few seconds while the first page is shown."""
        return Template("activity_rows.html", context=await _page(request, operator))
