"""The two MIME builders agree, and header folding never changes a field's value."""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald_service.core.message import Address, Attachment, OutgoingMessage
from herald_service.core.mime import build_full, build_mime
from herald_service.core.mime_plain import build_plain, is_plain
from herald_service.core.mime_policies import FOLD_AT, LINE_LIMIT, fold_ascii

DATE = "Thu, 26 Nov 2026 22:32:37 +0000"
HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version")

printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)
local_part = st.from_regex(r"[a-z0-9][a-z0-9.+_-]{0,20}", fullmatch=True).filter(
    lambda s: ".." not in s and not s.endswith(".")
)
addresses = st.builds(
    Address,
    email=st.builds(lambda local: f"{local}@example.com", local_part),
    name=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
)
bodies = st.none() | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
plain_messages = st.builds(
    OutgoingMessage,
    sender=addresses,
    to=st.lists(addresses, min_size=1, max_size=3).map(tuple),
    cc=st.lists(addresses, max_size=2).map(tuple),
    reply_to=st.lists(addresses, max_size=1).map(tuple),
    subject=printable.map(str.strip),
    text=bodies,
    html=bodies,
    headers=st.lists(
        st.tuples(st.sampled_from(["X-Campaign", "List-Unsubscribe"]), printable.map(str.strip)),
        max_size=2,
    ).map(tuple),
).filter(lambda m: m.text is not None or m.html is not None)


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def leaves(message: EmailMessage) -> list[tuple[str, str | None]]:
    return [
        (part.get_content_type(), None if part.is_multipart() else part.get_content())
        for part in message.walk()
    ]


@settings(max_examples=150, deadline=None)
@given(plain_messages)
def test_plain_builder_matches_the_full_one(message: OutgoingMessage) -> None:
    assert is_plain(message)
    fast = build_plain(message, message_id="<a@h.example>", date=DATE)
    full = build_full(message, message_id="<a@h.example>", date=DATE)
    fast_parsed, full_parsed = parse(fast), parse(full)
    for name in (*HEADERS, "X-Campaign", "List-Unsubscribe"):
        assert str(fast_parsed.get(name)) == str(full_parsed.get(name)), name
    assert leaves(fast_parsed) == leaves(full_parsed)
    assert fast_parsed.defects == [] and all(not p.defects for p in fast_parsed.walk())
    lines = fast.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert all(len(line) <= LINE_LIMIT for line in lines)


@pytest.mark.parametrize(
    "change",
    [
        {"attachments": (Attachment("a.txt", b"x"),)},
        {"subject": "Grüße"},
        {"sender": Address("app@example.com", "Zoë")},
        {"headers": (("X-Note", "café"),)},
    ],
)
def test_attachments_and_non_ascii_headers_take_the_full_builder(
    change: dict[str, object],
) -> None:
    base = {"sender": Address("app@example.com"), "to": (Address("u@example.org"),)}
    message = OutgoingMessage(**{**base, "text": "hi", **change})  # type: ignore[arg-type]
    assert not is_plain(message)
    raw = build_mime(message, message_id="<a@h.example>")
    assert parse(raw).get_content_type() in ("text/plain", "multipart/mixed")


def test_common_message_is_written_without_encoded_words() -> None:
    message = OutgoingMessage(
        sender=Address("app@example.com", "App"),
        to=(Address("u@example.org"),),
        subject="Your code",
        text="Code: 4711\n",
    )
    raw = build_mime(message, message_id="<a@h.example>")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"From: App <app@example.com>\r\n" in head
    assert b"Content-Transfer-Encoding: 7bit" in head
    assert body == b"Code: 4711\r\n"


def test_date_is_the_time_of_building() -> None:
    message = OutgoingMessage(
        sender=Address("app@example.com"), to=(Address("u@example.org"),), subject="s", text="t"
    )
    for _ in range(3):  # the value is formatted once per second: each build must be current
        before = datetime.now(UTC).replace(microsecond=0)
        date = parse(build_mime(message, message_id="<a@h.example>"))["Date"]
        after = datetime.now(UTC)
        assert before <= parsedate_to_datetime(date) <= after
        time.sleep(0.6)


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=600))
def test_fold_ascii_round_trips(value: str) -> None:
    folded = fold_ascii("List-Unsubscribe", value)
    if folded is None:  # only when a space-free run cannot fit on one line
        assert any(len(word) > LINE_LIMIT - 20 for word in value.split(" "))
        return
    assert folded.endswith("\r\n")
    assert folded[:-2].replace("\r\n", "") == f"List-Unsubscribe: {value}"
    lines = folded[:-2].split("\r\n")
    for line in lines[1:]:
        assert re.match(r" \S", line), line  # a continuation starts with WSP, then text
    for line, following in itertools.pairwise(lines):
        # Folded early only when the next word would not have fitted.
        assert len(line) + len(following.split(" ")[1]) + 1 > FOLD_AT


def test_fold_ascii_refuses_what_it_cannot_fold() -> None:
    assert fold_ascii("Subject", "é") is None
    assert fold_ascii("Subject", "x" * 1000) is None
    long_url = "<https://example.com/" + "u" * 100 + ">"
    assert fold_ascii("List-Unsubscribe", f"{long_url}, <mailto:u@example.com>") == (
        f"List-Unsubscribe: {long_url},\r\n <mailto:u@example.com>\r\n"
    )
