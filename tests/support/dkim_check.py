"""Verify DKIM signatures the way a receiver would: keys fetched from the test DNS server."""

from __future__ import annotations

import re

import dkim
import dns.resolver

from simnet.dns import DNSServer


def dns_txt_lookup(server: DNSServer):  # type: ignore[no-untyped-def]
    """A dkimpy ``dnsfunc`` that asks ``server`` for TXT records."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(b"".join(r.strings) for r in answer)

    return lookup


def signature_algorithms(raw: bytes) -> list[str]:
    """The ``a=`` tags of the message's DKIM-Signature headers, top first."""
    return re.findall(r"a=([a-z0-9-]+);", raw.decode("ascii", "replace"))


def verify_all(raw: bytes, server: DNSServer) -> list[bool]:
    """One result per DKIM-Signature header, verified with keys from ``server``."""
    count = len(signature_algorithms(raw))
    checker = dkim.DKIM(raw)
    lookup = dns_txt_lookup(server)
    return [bool(checker.verify(idx=i, dnsfunc=lookup)) for i in range(count)]
