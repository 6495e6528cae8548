"""Where to deliver mail for a domain (RFC 5321 §5.1, null MX per RFC 7505)."""

from __future__ import annotations

import random

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver
from msgspec import Struct


class MailHost(Struct, frozen=True):
    """One host to try, with its addresses in the order to try them."""

    name: str
    addresses: tuple[str, ...]


class Route(Struct, frozen=True):
    """The hosts to try in order, or why there are none."""

    hosts: tuple[MailHost, ...] = ()
    permanent_error: str = ""
    temporary_error: str = ""


_TEMPORARY = (dns.resolver.NoNameservers, dns.exception.Timeout, dns.resolver.LifetimeTimeout)


async def _addresses(resolver: dns.asyncresolver.Resolver, name: str) -> tuple[str, ...]:
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = await resolver.resolve(name, rdtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        found.extend(r.to_text() for r in answer)
    return tuple(found)


def _order(records: list[tuple[int, str]], rng: random.Random) -> list[str]:
    """Lowest preference first; hosts of equal preference in random order."""
    shuffled = records[:]
    rng.shuffle(shuffled)
    return [host for _, host in sorted(shuffled, key=lambda r: r[0])]


async def resolve_route(
    resolver: dns.asyncresolver.Resolver, domain: str, rng: random.Random | None = None
) -> Route:
    """The MX hosts of ``domain`` with their addresses, or a permanent/temporary error."""
    try:
        try:
            answer = await resolver.resolve(domain, "MX")
            records = [(r.preference, r.exchange.to_text().rstrip(".")) for r in answer]
        except dns.resolver.NoAnswer:
            records = []
        if any(host in ("", ".") for _, host in records):
            return Route(permanent_error=f"{domain} does not accept mail (null MX)")
        if not records:
            addresses = await _addresses(resolver, domain)  # implicit MX
            if not addresses:
                return Route(permanent_error=f"{domain} has no MX and no address records")
            return Route(hosts=(MailHost(domain, addresses),))
        hosts = []
        for name in _order(records, rng or random.Random()):
            addresses = await _addresses(resolver, name)
            if addresses:
                hosts.append(MailHost(name, addresses))
        if not hosts:
            return Route(temporary_error=f"no MX host of {domain} has an address")
        return Route(hosts=tuple(hosts))
    except dns.resolver.NXDOMAIN:
        return Route(permanent_error=f"{domain} does not exist (NXDOMAIN)")
    except _TEMPORARY as exc:
        return Route(temporary_error=f"DNS lookup for {domain} failed: {type(exc).__name__}")
