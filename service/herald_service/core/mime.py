"""Build the RFC 5322 / MIME bytes of a message with the standard ``email`` package.

The output uses CRLF line endings throughout, keeps lines within the SMTP limits and never
contains Bcc; it is what gets DKIM-signed and, byte for byte, what gets delivered.

Most transactional mail is text (and html) with plain ASCII headers. Such messages take
:mod:`herald_service.core.mime_plain`, which builds them with the ``email`` package's
legacy (compat32) API, about five times faster; everything else (attachments, inline
images, non-ASCII names or subjects) goes through :class:`~email.message.EmailMessage`.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache

from herald_service.core.message import Address, OutgoingMessage
from herald_service.core.mime_plain import (
    add_headers,
    build_plain,
    is_plain,
    needs_quoted_printable,
    normalize_newlines,
)
from herald_service.core.mime_policies import SMTP_POLICY


def new_message_id(hostname: str) -> str:
    """A globally unique ``<random@hostname>`` Message-ID."""
    return f"<{secrets.token_hex(16)}@{hostname}>"


@lru_cache(maxsize=2)
def _date_now(second: int) -> str:
    """The Date header value for a Unix time: formatted once per second, not per message."""
    return format_datetime(datetime.fromtimestamp(second, UTC))


def _header_address(address: Address) -> HeaderAddress:
    local, _, domain = address.email.rpartition("@")
    return HeaderAddress(display_name=address.name, username=local, domain=domain)


def _addresses(addresses: tuple[Address, ...]) -> tuple[HeaderAddress, ...]:
    return tuple(_header_address(a) for a in addresses)


def build_mime(message: OutgoingMessage, *, message_id: str, date: datetime | None = None) -> bytes:
    """The wire form of ``message`` (headers and body, CRLF line endings)."""
    date_header = format_datetime(date) if date is not None else _date_now(int(time.time()))
    if is_plain(message):
        return build_plain(message, message_id=message_id, date=date_header)
    return build_full(message, message_id=message_id, date=date_header)


def build_full(message: OutgoingMessage, *, message_id: str, date: str) -> bytes:
    """:func:`build_mime` for any message, through the ``email`` package's modern API."""
    mime = EmailMessage(policy=SMTP_POLICY)
    add_headers(mime, message, _addresses, message_id=message_id, date=date)

    text = normalize_newlines(message.text) if message.text is not None else None
    html = normalize_newlines(message.html) if message.html is not None else None
    inline = [a for a in message.attachments if a.disposition == "inline"]
    attached = [a for a in message.attachments if a.disposition != "inline"]
    if text is not None:
        mime.set_content(text, subtype="plain", cte=_cte(text))
        if html is not None:
            mime.add_alternative(html, subtype="html", cte=_cte(html))
    elif html is not None:
        mime.set_content(html, subtype="html", cte=_cte(html))
    if inline and html is not None:
        html_part = mime if text is None else _last_part(mime)
        for attachment in inline:
            maintype, _, subtype = attachment.content_type.partition("/")
            html_part.add_related(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{attachment.content_id}>",
                filename=attachment.filename,
                disposition="inline",
            )
    for attachment in attached:
        maintype, _, subtype = attachment.content_type.partition("/")
        if text is None and html is None and not mime.is_multipart():
            mime.make_mixed()
        mime.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            disposition="attachment",
            cid=f"<{attachment.content_id}>" if attachment.content_id else None,
        )
    for part in mime.walk():
        if part is not mime:
            del part["MIME-Version"]  # only the top level carries it (RFC 2045 §4)
    return mime.as_bytes()


def _last_part(mime: EmailMessage) -> EmailMessage:
    parts = mime.get_payload()
    assert isinstance(parts, list)
    last = parts[-1]
    assert isinstance(last, EmailMessage)
    return last


def _cte(body: str) -> str:
    return "quoted-printable" if needs_quoted_printable(body) else "7bit"
