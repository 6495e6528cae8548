"""The common case of :func:`~herald_service.core.mime.build_mime`, built fast.

A message with text and/or html, no attachments and nothing but ASCII in its headers
needs none of the modern ``email`` API's header parsing (which is most of its cost). It
is built with the package's legacy API (``compat32``) instead: the same structure,
encodings and header folding, about five times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from email.charset import QP, Charset
from email.message import Message
from email.utils import formataddr
from typing import Any

from herald_service.core.message import Address, OutgoingMessage
from herald_service.core.mime_policies import PLAIN_POLICY

# UTF-8 declared in either case; 7bit (the text as it is) or quoted-printable.
_UTF8_7BIT = Charset("utf-8")
_UTF8_7BIT.body_encoding = None  # type: ignore[assignment]  # no encoding: 7bit
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def normalize_newlines(text: str) -> str:
    """Turn every CR, LF or CRLF into LF, so the email package emits clean CRLF only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def needs_quoted_printable(body: str) -> bool:
    """False for ASCII with lines of at most 998 characters (sent as 7bit), else True."""
    return not (body.isascii() and all(len(line) <= 998 for line in body.split("\n")))


def is_plain(message: OutgoingMessage) -> bool:
    """Whether :func:`build_plain` can build ``message``: no attachments, ASCII headers."""
    if message.attachments:
        return False
    addresses = (message.sender, *message.to, *message.cc, *message.reply_to)
    if not all(a.email.isascii() and a.name.isascii() for a in addresses):
        return False
    return message.subject.isascii() and all(
        name.isascii() and value.isascii() for name, value in message.headers
    )


def add_headers(
    mime: Message,
    message: OutgoingMessage,
    addresses: Callable[[tuple[Address, ...]], Any],
    *,
    message_id: str,
    date: str,
) -> None:
    """Set the top-level header fields of ``message`` on ``mime``, in the order both
    builders write them; ``addresses`` renders an address list for the ``mime`` kind."""
    mime["From"] = addresses((message.sender,))
    mime["To"] = addresses(message.to)
    if message.cc:
        mime["Cc"] = addresses(message.cc)
    if message.reply_to:
        mime["Reply-To"] = addresses(message.reply_to)
    mime["Subject"] = message.subject
    mime["Date"] = date
    mime["Message-ID"] = message_id
    mime["MIME-Version"] = "1.0"  # set_content adds it, but not on the attachments-only path
    for name, value in message.headers:
        mime[name] = value


def _address_list(addresses: tuple[Address, ...]) -> str:
    return ", ".join(formataddr((a.name, a.email)) for a in addresses)


def _text_part(part: Message, subtype: str, body: str) -> None:
    part.add_header("Content-Type", f"text/{subtype}")
    body = normalize_newlines(body)
    if not body.endswith("\n"):
        body += "\n"  # as the modern API does: the last line ends with CRLF too
    part.set_payload(body, _UTF8_QP if needs_quoted_printable(body) else _UTF8_7BIT)


def build_plain(message: OutgoingMessage, *, message_id: str, date: str) -> bytes:
    """The wire form of a message :func:`is_plain` accepts (CRLF line endings)."""
    mime = Message(policy=PLAIN_POLICY)
    add_headers(mime, message, _address_list, message_id=message_id, date=date)
    if message.text is not None and message.html is not None:
        mime.add_header("Content-Type", "multipart/alternative")
        for subtype, body in (("plain", message.text), ("html", message.html)):
            part = Message(policy=PLAIN_POLICY)
            _text_part(part, subtype, body)
            del part["MIME-Version"]  # only the top level carries it (RFC 2045 §4)
            mime.attach(part)
    elif message.html is not None:
        _text_part(mime, "html", message.html)
    else:
        _text_part(mime, "plain", message.text or "")
    return mime.as_bytes(policy=PLAIN_POLICY)
