"""Reading delivered messages back: MIME trees, attachments, addresses, DKIM, SMTP safety.

Shared by tests that compare Python's ``email`` with the independent tools in
:mod:`support.independent` (mailparser, mailsplit, mailauth).
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import dkim

from simnet.dns import DNSServer

from .dkim_check import dns_txt_lookup, signature_algorithms

Attached = tuple[str, str, str, str | None, bytes]
"""``(filename, content_type, disposition, cid, content)`` of one attachment."""


def python_tree(part: EmailMessage) -> str:
    """``type(child,child)`` rendering of a parsed message's MIME structure."""
    if part.is_multipart():
        children = ",".join(python_tree(p) for p in part.iter_parts())  # type: ignore[arg-type]
        return f"{part.get_content_type()}({children})"
    return part.get_content_type()


def js_tree(node: dict[str, Any]) -> str:
    """The same rendering of mailsplit's tree."""
    if node["children"]:
        children = ",".join(js_tree(c) for c in node["children"])
        return f"{node['content_type']}({children})"
    return str(node["content_type"])


def published_dkim_records(raw: bytes, dns: DNSServer) -> dict[str, str]:
    """The TXT record at ``s._domainkey.d`` of each signature, as the test DNS serves it."""
    lookup = dns_txt_lookup(dns)
    records: dict[str, str] = {}
    for header in re.findall(rb"^DKIM-Signature:.*?(?=^\S)", raw, re.M | re.S):
        unfolded = re.sub(rb"\s+", b"", header).decode()
        domain = re.search(r"[;:]d=([^;]+)", unfolded)
        selector = re.search(r"[;:]s=([^;]+)", unfolded)
        assert domain and selector, unfolded
        name = f"{selector.group(1)}._domainkey.{domain.group(1)}"
        value = lookup(name.encode())
        assert value is not None, f"no TXT record published at {name}"
        records[name] = value.decode()
    return records


def dkimpy_results(raw: bytes, dns: DNSServer) -> list[bool]:
    """dkimpy's verdict per signature, a mismatch (which it raises) counting as False."""
    checker = dkim.DKIM(raw)
    lookup = dns_txt_lookup(dns)
    results = []
    for idx in range(len(signature_algorithms(raw))):
        try:
            results.append(bool(checker.verify(idx=idx, dnsfunc=lookup)))
        except dkim.DKIMException:
            results.append(False)
    return results


def tamper_body(raw: bytes) -> bytes:
    """``raw`` with one letter of the body (past the headers) changed."""
    start = raw.index(b"\r\n\r\n") + 4
    match = re.search(rb"[A-Za-z0-9]", raw[start + (len(raw) - start) // 2 :])
    assert match is not None
    at = start + (len(raw) - start) // 2 + match.start()
    replacement = b"Q" if raw[at : at + 1] != b"Q" else b"R"
    return raw[:at] + replacement + raw[at + 1 :]


def assert_smtp_safe(raw: bytes) -> None:
    """CRLF only, every line within 998 octets, 7-bit headers, final CRLF."""
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", raw) is None, "bare CR or LF in the message"
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "non-ASCII bytes in the header section"
    assert b"\nBcc:" not in head and not head.startswith(b"Bcc:")


def lf(text: str) -> str:
    """``text`` with CRLF line ends turned into LF."""
    return text.replace("\r\n", "\n")


def all_defects(message: EmailMessage) -> list[str]:
    """Every defect Python's parser recorded, in any part."""
    return [f"{part.get_content_type()}: {d!r}" for part in message.walk() for d in part.defects]


def python_attachments(message: EmailMessage) -> list[Attached]:
    """Every non-text leaf part, in order."""
    found: list[Attached] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() == "text":
            continue
        cid = part["Content-ID"]
        found.append(
            (
                part.get_filename() or "",
                part.get_content_type(),
                part.get_content_disposition() or "",
                str(cid).strip("<>") if cid else None,
                bytes(part.get_payload(decode=True)),
            )
        )
    return found


def addresses(header: Any) -> list[tuple[str, str]]:
    """``(addr_spec, display_name)`` of an address header parsed with ``policy.default``."""
    return [(a.addr_spec, a.display_name) for a in header.addresses] if header else []


def js_addresses(entries: list[dict[str, str]]) -> list[tuple[str, str]]:
    """mailparser's addresses, domains back in A-label form for comparison."""
    result = []
    for entry in entries:
        local, _, domain = entry["address"].rpartition("@")
        result.append((f"{local}@{domain.encode('idna').decode()}", entry["name"]))
    return result
