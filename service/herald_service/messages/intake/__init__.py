"""Turn a :class:`SendMessageRequest` into an :class:`OutgoingMessage`, or refuse it.

Every rule records its error and validation goes on, so one 422 names every bad field.
"""

from __future__ import annotations

from datetime import UTC, datetime

from herald_service.core.message import OutgoingMessage
from herald_service.core.scheduling import normalize_send_at, send_at_problem
from herald_service.core.sending_ips import POOL_NAME
from herald_service.errors import Collector
from herald_service.mail.addresses import check_address
from herald_service.mail.html_text import html_to_text
from herald_service.messages.intake.addresses import check_recipients, check_reply_to
from herald_service.messages.intake.content import (
    check_attachments,
    check_body_text,
    check_custom_headers,
    check_header_text,
    check_metadata,
    check_tags,
    unsubscribe_headers,
)
from herald_service.messages.schemas import SendMessageRequest, address_list
from herald_service.settings import get_settings

__all__ = ["Collector", "validate_send_request"]


def validate_send_request(
    request: SendMessageRequest, *, max_schedule_ahead: float | None = None
) -> OutgoingMessage:
    """The validated message, or :class:`InvalidRequest` listing every problem.

    ``max_schedule_ahead`` bounds ``send_at`` (default: ``HERALD_MAX_SCHEDULE_AHEAD``).
    """
    errors = Collector()
    send_at = _check_send_at(errors, request, max_schedule_ahead)
    sender = check_address(errors, "from", address_list(request.sender)[0])
    to, cc, bcc = check_recipients(
        errors, address_list(request.to), address_list(request.cc), address_list(request.bcc)
    )
    reply_to = check_reply_to(errors, address_list(request.reply_to))
    check_header_text(errors, "subject", request.subject)
    attachments = check_attachments(errors, request.attachments)
    headers = check_custom_headers(errors, request.headers)
    own_unsubscribe = request.unsubscribe if not isinstance(request.unsubscribe, bool) else None
    headers += unsubscribe_headers(errors, own_unsubscribe)
    hosted = _hosted_unsubscribe(errors, request, len(to) + len(cc) + len(bcc))
    check_tags(errors, request.tags)
    check_metadata(errors, request.metadata)
    check_body_text(errors, "text", request.text)
    check_body_text(errors, "html", request.html)
    if request.ip_pool is not None and not POOL_NAME.match(request.ip_pool):
        errors.add("ip_pool", "not a pool name (lower-case letters, digits, - and _)")
    if not request.text and not request.html and not attachments:
        errors.add("text", "the message is empty: give text, html or an attachment")
    if request.html is None and any(a.disposition == "inline" for a in attachments):
        errors.add("attachments", "inline attachments need html that refers to them")
    errors.raise_if_any()
    assert sender is not None
    return OutgoingMessage(
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=request.subject,
        text=request.text or (html_to_text(request.html) if request.html else None),
        html=request.html or None,
        attachments=attachments,
        headers=headers,
        tags=tuple(request.tags),
        metadata=dict(request.metadata),
        sandbox=request.sandbox,
        send_at=send_at,
        track_opens=request.tracking.opens if request.tracking else None,
        track_clicks=request.tracking.clicks if request.tracking else None,
        hosted_unsubscribe=hosted,
        ip_pool=request.ip_pool,
    )


def _hosted_unsubscribe(
    errors: Collector, request: SendMessageRequest, recipients: int
) -> bool | None:
    """Whether the message carries Herald's one-click unsubscribe (None: the domain's
    default). It unsubscribes the one recipient of the message, so it needs exactly one."""
    if request.unsubscribe is True and recipients > 1:
        errors.add(
            "unsubscribe",
            "one-click unsubscribe needs one recipient per message (send a batch instead)",
        )
    if isinstance(request.unsubscribe, bool):
        return request.unsubscribe
    return False if request.unsubscribe is not None else None


def _check_send_at(
    errors: Collector, request: SendMessageRequest, max_ahead: float | None
) -> datetime | None:
    """``send_at`` in UTC, or ``None`` (send at once); a sandbox message is captured at
    once, so it cannot be scheduled."""
    if request.send_at is None:
        return None
    if request.sandbox:
        errors.add("send_at", "sandbox messages are captured at once: leave send_at out")
        return None
    limit = get_settings().max_schedule_ahead if max_ahead is None else max_ahead
    problem = send_at_problem(request.send_at, datetime.now(UTC), limit)
    if problem is not None:
        errors.add("send_at", problem)
        return None
    return normalize_send_at(request.send_at)
