"""Build the RFC 5322 / MIME bytes of a message with the standard ``email`` package.

The output uses CRLF line endings throughout, keeps lines within the SMTP limits and never
contains Bcc; it is what gets DKIM-signed and, byte for byte, what gets delivered.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from herald_service.core.message import Address, OutgoingMessage


def new_message_id(hostname: str) -> str:
    """A globally unique ``<random@hostname>`` Message-ID."""
    return f"<{secrets.token_hex(16)}@{hostname}>"


def _header_address(address: Address) -> HeaderAddress:
    local, _, domain = address.email.rpartition("@")
    return HeaderAddress(display_name=address.name, username=local, domain=domain)


def _addresses(addresses: tuple[Address, ...]) -> tuple[HeaderAddress, ...]:
    return tuple(_header_address(a) for a in addresses)


def normalize_newlines(text: str) -> str:
    """Turn every CR, LF or CRLF into LF, so the email package emits clean CRLF only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def build_mime(message: OutgoingMessage, *, message_id: str, date: datetime | None = None) -> bytes:
    """The wire form of ``message`` (headers and body, CRLF line endings)."""
    mime = EmailMessage(policy=SMTP)
    mime["From"] = _header_address(message.sender)
    mime["To"] = _addresses(message.to)
    if message.cc:
        mime["Cc"] = _addresses(message.cc)
    if message.reply_to:
        mime["Reply-To"] = _addresses(message.reply_to)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(date or datetime.now(UTC))
    mime["Message-ID"] = message_id
    for name, value in message.headers:
        mime[name] = value

    text = normalize_newlines(message.text) if message.text is not None else None
    html = normalize_newlines(message.html) if message.html is not None else None
    if text is not None:
        mime.set_content(text, subtype="plain", cte=_cte(text))
        if html is not None:
            mime.add_alternative(html, subtype="html", cte=_cte(html))
    elif html is not None:
        mime.set_content(html, subtype="html", cte=_cte(html))
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
            disposition=attachment.disposition,
            cid=f"<{attachment.content_id}>" if attachment.content_id else None,
        )
    return mime.as_bytes()


def _cte(body: str) -> str:
    """7bit for short ASCII lines, quoted-printable otherwise (always SMTP-safe)."""
    if body.isascii() and all(len(line) <= 998 for line in body.split("\n")):
        return "7bit"
    return "quoted-printable"
