"""What the Message page shows of a stored message's raw MIME: its headers as the recipient
sees them, the text and HTML parts, the attachments, and whether the DKIM signatures verify
against the domain's own keys (no DNS lookups: the console reads the stored public keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import dkim
import msgspec

SUMMARY_HEADERS = ("From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID")
MAX_RAW_SHOWN = 512 * 1024
# A refresh would navigate the preview away to any site; the sandbox does not stop it.
_META_REFRESH = re.compile(rb"<meta[^>]*http-equiv\s*=\s*[\"']?\s*refresh[^>]*>", re.IGNORECASE)


class Attachment(msgspec.Struct, frozen=True):
    """An attachment as listed: never its content."""

    name: str
    content_type: str
    size: int


class Signature(msgspec.Struct, frozen=True):
    """One DKIM-Signature field and what verifying it against the stored keys gave."""

    header: str
    domain: str
    selector: str
    result: str  # "pass" | "fail" | "unknown key"


class MessageView(msgspec.Struct, frozen=True):
    """The parsed parts of one stored message."""

    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    attachments: list[Attachment]
    signatures: list[Signature]
    raw: str
    raw_truncated: bool


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _content(part: EmailMessage) -> str | None:
    """A text part decoded by its charset; an undecodable one is shown with replacements."""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        found.append(
            Attachment(
                name=part.get_filename() or "(no name)",
                content_type=part.get_content_type(),
                size=len(payload) if isinstance(payload, bytes) else 0,
            )
        )
    return found


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except (ValueError, IndexError):  # a malformed field: show it undecoded
        return str(message.get_all(name, [""])[0])


def _tags(header: str) -> dict[str, str]:
    tags = {}
    for item in header.split(";"):
        key, _, value = item.partition("=")
        tags[key.strip()] = re.sub(r"\s+", "", value)
    return tags


def verify_signatures(raw: bytes, records: Mapping[str, str]) -> list[Signature]:
    """Each DKIM-Signature of ``raw`` checked against ``records`` (TXT values by lower-case
    ``selector._domainkey.domain``) with dkimpy, never asking DNS."""

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        record = records.get(name.decode("ascii", "replace").rstrip(".").lower())
        return record.encode() if record is not None else None

    message = _parse(raw)
    signatures = []
    verifier = dkim.DKIM(raw)
    for index, field in enumerate(message.get_all("DKIM-Signature", [])):
        header = re.sub(r"\s+", " ", str(field)).strip()
        tags = _tags(header)
        name = f"{tags.get('s', '')}._domainkey.{tags.get('d', '')}".lower()
        if name not in records:
            result = "unknown key"
        else:
            try:
                result = "pass" if verifier.verify(idx=index, dnsfunc=lookup) else "fail"
            except dkim.DKIMException:
                result = "fail"
        signatures.append(Signature(header, tags.get("d", ""), tags.get("s", ""), result))
    return signatures


def view_message(raw: bytes, records: Mapping[str, str]) -> MessageView:
    """Parse ``raw`` with the standard library for the page."""
    message = _parse(raw)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    shown = raw[:MAX_RAW_SHOWN].decode("utf-8", "replace")
    return MessageView(
        headers=[(name, _header(message, name)) for name in SUMMARY_HEADERS if name in message],
        text=_content(text_part) if isinstance(text_part, EmailMessage) else None,
        html=_content(html_part) if isinstance(html_part, EmailMessage) else None,
        attachments=_attachments(message),
        signatures=verify_signatures(raw, records),
        raw=shown,
        raw_truncated=len(raw) > MAX_RAW_SHOWN,
    )


def preview_html(raw: bytes, untrack: Callable[[str], str] = str) -> bytes:
    """The HTML part for the sandboxed preview (UTF-8, without any refresh, ``untrack``
    applied: opening the preview is no open, following its links no click); a short note
    when the message has none."""
    part = _parse(raw).get_body(preferencelist=("html",))
    html = _content(part) if isinstance(part, EmailMessage) else None
    if html is None:
        return b"<!doctype html><p>This message has no HTML part.</p>"
    html = untrack(html)
    return _META_REFRESH.sub(b"", html.encode("utf-8", "replace"))
