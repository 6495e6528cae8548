"""The Message page: one message's headers, recipients with every delivery attempt, its
timeline, the webhook deliveries it caused, its parts, raw source and DKIM signatures
(once retention pruned the source, a note saying when takes the place of the last five).

The HTML part is never put into the page: a sandboxed ``<iframe>`` (no scripts) loads it
from ``/preview``, which answers with its own CSP allowing no script, no fetch, and
images only from ``data:`` unless the operator asks for remote images, and sandboxed
even when opened outside the frame (the CSP ``sandbox`` directive). A message of an
account the operator is not a member of is a 404, exactly like an unknown id.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.console.message_view import preview_html, view_message
from herald_service.console.web import ConsoleError, Operator, context_of, provide_operator
from herald_service.core.retention import pruned_note
from herald_service.domains.service import dkim_key_records
from herald_service.errors import HeraldError
from herald_service.events.service import event_view
from herald_service.messages.schemas import message_out
from herald_service.messages.service import get_message, message_events, retry_message
from herald_service.storage.models import Message
from herald_service.tracking.service import TrackingUrls, untracked_html
from herald_service.webhooks.schemas import delivery_out
from herald_service.webhooks.service import deliveries_of_events

_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src {images}; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)
PREVIEW_CSP = _PREVIEW_POLICY.format(images="data:")
PREVIEW_CSP_REMOTE_IMAGES = _PREVIEW_POLICY.format(images="https: http: data:")


async def _find(db: AsyncSession, operator: Operator, message_id: str) -> Message:
    """The message if it belongs to one of the operator's accounts; else a 404."""
    if len(message_id) > 40:
        raise ConsoleError(404, "No such message.")
    for account in operator.accounts:
        try:
            return await get_message(db, account.id, message_id)
        except HeraldError:
            continue
    raise ConsoleError(404, "No such message.")


# Kept out of the list of details: the flag is a badge, the link's index means nothing here.
_HIDDEN_DETAILS = frozenset({"machine", "link"})


def shown_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's details as the timeline lists them, each value as plain text (``yes`` /
    ``no`` for flags, JSON for lists and objects); an empty value is left out."""
    shown = []
    for key, value in details.items():
        if key in _HIDDEN_DETAILS or value in ("", None):
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, dict | list):
            text = msgspec.json.encode(value).decode()
        else:
            text = str(value)
        shown.append((key, text))
    return shown


async def _page(request: Request[Any, Any, Any], operator: Operator, message_id: str) -> Any:
    async with context_of(request).sessions() as db:
        message = await _find(db, operator, message_id)
        events = await message_events(db, message.id)
        deliveries = await deliveries_of_events(db, message.account_id, [e.id for e in events])
        records = await dkim_key_records(db, message.domain_id)
        out = message_out(message, events)
        timeline = [event_view(e, message) for e in events]
        for entry in timeline:
            entry["shown"] = shown_details(entry["details"])
        webhooks = [(delivery_out(d), url) for d, url in deliveries]
        raw = message.raw
        pruned_at = message.body_pruned_at
        pruned = pruned_at and pruned_note(message.created_at, pruned_at)
    account = next(a for a in operator.accounts if a.id == message.account_id)
    remote = request.query_params.get("images") == "remote"
    return {
        "operator": operator,
        "page": "activity",
        "account": account,
        "message": out,
        "timeline": timeline,
        "webhooks": webhooks,
        "view": view_message(raw, records),
        "pruned": pruned,
        "remote_images": remote,
        "preview_src": f"/console/messages/{out.id}/preview" + ("?images=remote" if remote else ""),
        "retried": request.query_params.get("done") == "retried",
        "deferred": any(r.status == "deferred" for r in out.recipients),
    }


class MessagePageController(Controller):
    """``/console/messages/{id}`` and its HTML preview."""

    path = "/messages"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/{message_id:str}")
    async def message(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Template:
        """The whole page."""
        return Template("message.html", context=await _page(request, operator, message_id))

    @post("/{message_id:str}/retry", status_code=303)
    async def retry(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Redirect:
        """Try the message's deferred recipients now (admins only, as every change); the
        workers' next sweep queues them. 409 when none is deferred any more."""
        async with context_of(request).sessions.begin() as db:
            message = await _find(db, operator, message_id)
            try:
                await retry_message(db, message.account_id, message_id)
            except HeraldError as exc:
                raise ConsoleError(exc.status, exc.detail) from None
        return Redirect(path=f"/console/messages/{message_id}?done=retried", status_code=303)

    @get("/{message_id:str}/preview")
    async def preview(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Operator],
        message_id: FromPath[str],
    ) -> Response[bytes]:
        """The HTML part alone, for the sandboxed frame: no script can run, nothing loads
        but inline styles and ``data:`` images (remote ones too with ``?images=remote``)."""
        context = context_of(request)
        async with context.sessions() as db:
            message = await _find(db, operator, message_id)
            raw, record = message.raw, message.tracking
        urls = TrackingUrls.from_settings(context.settings)
        remote = request.query_params.get("images") == "remote"
        headers = {
            "content-security-policy": PREVIEW_CSP_REMOTE_IMAGES if remote else PREVIEW_CSP,
            "x-frame-options": "SAMEORIGIN",
            "referrer-policy": "no-referrer",
        }
        body = preview_html(raw, lambda html: untracked_html(html, message_id, record, urls))
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
