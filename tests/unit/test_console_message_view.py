"""The Message page's reading of raw MIME: DKIM checked against stored keys without DNS
(a changed body fails, an unknown selector is said so), the parts, the attachments."""

from __future__ import annotations

import pytest

from herald_service.console.message_view import preview_html, verify_signatures, view_message
from herald_service.mail.dkim_keys import generate_ed25519, generate_rsa, txt_record_value
from herald_service.mail.dkim_signing import SigningKey, sign

MESSAGE = (
    b"From: Shop <shop@sender.example>\r\n"
    b"To: alice@receiver.example\r\n"
    b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n"
    b"Message-ID: <abc@mta.herald.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b'Content-Type: multipart/alternative; boundary="b2"\r\n'
    b"\r\n"
    b"--b2\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Plain words.\r\n"
    b"--b2\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b'<META HTTP-EQUIV="Refresh" content="0;url=https://away.example"><p>Rich</p>\r\n'
    b"--b2--\r\n"
    b"--b1\r\n"
    b"Content-Type: text/csv\r\n"
    b'Content-Disposition: attachment; filename="list.csv"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"YSxiLGMK\r\n"
    b"--b1--\r\n"
)


@pytest.fixture(scope="module")
def signed() -> tuple[bytes, dict[str, str]]:
    rsa, ed = generate_rsa(), generate_ed25519()
    keys = [
        SigningKey("sender.example", "s1r", "rsa", rsa.private_key),
        SigningKey("sender.example", "s1e", "ed25519", ed.private_key),
    ]
    records = {
        "s1r._domainkey.sender.example": txt_record_value("rsa", rsa.public_key),
        "s1e._domainkey.sender.example": txt_record_value("ed25519", ed.public_key),
    }
    return sign(MESSAGE, keys), records


def test_signatures_verify_against_the_stored_keys(signed: tuple[bytes, dict[str, str]]) -> None:
    raw, records = signed
    results = verify_signatures(raw, records)
    assert [(s.selector, s.domain, s.result) for s in results] == [
        ("s1r", "sender.example", "pass"),
        ("s1e", "sender.example", "pass"),
    ]
    assert all(s.header.startswith("v=1;") and "b=" in s.header for s in results)
    tampered = raw.replace(b"Plain words.", b"Plain lies.")
    assert [s.result for s in verify_signatures(tampered, records)] == ["fail", "fail"]
    only_rsa = {k: v for k, v in records.items() if k.startswith("s1r")}
    assert [s.result for s in verify_signatures(raw, only_rsa)] == ["pass", "unknown key"]
    assert verify_signatures(MESSAGE, records) == []


def test_parts_headers_and_attachments(signed: tuple[bytes, dict[str, str]]) -> None:
    raw, records = signed
    view = view_message(raw, records)
    assert dict(view.headers)["From"] == "Shop <shop@sender.example>"
    assert dict(view.headers)["Subject"] == "Café"
    assert "Cc" not in dict(view.headers)
    assert view.text is not None and view.text.strip() == "Plain words."
    assert view.html is not None and "<p>Rich</p>" in view.html
    assert [(a.name, a.content_type, a.size) for a in view.attachments] == [
        ("list.csv", "text/csv", 6)
    ]
    assert view.raw.startswith("DKIM-Signature:") and not view.raw_truncated
    preview = preview_html(raw)
    assert b"<p>Rich</p>" in preview and b"away.example" not in preview
    assert b"no HTML part" in preview_html(b"Subject: plain\r\n\r\nonly text\r\n")
