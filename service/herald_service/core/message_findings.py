"""Rules over a validated message's headers, parts and size, and over the readiness of
its sending domain (as its last DNS verification left it).

Everything here is a function over plain values, so each rule reads as a table row in
``tests/unit/test_message_findings.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from herald_service.core.findings import CheckFinding, Severity, finding
from herald_service.core.message import OutgoingMessage

# The largest message the big mailbox providers accept (Gmail, Yahoo: 25 MB including
# encoding); many corporate servers stop at 10 MB.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
COMMON_MESSAGE_BYTES = 10 * 1024 * 1024
# Gmail shows only the first 102 KB of an HTML body, behind a "message clipped" link.
GMAIL_CLIP_BYTES = 102 * 1024
# Mobile clients show about 40 characters of a subject, desktop clients 60 to 80.
LONG_SUBJECT = 100
NO_REPLY = frozenset({"noreply", "no-reply", "donotreply", "do-not-reply"})


def header_findings(
    message: OutgoingMessage, *, text_generated: bool = False
) -> list[CheckFinding]:
    """Subject, parts, Reply-To and unsubscribe problems of a validated message
    (``text_generated``: its text part was made from its HTML at validation)."""
    found = subject_findings(message.subject)
    found += part_findings(message.html is not None, message.text is not None, text_generated)
    found.extend(_reply_to_findings(message))
    found += unsubscribe_findings(name for name, _ in message.headers)
    if message.sandbox:
        why = "sandbox is set: the message would be captured, not delivered"
        found.append(finding("sandbox", "info", "sandbox", why))
    return found


def subject_findings(subject: str) -> list[CheckFinding]:
    """An absent, overlong or shouting subject."""
    subject = subject.strip()
    if not subject:
        return [finding("subject", "warning", "subject", "no Subject: spam filters penalise it")]
    if len(subject) > LONG_SUBJECT:
        why = f"subject is {len(subject)} characters: clients cut it at 40 to 80"
        return [finding("subject", "warning", "subject", why)]
    if subject.isupper():
        return [finding("subject", "info", "subject", "subject in capitals looks like spam")]
    return []


def part_findings(has_html: bool, has_text: bool, text_generated: bool) -> list[CheckFinding]:
    """A message without a text part, or without an HTML part."""
    if has_html and (not has_text or text_generated):
        why = "no text part: send one, or Herald generates it from the HTML (check it reads well)"
        return [finding("text_part", "info", "text", why)]
    if has_text and not has_html:
        return [finding("html_part", "info", "html", "text only: no HTML part")]
    return []


def unsubscribe_findings(header_names: Iterable[str]) -> list[CheckFinding]:
    """No List-Unsubscribe among ``header_names``."""
    if "list-unsubscribe" in {name.lower() for name in header_names}:
        return []
    why = "no List-Unsubscribe: Gmail and Yahoo require one-click unsubscribe for bulk mail"
    return [finding("unsubscribe", "info", "unsubscribe", why)]


# RFC 5322 §3.6: these fields appear at most once; From and Date must appear.
SINGLE_FIELDS = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
)


def source_header_findings(
    fields: Sequence[tuple[str, str]], invalid: Sequence[tuple[str, str]]
) -> list[CheckFinding]:
    """Missing, repeated and malformed header fields of a message as it was delivered:
    ``fields`` its (name, value) pairs in order, ``invalid`` a (name, why) pair for each
    field the parser could not read."""
    found: list[CheckFinding] = []
    counts: dict[str, int] = {}
    for name, _ in fields:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    for name in ("From", "Date"):
        if not counts.get(name.lower()):
            found.append(
                finding("headers", "error", name, f"no {name} header (RFC 5322 requires one)")
            )
    if not counts.get("message-id"):
        why = "no Message-ID header: receivers may add one or distrust the message"
        found.append(finding("headers", "warning", "Message-ID", why))
    if not counts.get("mime-version") and counts.get("content-type"):
        found.append(
            finding("headers", "warning", "MIME-Version", "Content-Type without MIME-Version")
        )
    for name in SINGLE_FIELDS:
        if counts.get(name.lower(), 0) > 1:
            why = f"{name} appears {counts[name.lower()]} times (RFC 5322 allows one)"
            found.append(finding("headers", "error", name, why))
    if counts.get("bcc"):
        found.append(
            finding(
                "headers",
                "error",
                "Bcc",
                "Bcc header in the delivered message: every recipient sees it",
            )
        )
    for name, why in invalid:
        found.append(finding("headers", "warning", name, f"invalid {name} header: {why}"))
    subject = next((value for name, value in fields if name.lower() == "subject"), "")
    found += subject_findings(subject)
    found += unsubscribe_findings(name for name, _ in fields)
    return found


def _reply_to_findings(message: OutgoingMessage) -> list[CheckFinding]:
    found = []
    if len(message.reply_to) > 1:
        why = f"{len(message.reply_to)} Reply-To addresses: some clients use only the first"
        found.append(finding("reply_to", "warning", "reply_to", why))
    sender = message.sender.email.lower()
    for index, address in enumerate(message.reply_to):
        if address.email.lower() == sender:
            why = "Reply-To is the From address: it changes nothing"
            found.append(finding("reply_to", "info", f"reply_to[{index}]", why))
    local_part = message.sender.email.rpartition("@")[0].lower()
    if local_part in NO_REPLY and not message.reply_to:
        why = "From is a no-reply address and there is no Reply-To: replies are lost"
        found.append(finding("reply_to", "info", "from", why))
    return found


def size_findings(message_bytes: int, html_bytes: int) -> list[CheckFinding]:
    """The built message against what providers accept, and the HTML against clipping."""
    found = []
    size = _megabytes(message_bytes)
    if message_bytes > MAX_MESSAGE_BYTES:
        why = f"{size} exceeds the {_megabytes(MAX_MESSAGE_BYTES)} most providers accept"
        found.append(finding("size", "error", "attachments", why))
    elif message_bytes > COMMON_MESSAGE_BYTES:
        why = f"{size} exceeds the {_megabytes(COMMON_MESSAGE_BYTES)} many servers accept"
        found.append(finding("size", "warning", "attachments", why))
    if html_bytes > GMAIL_CLIP_BYTES:
        why = f"HTML is {html_bytes // 1024} KB: Gmail clips it after {GMAIL_CLIP_BYTES // 1024} KB"
        found.append(finding("size", "warning", "html", why))
    return found


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class RecordState(msgspec.Struct, frozen=True, kw_only=True):
    """One DNS record of the sending domain as its last verification found it."""

    purpose: str
    host: str
    status: str
    required: bool
    detail: str = ""


_NAMES = {
    "return_path": "Return-path MX",
    "spf": "SPF",
    "dkim": "DKIM",
    "dmarc": "DMARC",
    "spf_from": "From-domain SPF",
    "ptr": "PTR",
}
# Purposes whose record is advice, with why it matters.
_ADVICE = {
    "dmarc": "Gmail and Yahoo require DMARC for bulk senders",
    "spf_from": "SPF for the From domain helps with receivers that check it",
    "ptr": "receivers distrust a sending IP without matching reverse DNS",
}


def domain_findings(
    sender_domain: str, domain: str, problem: str, records: Sequence[RecordState]
) -> list[CheckFinding]:
    """Whether mail from ``sender_domain`` can be sent and authenticated.

    ``domain`` is the account's domain it resolves to ("" if none) and ``problem`` why it
    may not send from it ("" if it may). DKIM signs as ``domain`` and the return path is
    a subdomain of it, so both align with the From domain (relaxed) once their records are
    published: the records decide.
    """
    if problem:
        return [finding("domain", "error", "from", problem)]
    found = []
    for record in records:
        label = f"{_NAMES.get(record.purpose, record.purpose)} record {record.host}"
        if record.status == "verified":
            continue
        if record.status == "pending":
            why = f"{label} was not checked yet: verify the domain"
            severity: Severity = "warning" if record.required else "info"
        elif record.required:
            why = f"{label} is {record.status} at the last verification"
            severity = "error" if record.status in ("missing", "mismatch") else "warning"
        else:
            advice = _ADVICE.get(record.purpose, "recommended")
            why = f"{label} is {record.status}: {advice}"
            severity = "warning" if record.purpose == "dmarc" else "info"
        if record.detail and record.status != "pending":
            why = f"{why} ({record.detail})"
        found.append(finding(record.purpose, severity, "from", why))
    if not found:
        why = f"{domain}: SPF, DKIM and DMARC published; DKIM and the return path align with From"
        found.append(finding("domain", "info", "from", why))
    return found
