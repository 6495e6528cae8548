"""The MIME Herald builds, checked after real SMTP delivery by two parsers and two verifiers.

Each case is sent through ``POST /v1/messages``, delivered to a simulated MX, then:
the delivered bytes equal ``GET /v1/messages/{id}/raw``; they are SMTP-safe (CRLF only, no
line over 998 octets, ASCII headers); Python's ``email`` and mailparser (Node.js) both read
the expected structure and content; both DKIM signatures verify with dkimpy and with
mailauth, and stop verifying with both once one body byte changes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from simnet.fixtures import SMTPServerFactory
from simnet.smtp import ReceivedMessage
from support.dkim_check import signature_algorithms, verify_all
from support.harness import Herald
from support.independent import dkim_results, inspect_emls
from support.message_checks import (
    Attached,
    addresses,
    all_defects,
    assert_smtp_safe,
    dkimpy_results,
    js_addresses,
    js_tree,
    lf,
    published_dkim_records,
    python_attachments,
    python_tree,
    tamper_body,
)

SENDER = "app@sender.example"
RECIPIENT = "alice@receiver.example"
BOTH_PASS = [("rsa-sha256", "pass"), ("ed25519-sha256", "pass")]


def _png() -> bytes:
    """A valid 1x1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    + bytes(range(256))  # binary bytes, so the part must be base64
)


def _file(filename: str, content: bytes, content_type: str, **extra: str) -> dict[str, str]:
    return {
        "filename": filename,
        "content": base64.b64encode(content).decode(),
        "content_type": content_type,
        **extra,
    }


@dataclass
class Case:
    """One message to send and what a reader must find in it."""

    body: dict[str, Any]
    tree: str  # MIME structure, e.g. "multipart/alternative(text/plain,text/html)"
    text: str | None  # expected text/plain content (without the final newline), None: no text
    html: str | None = None
    attachments: list[Attached] = field(default_factory=list)
    derived_text: bool = False  # Herald derives the text/plain part from the html
    rcpt: str = RECIPIENT
    mx_domain: str = "receiver.example"


HTML = '<p>Hello <b>Alice</b>, your code is <a href="https://app.example/c">4711</a>.</p>'
LONG_WORD = "x" * 4000 + "y" * 1000
# Longer than a header line: it must be folded at the space, never RFC 2047-encoded.
UNSUBSCRIBE_URL = "https://sender.example/unsubscribe?u=42&t=" + "abc0123456789" * 6
UNSUBSCRIBE = {"url": UNSUBSCRIBE_URL, "mailto": "unsubscribe@sender.example"}
EXPECTED_UNSUBSCRIBE = f"<{UNSUBSCRIBE_URL}>, <mailto:unsubscribe@sender.example>"

CASES: dict[str, Case] = {
    "text_only": Case(
        {"subject": "Plain", "text": "Hello Alice,\nyour code is 4711."},
        "text/plain",
        "Hello Alice,\nyour code is 4711.",
    ),
    "html_only": Case(
        {"subject": "HTML only", "html": HTML},
        "multipart/alternative(text/plain,text/html)",
        None,
        HTML,
        derived_text=True,
    ),
    "text_and_html": Case(
        {"subject": "Both", "text": "Hello Alice, code 4711.", "html": HTML},
        "multipart/alternative(text/plain,text/html)",
        "Hello Alice, code 4711.",
        HTML,
    ),
    "inline_image": Case(
        {
            "subject": "With a logo",
            "text": "Our logo.",
            "html": '<p>Our logo: <img src="cid:logo.1@sender.example" alt="logo"></p>',
            "attachments": [
                _file(
                    "logo.png",
                    PNG,
                    "image/png",
                    disposition="inline",
                    content_id="logo.1@sender.example",
                )
            ],
        },
        "multipart/alternative(text/plain,multipart/related(text/html,image/png))",
        "Our logo.",
        '<p>Our logo: <img src="cid:logo.1@sender.example" alt="logo"></p>',
        [("logo.png", "image/png", "inline", "logo.1@sender.example", PNG)],
    ),
    "attachments": Case(
        {
            "subject": "Your invoice",
            "text": "Invoice attached.",
            "attachments": [
                _file("Rechnung März — 2024.pdf", PDF, "application/pdf"),
                _file("chart.png", PNG, "image/png"),
            ],
        },
        "multipart/mixed(text/plain,application/pdf,image/png)",
        "Invoice attached.",
        None,
        [
            ("Rechnung März — 2024.pdf", "application/pdf", "attachment", None, PDF),
            ("chart.png", "image/png", "attachment", None, PNG),
        ],
    ),
    "attachment_only": Case(
        {"subject": "Just the file", "attachments": [_file("report.pdf", PDF, "application/pdf")]},
        "multipart/mixed(application/pdf)",
        None,
        None,
        [("report.pdf", "application/pdf", "attachment", None, PDF)],
    ),
    "idn_recipient": Case(
        {"subject": "IDN", "text": "Hallo!", "to": [{"email": "user@bücher.example"}]},
        "text/plain",
        "Hallo!",
        rcpt="user@xn--bcher-kva.example",
        mx_domain="xn--bcher-kva.example",
    ),
    "non_ascii_subject_and_names": Case(
        {
            "subject": "Grüße aus Köln — ваш заказ 📦 ist da; "
            "bitte prüfen Sie die Lieferung bis Freitag",
            "from": {"email": SENDER, "name": "Zoë Ångström"},
            "to": [{"email": RECIPIENT, "name": "Jürgen Müller"}],
            "cc": [{"email": "bob@receiver.example", "name": 'Doe, Jane "JD" 山田'}],
            "reply_to": {"email": "support@sender.example", "name": "Support-Team Ü"},
            "text": "Grüße, 山田さん! ✓",
            "html": "<p>Grüße, 山田さん! ✓</p>",
            "unsubscribe": UNSUBSCRIBE,
        },
        "multipart/alternative(text/plain,text/html)",
        "Grüße, 山田さん! ✓",
        "<p>Grüße, 山田さん! ✓</p>",
    ),
    "name_addr_strings": Case(
        {
            "subject": "Name-addr strings",
            "from": '"Acme, Inc. \\"EU\\"" <app@sender.example>',
            "to": ["Alice Example <alice@receiver.example>"],
            "cc": ["=?utf-8?q?J=C3=B6rg?= <joerg@receiver.example>"],
            "reply_to": '"Help (Desk)" <help@sender.example>',
            "text": "Hello.",
        },
        "text/plain",
        "Hello.",
    ),
    "long_line": Case(
        {"subject": "Long line", "text": LONG_WORD, "html": f"<p>{LONG_WORD}</p>"},
        "multipart/alternative(text/plain,text/html)",
        LONG_WORD,
        f"<p>{LONG_WORD}</p>",
    ),
    "bare_cr_and_lf": Case(
        {
            "subject": "Line endings",
            "text": "one\rtwo\nthree\r\nfour\n\n.\nfive",
            "html": "<p>one</p>\r<p>two</p>\n<p>three</p>\r\n",
        },
        "multipart/alternative(text/plain,text/html)",
        "one\ntwo\nthree\nfour\n\n.\nfive",
        "<p>one</p>\n<p>two</p>\n<p>three</p>\n",
    ),
    "list_unsubscribe": Case(
        {
            "subject": "Newsletter",
            "text": "News.",
            "unsubscribe": UNSUBSCRIBE,
        },
        "text/plain",
        "News.",
    ),
}

# Every case runs on SQLite; one also on PostgreSQL (message storage is the same code path).
BOTH_BACKENDS = {"text_and_html"}
PARAMS = [
    pytest.param(name, backend, id=f"{name}-{backend}")
    for name in CASES
    for backend in ("sqlite", "postgresql")
    if backend == "sqlite" or name in BOTH_BACKENDS
]


# ------------------------------------------------------------------------ the test


async def send_and_deliver(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
    case: Case,
) -> tuple[ReceivedMessage, bytes]:
    """Send ``case`` through the API and deliver it: the MX's copy and the stored raw bytes."""
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx(case.mx_domain, (10, f"mx.{case.mx_domain}", "127.0.0.2"))
    if case.mx_domain != "receiver.example":
        herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    mx = smtp_server_factory("127.0.0.2")
    body = {"from": SENDER, "to": [RECIPIENT], **case.body}
    response = await api.post("/v1/messages", headers=tenant.headers, json=body)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    assert await herald.drain_queue() == 1
    assert len(mx.messages) == 1  # one transaction, however many recipients at that MX
    raw_response = await api.get(f"/v1/messages/{message_id}/raw", headers=tenant.headers)
    assert raw_response.status_code == 200
    return mx.messages[0], raw_response.content


@pytest.mark.parametrize(("case_name", "database_url"), PARAMS, indirect=["database_url"])
async def test_message_format(
    case_name: str,
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    smtp_server_factory: SMTPServerFactory,
) -> None:
    case = CASES[case_name]
    received, stored = await send_and_deliver(herald, api, smtp_server_factory, case)
    raw = received.data

    # What was signed and stored is byte for byte what the MX received.
    assert raw == stored
    assert case.rcpt in received.rcpt_tos
    assert_smtp_safe(raw)

    # Python's email package.
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert all_defects(parsed) == []
    assert python_tree(parsed) == case.tree
    assert parsed["MIME-Version"] == "1.0"
    assert re.fullmatch(r"<[0-9a-f]{32}@mta\.herald\.example>", parsed["Message-ID"])
    assert parsed["Date"].datetime is not None
    subject = case.body["subject"]
    assert parsed["Subject"] == subject
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    # get_content() keeps the wire's CRLF line ends; compare texts with LF line ends.
    py_text = lf(text_part.get_content()) if text_part else None
    py_html = lf(html_part.get_content()) if html_part and case.html is not None else None
    if case.derived_text:
        assert py_text is not None and "Hello" in py_text and "4711" in py_text
        assert "<" not in py_text
    elif case.text is not None:
        assert py_text is not None and py_text.rstrip("\n") == case.text
    else:
        assert py_text is None
    if case.html is not None:
        assert py_html is not None and py_html.rstrip("\n") == case.html.rstrip("\n")
    assert python_attachments(parsed) == case.attachments

    # The independent parser (mailparser + mailsplit) agrees.
    records = published_dkim_records(raw, herald.dns)
    tampered = tamper_body(raw)
    report, tampered_report = inspect_emls([(raw, records), (tampered, records)])
    js = report["parsed"]
    assert js_tree(report["mime_tree"]) == case.tree
    assert js["subject"] == subject
    assert js["message_id"] == parsed["Message-ID"]
    assert js_addresses(js["from"]) == addresses(parsed["From"])
    assert js_addresses(js["to"]) == addresses(parsed["To"])
    assert js_addresses(js["cc"]) == addresses(parsed["Cc"])
    assert js_addresses(js["reply_to"]) == addresses(parsed["Reply-To"])
    assert (js["text"] or "").rstrip("\n") == (py_text or "").rstrip("\n")
    assert (js["html"] or "").rstrip("\n") == (py_html or "").rstrip("\n")
    keys = ("filename", "contentType", "contentDisposition", "cid", "size", "checksum")
    js_files = [tuple(a[k] for k in keys) for a in js["attachments"]]
    assert js_files == [
        (name, ctype, disposition, cid, len(content), hashlib.md5(content).hexdigest())
        for name, ctype, disposition, cid, content in case.attachments
    ]

    # Both signatures verify with dkimpy and with mailauth ...
    assert signature_algorithms(raw) == ["rsa-sha256", "ed25519-sha256"]
    assert verify_all(raw, herald.dns) == [True, True]
    assert dkim_results(report) == BOTH_PASS
    # ... and neither does once one byte of the body changes.
    assert dkimpy_results(tampered, herald.dns) == [False, False]
    assert [result for _, result in dkim_results(tampered_report)] == ["neutral", "neutral"]
    assert {e["comment"] for e in tampered_report["dkim"]} == {"body hash did not verify"}

    check_case_specifics(case_name, raw, parsed, js)


def check_case_specifics(
    case_name: str, raw: bytes, parsed: EmailMessage, js: dict[str, Any]
) -> None:
    """What only some cases promise."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    if case_name == "idn_recipient":
        assert addresses(parsed["To"]) == [("user@xn--bcher-kva.example", "")]
        assert "xn--bcher-kva.example" in head
    if case_name == "non_ascii_subject_and_names":
        assert "=?utf-8?" in head.lower()  # RFC 2047 encoded words
        assert addresses(parsed["From"]) == [(SENDER, "Zoë Ångström")]
        assert addresses(parsed["To"]) == [(RECIPIENT, "Jürgen Müller")]
        assert addresses(parsed["Cc"]) == [("bob@receiver.example", 'Doe, Jane "JD" 山田')]
        assert addresses(parsed["Reply-To"]) == [("support@sender.example", "Support-Team Ü")]
    if case_name == "name_addr_strings":
        assert addresses(parsed["From"]) == [(SENDER, 'Acme, Inc. "EU"')]
        assert addresses(parsed["To"]) == [(RECIPIENT, "Alice Example")]
        assert addresses(parsed["Cc"]) == [("joerg@receiver.example", "Jörg")]
        assert addresses(parsed["Reply-To"]) == [("help@sender.example", "Help (Desk)")]
    if case_name == "long_line":
        for part in parsed.walk():
            if not part.is_multipart():
                assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    if case_name in ("list_unsubscribe", "non_ascii_subject_and_names"):
        # Readers look for <https://…> in the raw field: folded, not encoded.
        field_lines = re.search(r"^List-Unsubscribe:.*?(?=^\S)", head + "\r\nX", re.M | re.S)
        assert field_lines is not None and "=?" not in field_lines.group(0)
        assert f"<{UNSUBSCRIBE_URL}>" in field_lines.group(0)
        assert parsed["List-Unsubscribe"] == EXPECTED_UNSUBSCRIBE
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert js["headers"]["list-unsubscribe"] == EXPECTED_UNSUBSCRIBE
        assert js["headers"]["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
        for signature in re.findall(r"^DKIM-Signature:.*?(?=^\S)", head, re.M | re.S):
            signed = re.sub(r"\s+", "", signature).split("h=", 1)[1].split(";", 1)[0].split(":")
            assert signed.count("list-unsubscribe") == 2  # oversigned: none can be added
            assert signed.count("list-unsubscribe-post") == 2
