"""DKIM signing: the header list, oversigning, no l= tag, and byte-identical to dkimpy."""

from __future__ import annotations

import re

import dkim
import pytest
from dkim.canonicalization import Relaxed
from hypothesis import given
from hypothesis import strategies as st

from herald_service.mail.dkim_keys import (
    generate_ed25519,
    generate_rsa,
    txt_record_value,
)
from herald_service.mail.dkim_signing import (
    SigningKey,
    header_fields,
    header_list,
    relaxed_body,
    relaxed_header,
    sign,
)

MESSAGE = (
    b"From: App <app@sender.example>\r\n"
    b"To: alice@receiver.example\r\n"
    b"Cc: bob@receiver.example\r\n"
    b"Reply-To: help@sender.example\r\n"
    b"Subject: Confirm your address\r\n"
    b"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <abc@mta.herald.example>\r\n"
    b"List-Unsubscribe: <https://sender.example/u/1>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"X-Mailer: not signed\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Click the link.\r\n"
)


@pytest.fixture(scope="module")
def keys() -> tuple[list[SigningKey], dict[bytes, bytes]]:
    rsa, ed = generate_rsa(), generate_ed25519()
    signing = [
        SigningKey("sender.example", "s1r", "rsa", rsa.private_key),
        SigningKey("sender.example", "s1e", "ed25519", ed.private_key),
    ]
    zone = {
        b"s1r._domainkey.sender.example.": txt_record_value("rsa", rsa.public_key).encode(),
        b"s1e._domainkey.sender.example.": txt_record_value("ed25519", ed.public_key).encode(),
    }
    return signing, zone


def _verify(raw: bytes, zone: dict[bytes, bytes]) -> list[bool]:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return zone.get(name if name.endswith(b".") else name + b".")

    checker = dkim.DKIM(raw)
    count = raw.count(b"DKIM-Signature:")
    return [bool(checker.verify(idx=i, dnsfunc=lookup)) for i in range(count)]


def _tags(raw: bytes, index: int) -> dict[str, str]:
    headers = re.findall(rb"DKIM-Signature:(.*?)\r\n(?=\S)", raw, re.DOTALL)
    value = re.sub(rb"\s+", b"", headers[index]).decode()
    return dict(part.split("=", 1) for part in value.split(";") if part)


def _add_header(raw: bytes, header: bytes, *, top: bool) -> bytes:
    head, body = raw.split(b"\r\n\r\n", 1)
    if top:
        return header + b"\r\n" + raw
    return head + b"\r\n" + header + b"\r\n\r\n" + body


def test_both_signatures_with_the_issue_header_list(keys) -> None:  # type: ignore[no-untyped-def]
    signing, zone = keys
    signed = sign(MESSAGE, signing)
    assert _verify(signed, zone) == [True, True]
    for index, algorithm in enumerate(["rsa-sha256", "ed25519-sha256"]):
        tags = _tags(signed, index)
        assert tags["a"] == algorithm
        assert tags["c"] == "relaxed/relaxed"
        assert "l" not in tags
        assert tags["h"].split(":") == [
            "from", "from", "to", "cc", "subject", "subject", "date", "message-id",
            "mime-version", "content-type", "reply-to", "list-unsubscribe",
            "list-unsubscribe", "list-unsubscribe-post", "list-unsubscribe-post",
        ]  # fmt: skip


def test_absent_optional_headers_are_not_listed() -> None:
    plain = b"From: a@sender.example\r\nTo: b@r.example\r\nSubject: x\r\n\r\nbody\r\n"
    assert header_list(plain) == [b"from", b"from", b"to", b"subject", b"subject"]


@pytest.mark.parametrize(
    "extra",
    [
        b"From: Evil <ceo@sender.example>",
        b"Subject: Wire the money",
        b"List-Unsubscribe: <https://evil.example/u>",
    ],
)
@pytest.mark.parametrize("top", [True, False])
def test_an_added_oversigned_header_breaks_both_signatures(keys, extra: bytes, top: bool) -> None:  # type: ignore[no-untyped-def]
    signing, zone = keys
    signed = sign(MESSAGE, signing)
    assert _verify(signed, zone) == [True, True]
    assert _verify(_add_header(signed, extra, top=top), zone) == [False, False]


def test_an_added_unsigned_header_keeps_the_signatures_valid(keys) -> None:  # type: ignore[no-untyped-def]
    signing, zone = keys
    signed = sign(MESSAGE, signing)
    assert _verify(_add_header(signed, b"X-Spam-Score: 0", top=False), zone) == [True, True]


# Folded and repeated fields, tabs and runs of spaces, an empty value, an unsigned field
# between signed ones: what header selection and canonicalisation must get right.
AWKWARD = (
    b"From: App <app@sender.example>\r\n"
    b"To: alice@receiver.example,\r\n\t  carol@receiver.example\r\n"
    b"X-Trace: a\tb\r\n"
    b"To:  dave@receiver.example  \r\n"
    b"Subject:\tLong  subject\r\n   folded \t twice\r\n"
    b"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
    b"Reply-To:\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain;\r\n charset=utf-8\r\n"
    b"\r\n"
    b"Body  with \t odd spacing  \r\n\r\n"
)


@pytest.mark.parametrize("message", [MESSAGE, AWKWARD], ids=["plain", "awkward"])
def test_signatures_are_byte_identical_to_dkimpys(  # type: ignore[no-untyped-def]
    keys, monkeypatch: pytest.MonkeyPatch, message: bytes
) -> None:
    signing, zone = keys
    monkeypatch.setattr(dkim.time, "time", lambda: 1_795_000_000)
    fast = sign(message, signing)
    reference = sign(message, signing, reference=True)
    assert fast == reference
    assert _verify(fast, zone) == [True, True]


def test_a_wrong_public_key_fails(keys) -> None:  # type: ignore[no-untyped-def]
    signing, zone = keys
    other = generate_rsa()
    wrong = dict(zone)
    wrong[b"s1r._domainkey.sender.example."] = txt_record_value("rsa", other.public_key).encode()
    del wrong[b"s1e._domainkey.sender.example."]
    assert _verify(sign(MESSAGE, signing), wrong) == [False, False]


def test_a_signing_key_never_shows_its_private_half(keys) -> None:  # type: ignore[no-untyped-def]
    signing, _ = keys
    for key in signing:
        shown = repr(key) + str(key) + repr([key])
        assert key.private_key.decode()[40:80] not in shown
        assert "_domainkey.sender.example" in shown


@given(st.binary(max_size=200).map(lambda b: bytes(b" \t\r\nab"[x % 6] for x in b)))
def test_relaxed_body_is_dkimpys(body: bytes) -> None:
    # Bodies made of spaces, tabs, CR, LF and two letters: every whitespace edge case.
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)


@pytest.mark.parametrize(
    "body",
    [b"", b"\r\n", b"x ", b"a \t b  \r\n\r\n\r\n", b"x\t\r\n \r\n", b"a\nb \r\n", b"a \rb\r\n"],
)
def test_relaxed_body_edge_cases(body: bytes) -> None:
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)


_FIELD_VALUES = st.binary(max_size=60).map(lambda b: bytes(b" \t\r\nab:"[x % 7] for x in b))


@given(st.sampled_from([b"To", b"SUBJECT", b"x-y", b"From"]), _FIELD_VALUES)
def test_relaxed_header_is_dkimpys(name: bytes, value: bytes) -> None:
    assert [relaxed_header(name, value)] == Relaxed.canonicalize_headers([(name, value)])


_HEADER_LINES = st.lists(
    st.sampled_from(
        [b"From: a@b.example", b"To:x", b"Subject:  two  spaces ", b" folded", b"\tfolded", b"X:"]
    ),
    min_size=1,
    max_size=8,
).filter(lambda lines: lines[0][:1] not in (b" ", b"\t"))


@given(_HEADER_LINES, st.sampled_from([b"\r\n", b"\n"]), _FIELD_VALUES)
def test_header_fields_are_dkimpys_parse(lines: list[bytes], eol: bytes, body: bytes) -> None:
    message = eol.join(lines) + eol + eol + body
    fields, parsed_body = header_fields(message)
    expected_fields, expected_body = dkim.rfc822_parse(message)
    assert (fields, parsed_body) == ([tuple(f) for f in expected_fields], expected_body)
