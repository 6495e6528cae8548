"""The Inbox page: what the capture SMTP server received (``HERALD_DELIVERY_MODE=capture``)
and the sandbox messages (accepted, never delivered), newest first, live-updating,
searchable; each opens in the Message page's view with a Check tab; admins delete all.

One member account at a time, as on Activity: a captured copy belongs to the account of
the Herald message it is a copy of (linked by the capture server), so another account's
copy, or mail Herald did not send, is a 404 like an unknown id. Outside capture mode
nothing is captured, but sandbox messages still are the inbox: the nav offers it whenever
there is something it could show (``Operator.inbox``).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from herald_service.console.message_page import PREVIEW_CSP, PREVIEW_CSP_REMOTE_IMAGES
from herald_service.console.message_view import preview_html, view_message
from herald_service.console.web import (
    AccountRef,
    ConsoleError,
    Operator,
    context_of,
    pick_account,
    provide_operator,
)
from herald_service.domains.service import dkim_key_records
from herald_service.errors import HeraldError
from herald_service.inbox.schemas import InboxItem, inbox_item, with_from_header
from herald_service.inbox.service import (
    CAPTURED,
    HEAD_BYTES,
    SANDBOX,
    clear_inbox,
    inbox_captured,
    inbox_sandbox,
    list_inbox,
    number,
)
from herald_service.messages.service import check_source, get_message
from herald_service.storage.types import utcnow

PAGE_SIZE = 50
TABS = ("html", "text", "source", "check")
DONE = {"deleted": "The inbox is empty."}


def _account(operator: Operator, requested: str | None) -> AccountRef:
    account = pick_account(operator, requested)
    if account is None:
        raise ConsoleError(404, "No such account.")
    return account


async def _list(request: Request[Any, Any, Any], operator: Operator) -> dict[str, Any]:
    """The template context of the page or its rows fragment."""
    account = pick_account(operator, request.query_params.get("account"))
    capture = context_of(request).settings.delivery_mode == "capture"
    base = {"operator": operator, "page": "inbox", "account": account, "capture": capture}
    if account is None:
        return base
    q = request.query_params.get("q", "")[:400]
    cursor = request.query_params.get("cursor") or None
    async with context_of(request).sessions() as db:
        try:
            rows, next_cursor = await list_inbox(db, account.id, q, cursor, PAGE_SIZE)
        except HeraldError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
    kept = {"account": account.id} | ({"q": q} if q else {})
    return base | {
        "rows": rows,
        "next": next_cursor,
        "q": q,
        "rows_query": urlencode(kept),
        "live": cursor is None,
        "done": DONE.get(request.query_params.get("done", ""), ""),
    }


class Opened(NamedTuple):
    """One message of the inbox as its page needs it."""

    item: InboxItem
    account: AccountRef
    records: dict[str, str]  # the sending domain's DKIM records, to verify without DNS
    raw: bytes


async def _open(request: Request[Any, Any, Any], operator: Operator, kind: str, ref: str) -> Opened:
    """One message of the operator's accounts' inboxes; else a 404."""
    ids = [a.id for a in operator.accounts]
    async with context_of(request).sessions() as db:
        try:
            if kind == CAPTURED and (copy_number := number(ref)) is not None:
                copy = await inbox_captured(db, ids, copy_number)
                message = await get_message(db, copy.account_id or "", copy.message_id or "")
                raw, at, to = copy.raw, copy.received_at, copy.rcpt_tos
            elif kind == SANDBOX:
                message = await inbox_sandbox(db, ids, ref)
                raw, at = message.raw, message.created_at
                to = [r.email for r in message.recipients if r.kind == "to"]
            else:
                raise ConsoleError(404, "No such message.")
        except HeraldError:
            raise ConsoleError(404, "No such message.") from None
        records = await dkim_key_records(db, message.domain_id)
    item = inbox_item(
        kind, ref, at, message.id, len(raw), message.from_email, to, message.subject, message.tags
    )
    item = with_from_header(item, raw[:HEAD_BYTES])
    account = next(a for a in operator.accounts if a.id == message.account_id)
    return Opened(item, account, records, raw)


class InboxPageController(Controller):
    """``/console/inbox``: the list, its rows fragment, one message, delete all."""

    path = "/inbox"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The whole page."""
        return Template("inbox.html", context=await _list(request, operator))

    @get("/rows")
    async def rows(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The table body alone, polled every few seconds while the first page is shown."""
        return Template("inbox_rows.html", context=await _list(request, operator))

    @get("/delete")
    async def confirm_delete(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """Ask before emptying the inbox (admins only)."""
        if operator.role != "admin":
            raise ConsoleError(403, "Viewers cannot change anything; ask an admin.")
        account = _account(operator, request.query_params.get("account"))
        context = {"operator": operator, "page": "inbox", "account": account}
        return Template("inbox_delete.html", context=context)

    @post("/delete", status_code=303)
    async def delete(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Redirect:
        """Empty the account's inbox (admins only, ``check_request``): its captured copies
        are deleted; its sandbox messages leave the inbox and stay in Activity."""
        form = await request.form()
        account = _account(operator, str(form.get("account") or "") or None)
        async with context_of(request).sessions.begin() as db:
            await clear_inbox(db, account.id, utcnow())
        query = urlencode({"account": account.id, "done": "deleted"})
        return Redirect(path=f"/console/inbox?{query}", status_code=303)

    @get("/{kind:str}/{ref:str}")
    async def message(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        kind: FromPath[str],
        ref: FromPath[str],
    ) -> Template:
        """One message: its summary and a tab (HTML preview, text, source or check)."""
        item, account, records, raw = await _open(request, operator, kind, ref)
        tab = request.query_params.get("tab", "html")
        tab = tab if tab in TABS else "html"
        remote = request.query_params.get("images") == "remote"
        here = f"/console/inbox/{item.kind}/{item.ref}"
        spamd_url = context_of(request).settings.spamd_url
        context = {
            "operator": operator,
            "page": "inbox",
            "account": account,
            "item": item,
            "view": view_message(raw, records),
            "tab": tab,
            "tabs": TABS,
            "here": here,
            "check": await check_source(raw, spamd_url) if tab == "check" else None,
            "remote_images": remote,
            "preview_src": f"{here}/preview" + ("?images=remote" if remote else ""),
        }
        return Template("inbox_message.html", context=context)

    @get("/{kind:str}/{ref:str}/preview")
    async def preview(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        kind: FromPath[str],
        ref: FromPath[str],
    ) -> Response[bytes]:
        """The HTML part alone for the sandboxed frame, as the Message page serves it."""
        raw = (await _open(request, operator, kind, ref)).raw
        remote = request.query_params.get("images") == "remote"
        headers = {
            "content-security-policy": PREVIEW_CSP_REMOTE_IMAGES if remote else PREVIEW_CSP,
            "x-frame-options": "SAMEORIGIN",
            "referrer-policy": "no-referrer",
        }
        return Response(preview_html(raw), media_type="text/html; charset=utf-8", headers=headers)
