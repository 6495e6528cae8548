"""Rules for headers, attachments, tags, metadata and unsubscribe targets."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError

from herald_service.core.message import Attachment
from herald_service.errors import Collector
from herald_service.mail.addresses import CONTROL_CHARS, normalized_email
from herald_service.messages.intake.filenames import filename_problem
from herald_service.messages.schemas import AttachmentIn, Unsubscribe
from herald_service.request_fields import (
    MAX_ATTACHMENTS,
    MAX_CUSTOM_HEADERS,
    MAX_HEADER_LINE,
    MAX_METADATA_KEY,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE,
    MAX_TAG_LENGTH,
    MAX_TAGS,
)

# Header fields a caller may not write as raw headers, by why.
RESERVED_HEADERS = frozenset(
    {
        # Written by Herald from the request's fields (RFC 5322 §3.6); Bcc never appears.
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "list-unsubscribe",
        "list-unsubscribe-post",
        # Trace fields (RFC 5321 §4.4, RFC 5322 §3.6.7): only the MTAs on the path write
        # them; a forged Received or Return-Path misleads whoever reads the message's route.
        "received",
        "return-path",
        "delivered-to",
        "x-original-to",
        "envelope-to",
        "x-envelope-from",
        "x-envelope-to",
        # Authentication: signatures Herald adds and results receivers add (RFC 6376, RFC
        # 8601, RFC 7208); caller-supplied ones would be forged verdicts.
        "dkim-signature",
        "domainkey-signature",
        "authentication-results",
        "received-spf",
        # Bounce routing is Herald's VERP return path; Errors-To would send bounces elsewhere.
        "errors-to",
    }
)
# Whole families, by prefix: the MIME structure (Content-*, RFC 2045) is Herald's; Resent-*
# (RFC 5322 §3.6.6) claims a resending identity and is added by whoever resends; ARC-*
# (RFC 8617) is the authentication chain intermediaries seal.
RESERVED_PREFIXES = ("content-", "resent-", "arc-")
HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # printable ASCII without ':' (RFC 5322 ftext)

CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)
CONTENT_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]{1,250}$")
TAG = re.compile(r"^[A-Za-z0-9_.:/@ -]+$")
METADATA_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_header_text(errors: Collector, field: str, value: str) -> None:
    """Refuse control characters (header injection) and values over one SMTP line."""
    if CONTROL_CHARS.search(value):
        errors.add(field, "control characters (such as CR or LF) are not allowed")
    elif len(value) > MAX_HEADER_LINE:
        errors.add(field, f"longer than {MAX_HEADER_LINE} characters")


def check_body_text(errors: Collector, field: str, body: str | None) -> None:
    """Refuse NUL in a text or html body: no transfer encoding of a text part may carry one
    (RFC 2045 §2.7-2.8), and receivers truncate or reject at it. Other controls (tab, form
    feed, escape) are legal 7bit text and pass; line breaks are normalised to CRLF."""
    if body and "\x00" in body:
        errors.add(field, "NUL characters are not allowed in a message body")


def check_custom_headers(errors: Collector, headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Valid, non-reserved custom headers in the caller's order."""
    if len(headers) > MAX_CUSTOM_HEADERS:
        errors.add("headers", f"at most {MAX_CUSTOM_HEADERS} custom headers are allowed")
        return ()
    accepted: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in headers.items():
        field = f"headers.{name}"
        lowered = name.lower()
        if not HEADER_NAME.match(name):
            errors.add(field, "a header name is 1-76 printable ASCII characters without ':'")
        elif lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIXES):
            errors.add(field, f"{name} is set by Herald and cannot be given as a custom header")
        elif lowered in seen:
            errors.add(field, "duplicate header name")
        elif len(name) + 2 + len(value) > MAX_HEADER_LINE or CONTROL_CHARS.search(value):
            check_header_text(errors, field, value)
            if not CONTROL_CHARS.search(value):
                errors.add(field, f"header line longer than {MAX_HEADER_LINE} characters")
        else:
            seen.add(lowered)
            accepted.append((name, value))
    return tuple(accepted)


def _attachment(errors: Collector, field: str, item: AttachmentIn) -> Attachment | None:
    before = len(errors.errors)
    filename = item.filename.strip()
    if (problem := filename_problem(filename)) is not None:
        errors.add(f"{field}.filename", problem)
    try:
        content = base64.b64decode(item.content, validate=True)
    except (binascii.Error, ValueError):
        errors.add(f"{field}.content", "not valid base64")
        content = b""
    content_type = item.content_type or mimetypes.guess_type(filename)[0] or ""
    content_type = content_type or "application/octet-stream"
    if not CONTENT_TYPE.match(content_type):
        errors.add(f"{field}.content_type", "a MIME type such as application/pdf")
    if item.disposition not in ("attachment", "inline"):
        errors.add(f"{field}.disposition", "either 'attachment' or 'inline'")
    if item.disposition == "inline" and not item.content_id:
        errors.add(f"{field}.content_id", "inline attachments need a content_id (cid:...)")
    if item.content_id and not CONTENT_ID.match(item.content_id):
        errors.add(f"{field}.content_id", "letters, digits and .@-_ only, without < >")
    if len(errors.errors) > before:
        return None
    return Attachment(
        filename=filename,
        content=content,
        content_type=content_type.lower(),
        disposition=item.disposition,
        content_id=item.content_id,
    )


def check_attachments(errors: Collector, items: list[AttachmentIn]) -> tuple[Attachment, ...]:
    """Decoded attachments; unique content ids."""
    if len(items) > MAX_ATTACHMENTS:
        errors.add("attachments", f"at most {MAX_ATTACHMENTS} attachments are allowed")
        return ()
    result = []
    content_ids: set[str] = set()
    for i, item in enumerate(items):
        attachment = _attachment(errors, f"attachments[{i}]", item)
        if attachment is None:
            continue
        if attachment.content_id and attachment.content_id in content_ids:
            errors.add(f"attachments[{i}].content_id", "duplicate content_id")
            continue
        content_ids.add(attachment.content_id)
        result.append(attachment)
    return tuple(result)


def check_tags(errors: Collector, tags: list[str]) -> None:
    """Up to 10 distinct short tags (more: one error, not one per tag)."""
    if len(tags) > MAX_TAGS:
        errors.add("tags", f"at most {MAX_TAGS} tags are allowed")
        return
    for i, tag in enumerate(tags):
        if not tag or len(tag) > MAX_TAG_LENGTH or not TAG.match(tag):
            errors.add(
                f"tags[{i}]", f"1-{MAX_TAG_LENGTH} characters of A-Z a-z 0-9 _ . : / @ - space"
            )
    if len(set(tags)) != len(tags):
        errors.add("tags", "tags must be distinct")


def check_metadata(errors: Collector, metadata: dict[str, str]) -> None:
    """Up to 50 string pairs with short keys."""
    if len(metadata) > MAX_METADATA_KEYS:
        errors.add("metadata", f"at most {MAX_METADATA_KEYS} keys are allowed")
        return
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY or not METADATA_KEY.match(key):
            errors.add(f"metadata.{key}", f"keys are 1-{MAX_METADATA_KEY} of A-Z a-z 0-9 _ . -")
        elif len(value) > MAX_METADATA_VALUE:
            errors.add(f"metadata.{key}", f"values are at most {MAX_METADATA_VALUE} characters")
        elif "\x00" in value:
            errors.add(f"metadata.{key}", "NUL characters are not allowed")


def unsubscribe_headers(
    errors: Collector, unsubscribe: Unsubscribe | None
) -> tuple[tuple[str, str], ...]:
    """List-Unsubscribe (and List-Unsubscribe-Post for a URL, RFC 8058) header values."""
    if unsubscribe is None:
        return ()
    targets: list[str] = []
    if unsubscribe.url:
        try:
            parts = urlsplit(unsubscribe.url)
            host = parts.hostname
        except ValueError:  # an unclosed or invalid [IPv6] host
            host = None
        if not host or parts.scheme != "https" or CONTROL_CHARS.search(unsubscribe.url):
            errors.add("unsubscribe.url", "an https:// URL (RFC 8058 one-click needs HTTPS)")
        elif len(unsubscribe.url) > 900 or any(c in unsubscribe.url for c in "<> ,"):
            errors.add("unsubscribe.url", "a URL of at most 900 characters without <>, or spaces")
        else:
            targets.append(f"<{unsubscribe.url}>")
    if unsubscribe.mailto:
        address = unsubscribe.mailto.removeprefix("mailto:")
        try:
            targets.append(f"<mailto:{normalized_email(address)}>")
        except EmailNotValidError as exc:
            errors.add("unsubscribe.mailto", f"not a valid email address: {exc}")
    if not unsubscribe.url and not unsubscribe.mailto:
        errors.add("unsubscribe", "give a url, a mailto address, or both")
    if not targets or len(targets) < int(bool(unsubscribe.url)) + int(bool(unsubscribe.mailto)):
        return ()
    headers = [("List-Unsubscribe", ", ".join(targets))]
    if unsubscribe.url:
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return tuple(headers)
