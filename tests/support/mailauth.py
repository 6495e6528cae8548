"""mailauth's DKIM verdicts with keys fetched from the simulated DNS (see independent.py)."""

from __future__ import annotations

import re

from simnet.dns import DNSServer
from support.dkim_check import dns_txt_lookup
from support.independent import inspect_eml


def _published_keys(raw: bytes, server: DNSServer) -> dict[str, str]:
    """The TXT records a receiver would fetch for the message's DKIM signatures."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    lookup = dns_txt_lookup(server)
    records: dict[str, str] = {}
    for header in re.findall(rb"(?im)^dkim-signature:(?:.*\r\n[ \t].*)*.*", head):
        unfolded = re.sub(rb"\r\n[ \t]+", b" ", header)
        selector = re.search(rb"\bs=([^;\s]+)", unfolded)
        domain = re.search(rb"\bd=([^;\s]+)", unfolded)
        if selector and domain:
            name = f"{selector.group(1).decode()}._domainkey.{domain.group(1).decode()}"
            value = lookup(name.encode())
            if value is not None:
                records[name] = value.decode()
    return records


def mailauth_results(raw: bytes, server: DNSServer) -> list[tuple[str, str, str]]:
    """``(algorithm, selector, result)`` per DKIM signature, top first."""
    report = inspect_eml(raw, _published_keys(raw, server))
    return [(r["algorithm"], r["selector"], r["result"]) for r in report["dkim"]]
