"""VERP addresses and report parsing, without servers."""

from __future__ import annotations

from herald_service.mail.reports import parse_complaint, parse_dsn
from herald_service.mail.return_path import parse_verp, verp_address

SECRET = "s" * 43


def test_verp_round_trip_and_forgery() -> None:
    address = verp_address(SECRET, "msg_01jabcdefghjkmnpqrstvwxyz0", 42, "bounces.a.example")
    local = address.partition("@")[0]
    assert len(local) <= 64
    found = parse_verp(SECRET, address.upper())
    assert found is not None
    assert (found.message_id, found.recipient_id) == ("msg_01jabcdefghjkmnpqrstvwxyz0", 42)
    assert parse_verp("another-secret-key-entirely-000000000000000", address) is None
    assert parse_verp(SECRET, address.replace(".42.", ".43.")) is None
    assert parse_verp(SECRET, "postmaster@bounces.a.example") is None


def test_dsn_with_several_recipients() -> None:
    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example\r\n\r\n"
        b"Final-Recipient: rfc822; A@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Original-Recipient: rfc822;b@example.com\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
        b"--x--\r\n"
    )
    reports = parse_dsn(raw)
    assert [(r.recipient, r.action, r.status, r.permanent) for r in reports] == [
        ("a@example.com", "failed", "5.1.1", True),
        ("b@example.com", "delayed", "4.4.1", False),
    ]
    assert parse_complaint(raw) is None


def test_plain_text_without_codes_is_not_a_bounce() -> None:
    assert parse_dsn(b"Subject: out of office\r\n\r\nI am away until Monday.\r\n") == []
