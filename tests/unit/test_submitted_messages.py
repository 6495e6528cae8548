"""The pure rules of SMTP submission: reading the header section as written, the
``X-Herald-*`` options, and what is removed and added before signing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald_service.core.header_section import (
    MalformedMessage,
    normalise_line_endings,
    split_message,
)
from herald_service.core.message import Address
from herald_service.submission.intake import read_submission
from herald_service.submission.options import read_options
from herald_service.submission.replies import Refusal

HEADER = (
    b"From: =?utf-8?q?Caf=C3=A9?= <app@sender.example>\r\n"
    b"To: Alice <alice@receiver.example>\r\n"
    b"Cc: carol@receiver.example\r\n"
    b"Bcc: hidden@receiver.example\r\n"
    b"Subject: =?utf-8?q?R=C3=A9sum=C3=A9?=\r\n"
    b"  folded\r\n"
    b"X-Herald-Tags: a, b\r\n"
)
BODY = b"\r\nline one\r\n\r\nline three\r\n"
DAY = 72 * 3600.0


def test_fields_are_kept_byte_for_byte_with_their_folding() -> None:
    parts = split_message(HEADER + BODY)
    assert [f.name for f in parts.fields] == ["From", "To", "Cc", "Bcc", "Subject", "X-Herald-Tags"]
    assert parts.to_bytes() == HEADER + BODY
    assert parts.named("subject")[0].raw.endswith(b"  folded\r\n")
    assert parts.without("bcc", prefix="x-herald-").to_bytes() == (
        HEADER.replace(b"Bcc: hidden@receiver.example\r\n", b"").replace(
            b"X-Herald-Tags: a, b\r\n", b""
        )
        + BODY
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"From: a@b.example\r\nSubject: x\ry\r\n\r\nbody", "bare CR"),
        (b"From: a@b.example\r\nno colon here\r\n\r\nbody", "not a header field"),
        (b" folded first\r\nFrom: a@b.example\r\n\r\nbody", "continuation"),
        (b"From: a@b.example\r\n\r\nbo\x00dy", "NUL"),
        (b"\r\nbody only", "no header fields"),
    ],
)
def test_what_could_smuggle_a_header_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        split_message(data)


def test_bare_line_feeds_become_crlf_as_postfix_does() -> None:
    assert normalise_line_endings(b"a\nb\r\nc\n") == b"a\r\nb\r\nc\r\n"


def test_options_are_read_checked_and_refused_by_name() -> None:
    def options(*lines: bytes) -> object:
        return read_options(split_message(b"From: a@b.example\r\n" + b"".join(lines) + BODY), DAY)

    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat().encode()
    read = read_options(
        split_message(
            b"From: a@b.example\r\nX-Herald-Tags: one, two\r\n"
            b'X-Herald-Metadata: {"k": "v"}\r\nX-Herald-Send-At: ' + later + b"\r\n" + BODY
        ),
        DAY,
    )
    assert read.tags == ("one", "two") and read.metadata == {"k": "v"}
    assert read.send_at is not None and read.send_at.tzinfo is not None
    for bad, name in [
        (b"X-Herald-Metadata: [1]\r\n", "X-Herald-Metadata"),
        (b'X-Herald-Metadata: {"k": 1}\r\n', "X-Herald-Metadata"),
        (b"X-Herald-Sandbox: maybe\r\n", "X-Herald-Sandbox"),
        (b"X-Herald-Send-At: tomorrow\r\n", "X-Herald-Send-At"),
        (b"X-Herald-Send-At: 2000-01-01T00:00:00Z\r\n", "X-Herald-Send-At"),
        (b"X-Herald-Tags: " + b",".join(b"t%d" % i for i in range(11)) + b"\r\n", "X-Herald-Tags"),
        (b"X-Herald-Template-Data: {}\r\n", "X-Herald-Template-Data"),
        (b"X-Herald-Tag: misspelt\r\n", "X-Herald-Tag"),
        (b"X-Herald-Sandbox: true\r\nX-Herald-Sandbox: true\r\n", "X-Herald-Sandbox"),
    ]:
        with pytest.raises(Refusal) as refused:
            options(bad)
        assert refused.value.reply.startswith(f"550 5.6.0 {name}:"), refused.value.reply


def test_a_submission_loses_bcc_and_options_and_gains_message_id_and_date() -> None:
    recipients = [
        Address("alice@receiver.example"),
        Address("carol@receiver.example"),
        Address("hidden@receiver.example"),
    ]
    submitted = read_submission(HEADER + BODY, recipients, "mta.herald.example", DAY)
    written = submitted.to_bytes()
    header = written.split(b"\r\n\r\n")[0]
    assert b"Bcc:" not in header and b"X-Herald" not in header
    assert header.startswith(b"Message-ID: <") and b"@mta.herald.example>\r\nDate: " in header
    assert written.endswith(BODY)
    assert submitted.sender == Address("app@sender.example", "Café")
    assert submitted.subject == "Résumé  folded"  # unfolding removes the CRLF only
    assert [kind for kind, _ in submitted.envelope] == ["to", "cc", "bcc"]
    assert submitted.options.tags == ("a", "b")
    given = b"Message-ID: <mine@app.example>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
    kept = read_submission(given + HEADER + BODY, recipients, "mta.herald.example", DAY)
    assert kept.message_id == "<mine@app.example>"
    assert kept.to_bytes().count(b"Message-ID:") == 1 and kept.to_bytes().count(b"Date:") == 1
