"""The shapes of the inbox (the JSON of ``/dev/inbox``, the console's rows) and their presenters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from email.header import decode_header, make_header
from email.utils import parseaddr

import msgspec

from herald_service.storage.models import CapturedMessage


class CapturedSummary(msgspec.Struct):
    """A captured message without its body."""

    id: int
    received_at: datetime
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    dkim: str
    size: int


class CapturedDetail(CapturedSummary):
    """A captured message with its raw source."""

    raw: str


def captured_summary(m: CapturedMessage) -> CapturedSummary:
    """A captured message as the inbox lists it."""
    return CapturedSummary(
        m.id, m.received_at, m.mail_from, list(m.rcpt_tos), m.subject, m.dkim, len(m.raw)
    )


def captured_detail(m: CapturedMessage) -> CapturedDetail:
    """A captured message with its source (bytes that are not UTF-8 replaced)."""
    s = captured_summary(m)
    return CapturedDetail(**msgspec.structs.asdict(s), raw=m.raw.decode("utf-8", "replace"))


class InboxItem(msgspec.Struct, frozen=True):
    """One message of the console's inbox: a captured copy or a sandbox message."""

    kind: str  # "captured" | "sandbox"
    ref: str  # the captured copy's number, or the sandbox message's id
    message_id: str  # the Herald message
    sender: str  # the From header (display name and address)
    to: str
    subject: str
    at: datetime
    tags: list[str]
    size: int


def from_header(head: bytes, fallback: str) -> str:
    """The From header of a message source's first bytes, its encoded words decoded
    (a light reading: a page lists fifty of them); ``fallback`` when it has none."""
    fields = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", fields)
    found = re.search(rb"^from:[ \t]*(.*?)\r?$", unfolded, re.IGNORECASE | re.MULTILINE)
    if found is None:
        return fallback
    value = found.group(1).decode("utf-8", "replace").strip()
    try:
        shown = str(make_header(decode_header(value))).strip()
    except (ValueError, LookupError, UnicodeError):
        shown = value
    name, address = parseaddr(shown)
    if address and "@" in address:
        return f"{name} <{address}>" if name else address
    return shown or fallback


def inbox_item(
    kind: str,
    ref: str,
    at: datetime,
    message_id: str,
    size: int,
    from_email: str,
    to: Sequence[str],
    subject: str,
    tags: Sequence[str],
) -> InboxItem:
    """An inbox row from what its query read, showing the envelope's From address until
    :func:`with_from_header` reads the header."""
    return InboxItem(
        kind=kind,
        ref=ref,
        message_id=message_id,
        sender=from_email,
        to=", ".join(to) or "—",
        subject=subject,
        at=at,
        tags=list(tags or ()),
        size=int(size or 0),
    )


def with_from_header(item: InboxItem, head: bytes) -> InboxItem:
    """``item`` showing the From header of ``head``, its source's first bytes."""
    return msgspec.structs.replace(item, sender=from_header(bytes(head or b""), item.sender))
