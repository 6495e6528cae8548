"""Header, size and sending-domain findings of the message check, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from herald_service.core.message import Address, OutgoingMessage
from herald_service.core.message_findings import (
    COMMON_MESSAGE_BYTES,
    GMAIL_CLIP_BYTES,
    MAX_MESSAGE_BYTES,
    RecordState,
    domain_findings,
    header_findings,
    size_findings,
    source_header_findings,
)

UNSUBSCRIBE = (("List-Unsubscribe", "<https://e.example/u>"),)


def message(**changes: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "sender": Address("app@sender.example"),
        "to": (Address("user@receiver.example"),),
        "subject": "Your receipt",
        "text": "Thanks",
        "html": "<p>Thanks</p>",
        "headers": UNSUBSCRIBE,
    }
    return OutgoingMessage(**{**fields, **changes})


# (case, message changes, expected (check, severity, field) or None: no finding)
HEADER_CASES: list[tuple[str, dict[str, Any], tuple[str, str, str] | None]] = [
    ("complete", {}, None),
    ("no subject", {"subject": ""}, ("subject", "warning", "subject")),
    ("blank subject", {"subject": "   "}, ("subject", "warning", "subject")),
    ("long subject", {"subject": "x" * 101}, ("subject", "warning", "subject")),
    ("100 characters is fine", {"subject": "x" * 100}, None),
    ("capitals", {"subject": "FREE MONEY"}, ("subject", "info", "subject")),
    ("html only", {"text": None}, ("text_part", "info", "text")),
    ("text only", {"html": None}, ("html_part", "info", "html")),
    (
        "two reply-to",
        {"reply_to": (Address("a@s.example"), Address("b@s.example"))},
        ("reply_to", "warning", "reply_to"),
    ),
    (
        "reply-to is from",
        {"reply_to": (Address("APP@sender.example"),)},
        ("reply_to", "info", "reply_to[0]"),
    ),
    (
        "no-reply without reply-to",
        {"sender": Address("no-reply@s.example")},
        ("reply_to", "info", "from"),
    ),
    (
        "no-reply with reply-to",
        {"sender": Address("noreply@s.example"), "reply_to": (Address("help@s.example"),)},
        None,
    ),
    ("no unsubscribe", {"headers": ()}, ("unsubscribe", "info", "unsubscribe")),
    ("sandbox", {"sandbox": True}, ("sandbox", "info", "sandbox")),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_header_findings(changes: dict[str, Any], expected: tuple[str, str, str] | None) -> None:
    found = [(f.check, f.severity, f.field) for f in header_findings(message(**changes))]
    assert found == ([] if expected is None else [expected])


def test_a_text_part_made_from_the_html_is_reported() -> None:
    found = header_findings(message(), text_generated=True)
    assert [(f.check, f.severity) for f in found] == [("text_part", "info")]


SIZE_CASES = [
    ("small", 2_000, 1_000, []),
    ("at the common limit", COMMON_MESSAGE_BYTES, 0, []),
    ("over the common limit", COMMON_MESSAGE_BYTES + 1, 0, [("warning", "attachments")]),
    ("over the hard limit", MAX_MESSAGE_BYTES + 1, 0, [("error", "attachments")]),
    ("html clipped", 200_000, GMAIL_CLIP_BYTES + 1, [("warning", "html")]),
]


@pytest.mark.parametrize(
    ("size", "html", "expected"), [c[1:] for c in SIZE_CASES], ids=[c[0] for c in SIZE_CASES]
)
def test_size_findings(size: int, html: int, expected: list[tuple[str, str]]) -> None:
    assert [(f.severity, f.field) for f in size_findings(size, html)] == expected


def record(purpose: str, status: str, required: bool = True) -> RecordState:
    return RecordState(
        purpose=purpose, host=f"{purpose}.s.example", status=status, required=required
    )


ALL_VERIFIED = [
    record("return_path", "verified"),
    record("spf", "verified"),
    record("dkim", "verified"),
    record("dmarc", "verified", required=False),
]

# (case, problem, records, expected [(check, severity)])
DOMAIN_CASES: list[tuple[str, str, list[RecordState], list[tuple[str, str]]]] = [
    ("ready", "", ALL_VERIFIED, [("domain", "info")]),
    ("not a domain of the account", "domain x is not verified", [], [("domain", "error")]),
    ("dkim missing", "", [*ALL_VERIFIED[:2], record("dkim", "missing")], [("dkim", "error")]),
    ("spf mismatch", "", [record("spf", "mismatch"), ALL_VERIFIED[2]], [("spf", "error")]),
    ("lookup failed", "", [record("spf", "error")], [("spf", "warning")]),
    ("never checked", "", [record("dkim", "pending")], [("dkim", "warning")]),
    (
        "no dmarc",
        "",
        [*ALL_VERIFIED[:3], record("dmarc", "missing", False)],
        [("dmarc", "warning")],
    ),
    ("no ptr", "", [*ALL_VERIFIED, record("ptr", "mismatch", False)], [("ptr", "info")]),
]


@pytest.mark.parametrize(
    ("problem", "records", "expected"),
    [c[1:] for c in DOMAIN_CASES],
    ids=[c[0] for c in DOMAIN_CASES],
)
def test_domain_findings(
    problem: str, records: list[RecordState], expected: list[tuple[str, str]]
) -> None:
    found = domain_findings("s.example", "s.example", problem, records)
    assert [(f.check, f.severity) for f in found] == expected
    assert all(f.field == "from" for f in found)


COMPLETE_SOURCE = (
    ("From", "App <app@sender.example>"),
    ("To", "user@receiver.example"),
    ("Subject", "Your receipt"),
    ("Date", "Thu, 03 Dec 2026 17:00:00 +0000"),
    ("Message-ID", "<a@sender.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain"),
    ("List-Unsubscribe", "<https://e.example/u>"),
)


def without(name: str) -> tuple[tuple[str, str], ...]:
    return tuple(f for f in COMPLETE_SOURCE if f[0] != name)


# (case, header fields, unreadable fields, expected (severity, field) or None: no finding)
SOURCE_CASES: list[tuple[str, Any, Any, tuple[str, str, str] | None]] = [
    ("complete", COMPLETE_SOURCE, (), None),
    ("no From", without("From"), (), ("headers", "error", "From")),
    ("no Date", without("Date"), (), ("headers", "error", "Date")),
    ("no Message-ID", without("Message-ID"), (), ("headers", "warning", "Message-ID")),
    ("no MIME-Version", without("MIME-Version"), (), ("headers", "warning", "MIME-Version")),
    ("two Subjects", (*COMPLETE_SOURCE, ("subject", "Again")), (), ("headers", "error", "Subject")),
    ("a Bcc shown", (*COMPLETE_SOURCE, ("Bcc", "x@y.example")), (), ("headers", "error", "Bcc")),
    ("unreadable To", COMPLETE_SOURCE, (("To", "bad address"),), ("headers", "warning", "To")),
    ("no Subject", without("Subject"), (), ("subject", "warning", "subject")),
    ("no unsubscribe", without("List-Unsubscribe"), (), ("unsubscribe", "info", "unsubscribe")),
]


@pytest.mark.parametrize(
    ("fields", "invalid", "expected"),
    [c[1:] for c in SOURCE_CASES],
    ids=[c[0] for c in SOURCE_CASES],
)
def test_source_header_findings(
    fields: Any, invalid: Any, expected: tuple[str, str, str] | None
) -> None:
    found = [(f.check, f.severity, f.field) for f in source_header_findings(fields, invalid)]
    assert found == ([expected] if expected else [])
